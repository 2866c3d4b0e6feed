using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace TwaBot.Bench;

/// <summary>The public docs' send-template example, to a new random Indian mobile number each time.</summary>
public static class SendRequests
{
    public const string FullPath = "/api/v1/send-template";
    public const string ReferencePath = "/sandbox/v1/reference/send";

    // Last four digits the sandbox treats as magic (undeliverable, window closed, throttled, 5xx).
    private static readonly HashSet<string> MagicSuffixes = ["0000", "0047", "0050", "0429", "0500"];
    private static readonly string[] BodyParams = ["Rahul", "ORD-12345", "₹1,499"];
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>A send-template POST to <paramref name="address"/>, with the key when there is one.</summary>
    public static HttpRequestMessage Create(Uri address, string? apiKey, string? phone = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, address)
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new SendTemplate(phone ?? RandomPhone(), "order_confirmation", BodyParams), Json)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (apiKey is not null)
        {
            request.Headers.Add("X-API-Key", apiKey);
        }

        return request;
    }

    /// <summary>91 98 and eight random digits, never one of the sandbox's magic numbers.</summary>
    public static string RandomPhone()
    {
        while (true)
        {
            // Not a secret, just spread: Random is enough here.
            var digits = Random.Shared.Next(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture);
            if (!MagicSuffixes.Contains(digits[^4..]))
            {
                return "9198" + digits;
            }
        }
    }

    private sealed record SendTemplate(string Phone, string TemplateName, string[] BodyParams);
}
