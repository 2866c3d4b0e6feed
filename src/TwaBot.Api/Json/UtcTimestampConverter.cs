using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TwaBot.Api.Json;

/// <summary>
/// Timestamps on the wire are UTC ISO-8601 with exactly three fractional digits and a <c>Z</c>
/// (<c>2026-04-14T10:30:45.000Z</c>), as in the public docs. Input accepts any ISO-8601 form.
/// </summary>
public sealed class UtcTimestampConverter : JsonConverter<DateTime>
{
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String
            && DateTimeOffset.TryParse(reader.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value.UtcDateTime;
        }

        throw new JsonException("Expected an ISO-8601 timestamp such as 2026-04-14T10:30:45.000Z.");
    }

    public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(ToWire(value));
    }

    public static string ToWire(DateTime value) =>
        (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).ToString(Format, CultureInfo.InvariantCulture);
}
