using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// Every endpoint that takes fields (sends, quick-send, the admin API, the sandbox's inbound) with random
/// values in them (valid ones, wrong JSON types, control characters, emoji, very long text, nesting), from a
/// fixed seed so a failure replays: each answer is a success or an error in the documented envelope, never
/// a 5xx.
/// </summary>
public class FieldFuzzTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const int RequestsPerRoute = 40;

    private static readonly Dictionary<string, string[]> Fields = new(StringComparer.Ordinal)
    {
        ["POST /api/v1/send-template"] = ["phone", "template_name", "language", "body_params", "header_params"],
        ["POST /api/v1/send-text"] = ["phone", "message"],
        ["POST /api/v1/send-media"] = ["phone", "media_type", "media_url", "caption", "filename"],
        ["POST /api/v1/send-otp"] = ["phone", "template_name", "otp", "language"],
        ["GET /api/v1/quick-send"] = ["phone", "template", "lang", "params", "message"],
        ["POST /admin/v1/businesses"] = ["name", "plan", "time_zone"],
        ["PATCH /admin/v1/businesses/{business}"] = ["name", "plan", "time_zone"],
        ["PUT /admin/v1/businesses/{business}/whatsapp"] = ["phone_number_id", "waba_id", "access_token", "display_phone_number", "sandbox"],
        ["POST /admin/v1/businesses/{business}/api-keys"] = ["name", "permissions", "per_minute_limit", "daily_limit", "expires_at"],
        ["PATCH /admin/v1/api-keys/{key}"] = ["name", "permissions", "per_minute_limit", "daily_limit", "expires_at"],
        ["POST /admin/v1/businesses/{business}/suppressions"] = ["phone", "state", "reason"],
        ["POST /admin/v1/businesses/{business}/templates"] = ["name", "language", "category", "body", "display_name", "header_text", "footer_text", "variables"],
        ["POST /sandbox/v1/inbound"] = ["business_id", "from", "text", "name", "timestamp"],
    };

    public static TheoryData<string> Routes() => [.. Fields.Keys];

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task RandomFieldValuesGetASuccessOrAnErrorInTheEnvelopeNeverA5xx(string route)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210"); // so that free-form sends can succeed too
        using var admin = factory.CreateAdminClient();
        var (method, path) = (route.Split(' ')[0], route.Split(' ')[1]
            .Replace("{business}", tenant.BusinessId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{key}", tenant.KeyId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var client = path.StartsWith("/api/", StringComparison.Ordinal) ? tenant.Client : admin;
        var random = new Random(route.Length * 7919); // fixed: the same requests on every run

        for (var i = 0; i < RequestsPerRoute; i++)
        {
            // Well-typed values reach the deeper steps (templates, Meta); one or all fields anything at all test the binding.
            var fields = Fields[route];
            var odd = random.Next(3) switch { 0 => [], 1 => [fields[random.Next(fields.Length)]], _ => fields };
            var values = new JsonObject();
            foreach (var field in fields.Where(_ => random.Next(10) < 9))
            {
                values[field] = odd.Contains(field) ? Value(random, field, tenant.BusinessId) : Plausible(random, field, tenant.BusinessId);
            }

            using var request = new HttpRequestMessage(new HttpMethod(method), method == "GET" ? path + QueryString(values) : path);
            request.Content = method == "GET" ? null : Json(values);
            using var response = await client.SendAsync(request);

            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"{route} {values.ToJsonString()} -> {(int)response.StatusCode} {body}");
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
    private static JsonNode? Value(Random random, string field, long businessId) => random.Next(12) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next(-1000, 1_000_000_000)),
        3 => JsonValue.Create(random.NextDouble() * 1e300),
        4 => new JsonArray(Text(random), JsonValue.Create(7), null),
        5 => new JsonObject { ["nested"] = new JsonArray(new JsonObject { ["deeper"] = Text(random) }) },
        6 => JsonValue.Create(new string('x', random.Next(1000, 6000))),
        7 => new JsonArray([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => (JsonNode?)JsonValue.Create(Text(random)))]),
        _ => Plausible(random, field, businessId),
    };

    private static JsonNode? Plausible(Random random, string field, long businessId) => field switch
    {
        "business_id" => JsonValue.Create(random.Next(4) == 0 ? businessId + 1000 : businessId),
        "plan" => Pick(random, "Starter", "Growth", "Pro", "Enterprise", "pro", ""),
        "time_zone" => Pick(random, "Asia/Kolkata", "UTC", "Mars/Olympus", "+05:30", ""),
        "phone_number_id" or "waba_id" => Pick(random, "109876543210", "1", "", "abc"),
        "access_token" => Pick(random, "EAAG" + new string('x', 40), "EAAG\r\nX: 1", "tøken", ""),
        "display_phone_number" or "from" => Pick(random, "15550783881", "919812345678", "+1 555", "x"),
        "sandbox" => JsonValue.Create(random.Next(2) == 0),
        "permissions" => new JsonArray([.. Enumerable.Range(0, random.Next(1, 4)).Select(_ => (JsonNode?)Pick(random, "send_template", "send_text", "send_media", "*", "admin"))]),
        "per_minute_limit" or "daily_limit" => JsonValue.Create(random.Next(4) == 0 ? random.Next(-5, 100_000) : random.Next(1, 100)),
        "expires_at" => Pick(random, "2030-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "tomorrow"),
        "state" => Pick(random, "blocked", "opted_out", "paused", ""),
        "category" => Pick(random, "UTILITY", "MARKETING", "AUTHENTICATION", "utility", "OTHER"),
        "body" => Pick(random, "Hi {{1}}, your order {{2}} is ready.", "{{1}}", "Hi {{1}} {{3}}", ""),
        "variables" => new JsonArray([.. Enumerable.Range(0, random.Next(4) == 0 ? random.Next(0, 4) : 2).Select(_ => (JsonNode?)JsonValue.Create("Rahul"))]),
        "timestamp" => JsonValue.Create(random.Next(3) == 0 ? long.MaxValue : 1_776_000_000L + random.Next(-100_000, 100_000)),
        "phone" => Pick(random, "919876543210", "919876543210", "+91 98765 43210", "9876543210", "12", "+1-415-555-1234", "919876540000", "phone"),
        "template_name" or "template" or "name" or "display_name" => Pick(random, "order_confirmation", "order_confirmation", "otp_verification", "missing_template", "Order Confirmation", ""),
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
