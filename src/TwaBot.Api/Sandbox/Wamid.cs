using System.Security.Cryptography;
using System.Text;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// Meta-looking message ids: "wamid." + base64 of the (customer, from-business, key) struct that
/// real ids encode (meta-cloud-api.md §7), so ids from the sandbox look and sort like real ones.
/// </summary>
public static class Wamid
{
    public static string Outbound(string phone) => Create(phone, fromBusiness: true, keyBytes: 9);

    public static string Inbound(string phone) => Create(phone, fromBusiness: false, keyBytes: 10);

    private static string Create(string phone, bool fromBusiness, int keyBytes)
    {
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(keyBytes));
        var bytes = new List<byte> { 0x1C, 0x18, (byte)phone.Length };
        bytes.AddRange(Encoding.ASCII.GetBytes(phone));
        bytes.AddRange([0x15, 0x02, 0x00, fromBusiness ? (byte)0x11 : (byte)0x12, 0x18, (byte)key.Length]);
        bytes.AddRange(Encoding.ASCII.GetBytes(key));
        bytes.Add(0x00);
        return "wamid." + Convert.ToBase64String([.. bytes]);
    }
}
