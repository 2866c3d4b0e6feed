using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace TwaBot.Api.Sending.Idempotency;

/// <summary>
/// One spelling of a JSON document, so that a retry that serializes the same request differently (its fields in another
/// order, other whitespace, <c>\u00e9</c> for <c>é</c>) is still the same request to its <c>Idempotency-Key</c>: objects'
/// members sorted by name, a member whose value is <c>null</c> left out (a send reads it as absent, and one library writes
/// the fields it was not given as null where another leaves them out), no whitespace, strings re-escaped one way. Numbers keep their text (<c>1</c> and <c>1.0</c>
/// stay different: a send's fields are strings, and calling them different only costs the caller a 422, never a
/// replay of another request).
/// </summary>
public static class CanonicalJson
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF]; // read past by the send's own parsing too

    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    /// <summary>The canonical bytes, or null when <paramref name="json"/> is not a JSON document.</summary>
    /// <param name="json">The document.</param>
    /// <param name="keepNullMembers">True for the form of versions before 2026-12-06, which kept null members.</param>
    public static byte[]? Of(ReadOnlyMemory<byte> json, bool keepNullMembers = false)
    {
        try
        {
            using var document = JsonDocument.Parse(json.Span.StartsWith(Utf8Bom) ? json[Utf8Bom.Length..] : json);
            var buffer = new ArrayBufferWriter<byte>(Math.Max(json.Length, 1));
            using (var writer = new Utf8JsonWriter(buffer, Compact))
            {
                Write(writer, document.RootElement, keepNullMembers);
            }

            return buffer.WrittenSpan.ToArray();
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException)
        {
            // Not JSON, or a string no text can hold (a lone surrogate's escape): the send's validation refuses it,
            // and a refused send keeps nothing under its key.
            return null;
        }
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element, bool keepNullMembers)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var member in element.EnumerateObject().OrderBy(m => m.Name, StringComparer.Ordinal))
                {
                    if (member.Value.ValueKind == JsonValueKind.Null && !keepNullMembers)
                    {
                        continue;
                    }

                    writer.WritePropertyName(member.Name);
                    Write(writer, member.Value, keepNullMembers);
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item, keepNullMembers); // a null value in an array stays: it holds a place
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            default: // numbers as written, true, false, null
                writer.WriteRawValue(element.GetRawText(), skipInputValidation: true);
                break;
        }
    }
}
