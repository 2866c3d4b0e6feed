using System.Text.Json;

namespace TwaBot.Api.Meta;

/// <summary>
/// Reading JSON that Meta (or whatever answers at its address) sends, without trusting its shape:
/// <see cref="JsonElement"/> throws InvalidOperationException when asked for a property of a number or
/// for the number in a string, and an answer or a webhook must never fail with anything but a typed
/// result or a JsonException.
/// </summary>
public static class MetaJson
{
    /// <summary>The property, when <paramref name="element"/> is an object that has it.</summary>
    public static bool Has(JsonElement element, string name, out JsonElement value)
    {
        value = default;
        return element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out value);
    }

    /// <summary>The property's text, when it is a string of valid text.</summary>
    public static string? Str(JsonElement element, string name) =>
        Has(element, name, out var value) ? Text(value) : null;

    /// <summary>
    /// The element's text, when it is a string of valid text: a lone surrogate escape (<c>\ud800</c>) or bytes
    /// that are not UTF-8 are valid JSON syntax, yet <see cref="JsonElement.GetString"/> throws for them.
    /// </summary>
    public static string? Text(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The property's whole number, when it is one.</summary>
    public static int? WholeNumber(JsonElement element, string name) =>
        Has(element, name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;

    /// <summary>
    /// An id's text, written as a string or as a JSON number: template ids come as numbers in some payloads and strings in
    /// others, and a wa_id may too (whatsapp-api-js types new_wa_id as either).
    /// </summary>
    public static string? IdString(JsonElement element, string name) =>
        !Has(element, name, out var value) ? null
        : value.ValueKind == JsonValueKind.Number ? value.GetRawText()
        : Text(value);

    /// <summary>The property's items, or none when it is not an array.</summary>
    public static IEnumerable<JsonElement> Array(JsonElement element, string name) =>
        Has(element, name, out var array) && array.ValueKind == JsonValueKind.Array ? array.EnumerateArray() : [];
}
