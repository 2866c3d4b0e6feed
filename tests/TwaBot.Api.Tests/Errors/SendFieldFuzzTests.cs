using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// Every send endpoint with random values in its fields (valid ones, wrong JSON types, control characters,
/// emoji, very long text, nesting), from a fixed seed so a failure replays: each answer is a success or an
/// error in the documented envelope, never a 5xx.
/// </summary>
public class SendFieldFuzzTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const int RequestsPerEndpoint = 60;

    private static readonly Dictionary<string, string[]> Fields = new(StringComparer.Ordinal)
    {
        ["/api/v1/send-template"] = ["phone", "template_name", "language", "body_params", "header_params"],
        ["/api/v1/send-text"] = ["phone", "message"],
        ["/api/v1/send-media"] = ["phone", "media_type", "media_url", "caption", "filename"],
        ["/api/v1/send-otp"] = ["phone", "template_name", "otp", "language"],
        ["/api/v1/quick-send"] = ["phone", "template", "lang", "params", "message"],
    };

    public static TheoryData<string> Endpoints() => [.. Fields.Keys];

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task RandomFieldValuesGetASuccessOrAnErrorInTheEnvelopeNeverA5xx(string path)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210"); // so that free-form sends can succeed too
        var random = new Random(path.Length * 7919); // fixed: the same requests on every run

        for (var i = 0; i < RequestsPerEndpoint; i++)
        {
            // Well-typed values reach the deeper steps (templates, Meta); one or all fields anything at all test the binding.
            var fields = Fields[path];
            var odd = random.Next(3) switch { 0 => [], 1 => [fields[random.Next(fields.Length)]], _ => fields };
            var values = new JsonObject();
            foreach (var field in fields.Where(_ => random.Next(10) < 9))
            {
                values[field] = odd.Contains(field) ? Value(random, field) : Plausible(random, field);
            }

            using var response = path.EndsWith("quick-send", StringComparison.Ordinal)
                ? await tenant.Client.GetAsync(path + QueryString(values))
                : await tenant.Client.PostAsync(path, Json(values));

            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"{path} {values.ToJsonString()} -> {(int)response.StatusCode} {body}");
            using var json = JsonDocument.Parse(body);
            var success = json.RootElement.GetProperty("success").GetBoolean();
            Assert.Equal(response.IsSuccessStatusCode, success);
            if (!success)
            {
                Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error").GetString()), body);
                Assert.False(string.IsNullOrEmpty(json.RootElement.GetProperty("error_code").GetString()), body);
            }
        }
    }

    /// <summary>A value for the field: sometimes a plausible one, otherwise anything JSON can carry.</summary>
    private static JsonNode? Value(Random random, string field) => random.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next(-1000, 1_000_000_000)),
        3 => JsonValue.Create(random.NextDouble() * 1e300),
        4 => new JsonArray(Text(random), JsonValue.Create(7), null),
        5 => new JsonObject { ["nested"] = new JsonArray(new JsonObject { ["deeper"] = Text(random) }) },
        6 => JsonValue.Create(new string('x', random.Next(1000, 6000))),
        7 => new JsonArray([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => (JsonNode?)JsonValue.Create(Text(random)))]),
        _ => Plausible(random, field),
    };

    private static JsonNode? Plausible(Random random, string field) => field switch
    {
        "phone" => Pick(random, "919876543210", "919876543210", "+91 98765 43210", "9876543210", "12", "+1-415-555-1234", "919876540000", "phone"),
        "template_name" or "template" => Pick(random, "order_confirmation", "order_confirmation", "otp_verification", "missing_template", "Order Confirmation", ""),
        "language" or "lang" => Pick(random, "en", "en_US", "EN", "english", ""),
        "body_params" => new JsonArray([.. Enumerable.Range(0, random.Next(2, 5)).Select(_ => (JsonNode?)JsonValue.Create(Text(random)))]),
        "header_params" => new JsonArray([.. Enumerable.Range(0, random.Next(0, 2)).Select(_ => (JsonNode?)JsonValue.Create(Text(random)))]),
        "params" => string.Join(',', Enumerable.Range(0, random.Next(2, 5)).Select(_ => Text(random))),
        "media_type" => Pick(random, "image", "document", "video", "audio", "sticker", "IMAGE"),
        "media_url" => Pick(random, "https://example.com/a.jpg", "http://example.com/a.pdf", "ftp://x", "/relative", "https://", "javascript:alert(1)"),
        "otp" => Pick(random, "123456", "12", "12345678901234567", "abcdef", ""),
        _ => Text(random),
    };

    private static string Text(Random random)
    {
        string[] pieces = ["Rahul", "ORD-12345", "₹1,499", "😀", "\u0000", "\n", "\t", "     ", "\\,", ",", "שלום", "<b>", "'; DROP TABLE messages;--", "\u202E", "a"];
        return string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => pieces[random.Next(pieces.Length)]));
    }

    private static JsonValue Pick(Random random, params string[] values) => JsonValue.Create(values[random.Next(values.Length)]);

    private static StringContent Json(JsonObject values) =>
        new(values.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static string QueryString(JsonObject values) => "?" + string.Join('&', values.Select(pair =>
        $"{pair.Key}={Uri.EscapeDataString(pair.Value is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : pair.Value?.ToJsonString() ?? "")}"));
}
