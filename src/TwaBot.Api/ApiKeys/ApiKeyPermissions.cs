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

    /// <summary>In any letter case ("SEND_TEXT"), as the admin API reads plans and states.</summary>
    public static bool IsKnown(string permission) => Canonical(permission) is not null;

    public static bool Grants(IReadOnlyCollection<string> held, string needed) =>
        held.Contains(All) || held.Contains(needed);

    /// <summary>Stored form: known names only, as the docs spell them, de-duplicated; <c>*</c> alone when present.</summary>
    public static List<string> Normalize(IEnumerable<string> permissions)
    {
        var named = permissions.Select(Canonical).OfType<string>().ToHashSet(StringComparer.Ordinal);
        return named.Contains(All) ? [All] : Known.Where(named.Contains).ToList();
    }

    private static string? Canonical(string permission) =>
        Known.FirstOrDefault(known => string.Equals(known, permission, StringComparison.OrdinalIgnoreCase));
}
