using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Admin;

/// <summary>Field rules shared by the admin endpoints; each failure names its field.</summary>
internal static class AdminRules
{
    public const int MaxBusinessName = 200;
    public const int MaxKeyName = 100;
    public const int MaxReason = 500;

    public const int MaxDisplayPhoneNumber = 32;

    /// <summary>Required text that may span lines (a template body), with no other control characters.</summary>
    public static ApiError? Text(string field, string? value, int maxLength) =>
        string.IsNullOrWhiteSpace(value) ? ApiErrors.Validation(field, $"{field} is required.")
        : TooLong(field, value, maxLength) ?? ControlCharactersBesideLineBreaks(field, value);

    /// <summary>Text that may be absent or span lines (a reason), with no other control characters.</summary>
    public static ApiError? OptionalText(string field, string? value, int maxLength) =>
        value is null ? null : TooLong(field, value, maxLength) ?? ControlCharactersBesideLineBreaks(field, value);

    /// <summary>
    /// Required one-line text (names): no control characters, which would break log lines, console
    /// output and Meta's calls.
    /// </summary>
    public static ApiError? Line(string field, string? value, int maxLength) =>
        string.IsNullOrWhiteSpace(value) ? ApiErrors.Validation(field, $"{field} is required.")
        : TooLong(field, value, maxLength) ?? ControlCharacters(field, value);

    /// <summary>One-line text that may be absent.</summary>
    public static ApiError? OptionalLine(string field, string? value, int maxLength) =>
        value is null ? null : TooLong(field, value, maxLength) ?? ControlCharacters(field, value);

    // Characters as the send limits count them, and Meta its template limits: an emoji is one, not two UTF-16 units.
    private static ApiError? TooLong(string field, string value, int maxLength) => Sending.SendValidation.Characters(value.Trim()) > maxLength
        ? ApiErrors.Validation(field, $"{field} must be at most {maxLength} characters.")
        : null;

    // Each names the character and where it is, as the sends' texts do: it is invisible in most clients' logs and forms.
    private static ApiError? ControlCharacters(string field, string value) =>
        value.AsSpan().IndexOfAny(Unicode.ControlCharacters.All) is var at and >= 0
            ? ApiErrors.Validation(field, $"{field} must be one line without control characters ({Unicode.ControlCharacters.Found(value, at)}).")
            : null;

    private static ApiError? ControlCharactersBesideLineBreaks(string field, string value) =>
        value.AsSpan().IndexOfAny(Unicode.ControlCharacters.BesideLineBreaks) is var at and >= 0
            ? ApiErrors.Validation(field,
                $"{field} must not contain control characters other than line breaks and tabs ({Unicode.ControlCharacters.Found(value, at)}).")
            : null;

    public static ApiError? AccessToken(string? value, int maxLength) =>
        Text("access_token", value, maxLength)
        // A curl line of Meta's docs writes it after "Bearer ": the space alone would be named, not what to leave out.
        ?? (AfterBearer(value!.Trim())
            ? ApiErrors.Validation("access_token",
                "access_token is the token alone: leave out the \"Bearer \" before it (the server writes Meta's Authorization header itself).")
            : null)
        ?? (Meta.MetaAccessToken.IsWellFormed(value.Trim())
            ? null
            : ApiErrors.Validation("access_token", "access_token must be the token Meta issued: letters, digits and - . _ ~ + / only."));

    private static bool AfterBearer(string token) =>
        token.Length > 7 && token.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase) && char.IsWhiteSpace(token[6]);

    /// <summary>An optional text as stored: blank (a form's empty field) is none given, else it is kept without its padding.</summary>
    public static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Starter, Growth or Pro, in any letter case; null for anything else.</summary>
    public static Plan? ParsePlan(string? value) =>
        Enum.GetValues<Plan>().Cast<Plan?>()
            .FirstOrDefault(plan => string.Equals(plan.ToString(), value?.Trim(), StringComparison.OrdinalIgnoreCase));

    public static ApiError? Plan(string? value) => ParsePlan(value) is null
        ? ApiErrors.Validation("plan", "plan must be one of Starter, Growth, Pro.")
        : null;

    public static ApiError? TimeZone(string? value) =>
        TimeZones.IsKnown(value) ? null
        // A PATCH's null: quoting it as '' would read as if an empty text had been sent.
        : value is null ? ApiErrors.Validation("time_zone", "time_zone cannot be null: give an IANA time zone (e.g. Asia/Kolkata).")
        : TimeZones.Meant(value) is { } meant
            ? ApiErrors.Validation("time_zone", $"time_zone '{value}' is not an IANA time zone as written (spelled exactly, capitals and all): did you mean {meant}?")
        // An older name (Asia/Calcutta) is a zone too, where the host's tz database lacks it: say which database.
        : ApiErrors.Validation("time_zone", $"time_zone '{value}' is not an IANA time zone this server's time-zone database holds, spelled exactly (e.g. Asia/Kolkata).");

    public static ApiError? Positive(string field, int? value) => value is < 1
        ? ApiErrors.Validation(field, $"{field} must be at least 1, or null for the default.")
        : null;

    public static ApiError? Future(string field, DateTime? value, DateTime now) => value is { } at && at <= now
        ? ApiErrors.Validation(field, $"{field} must be in the future.")
        : null;

    public static ApiError? Digits(string field, string? value, int maxLength = 32) =>
        string.IsNullOrWhiteSpace(value) || value.Length > maxLength || !value.All(char.IsAsciiDigit)
            ? ApiErrors.Validation(field, $"{field} is required and must be Meta's numeric id.")
            : null;
}
