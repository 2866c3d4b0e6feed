using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace TwaBot.Api.Sandbox;

/// <summary>What every emulated Graph call reads from its request: the bearer token, the JSON body and its text fields.</summary>
internal static class GraphRequest
{
    internal static bool BearerMatches(HttpRequest request, string? token)
    {
        if (token is null)
        {
            return false; // stored, but not decryptable with this key ring
        }

        var header = request.Headers.Authorization.ToString();
        // The scheme in any case, as HTTP has it (RFC 9110 §11.1).
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..]), Encoding.UTF8.GetBytes(token));
    }

    /// <summary>
    /// The body as JSON, or null when it is not JSON whose names and texts can all be read: a name given twice, a byte
    /// that is not UTF-8 or half a surrogate pair would otherwise throw where a field is read (a 500, not Meta's answer).
    /// </summary>
    internal static async Task<JsonNode?> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            var json = await JsonNode.ParseAsync(request.Body, documentOptions: Strict, cancellationToken: cancellationToken);
            ReadEveryText(json);
            return json;
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>Reads each name and text once, so that one that cannot be read throws here.</summary>
    private static void ReadEveryText(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject json:
                foreach (var (_, value) in json)
                {
                    ReadEveryText(value);
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    ReadEveryText(item);
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                _ = value.GetValue<string>();
                break;
        }
    }

    internal static string? Str(JsonObject? json, string name) =>
        json?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
