using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwaBot.Api.Json;

/// <summary>
/// Timestamps on the wire are UTC ISO-8601 with exactly three fractional digits and a <c>Z</c>
/// (<c>2026-04-14T10:30:45.000Z</c>), as in the public docs. Input takes ISO-8601 forms only (a date, a date
/// and time, with or without seconds, fractions and an offset; no offset is UTC): .NET's own parsing also
/// reads <c>01/12/2026</c>, as the 12th of January, where an admin in India means the 1st of December.
/// </summary>
public sealed partial class UtcTimestampConverter : JsonConverter<DateTime>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>The reading error, told apart by the API's error envelope to name the format.</summary>
    public const string NotIsoMessage = "Expected an ISO-8601 timestamp such as 2026-04-14T10:30:45.000Z.";

    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } text && IsoTimestamp().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value.UtcDateTime;
        }

        throw new JsonException(NotIsoMessage);
    }

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(ToWire(value));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([Zz]|[+-]\d{2}:?\d{2})?)?$")]
    private static partial System.Text.RegularExpressions.Regex IsoTimestamp();

    public static string ToWire(DateTime value) =>
        (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).ToString(Format, CultureInfo.InvariantCulture);
}
