namespace TwaBot.Api.ApiKeys;

/// <summary>The permission names a key can hold (public docs, "API Key Permissions").</summary>
public static class ApiKeyPermissions
{
    public const string SendTemplate = "send_template";
    public const string SendText = "send_text";
    public const string SendMedia = "send_media";
    public const string SendOtp = "send_otp";
    public const string All = "*";

    public static IReadOnlyList<string> Known { get; } = [SendTemplate, SendText, SendMedia, SendOtp, All];

    public static bool IsKnown(string permission) => Known.Contains(permission);

    public static bool Grants(IReadOnlyCollection<string> held, string needed) =>
        held.Contains(All) || held.Contains(needed);

    /// <summary>Stored form: known names only, de-duplicated; <c>*</c> alone when present.</summary>
    public static List<string> Normalize(IEnumerable<string> permissions)
    {
        var distinct = permissions.Distinct(StringComparer.Ordinal).ToList();
        return distinct.Contains(All) ? [All] : Known.Where(distinct.Contains).ToList();
    }
}
