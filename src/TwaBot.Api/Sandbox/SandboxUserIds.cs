using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// The emulator's business-scoped user ids (BSUIDs): the customer's country, a dot, then 20 digits of a hash of the
/// account and the wa_id (<c>IN.04718856239012745531</c>). Stable, so every webhook about one customer names the same
/// BSUID, and scoped to the account, as Meta's are to the business.
/// </summary>
public static class SandboxUserIds
{
    // Calling code → ISO country, for the numbers the sandbox is tried with most; any other number is "ZZ" (unknown).
    private static readonly Dictionary<string, string> Countries = new(StringComparer.Ordinal)
    {
        ["1"] = "US", ["7"] = "RU", ["20"] = "EG", ["27"] = "ZA", ["33"] = "FR", ["34"] = "ES", ["39"] = "IT", ["44"] = "GB",
        ["49"] = "DE", ["52"] = "MX", ["55"] = "BR", ["61"] = "AU", ["62"] = "ID", ["63"] = "PH", ["81"] = "JP", ["86"] = "CN",
        ["91"] = "IN", ["92"] = "PK", ["234"] = "NG", ["254"] = "KE", ["880"] = "BD", ["966"] = "SA", ["971"] = "AE",
    };

    public static string For(string wabaId, string waId)
    {
        ArgumentNullException.ThrowIfNull(wabaId);
        ArgumentNullException.ThrowIfNull(waId);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(wabaId + ":" + waId));
        var digits = BitConverter.ToUInt64(hash, 0).ToString("D20", CultureInfo.InvariantCulture);
        return Country(waId) + "." + digits;
    }

    private static string Country(string waId)
    {
        // Calling codes are prefix-free: at most one of the first three prefixes is one.
        for (var length = 1; length <= Math.Min(3, waId.Length); length++)
        {
            if (Countries.TryGetValue(waId[..length], out var country))
            {
                return country;
            }
        }

        return "ZZ";
    }
}
