using System.Net;
using System.Net.Http.Headers;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// Every route that takes a JSON body, with bodies no client should send: each gets a 400 in the
/// envelope, never a 500 or an empty answer, and nothing is stored.
/// </summary>
public class MalformedBodyTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly string[] Routes =
    [
        "POST /api/v1/send-template", "POST /api/v1/send-text", "POST /api/v1/send-media", "POST /api/v1/send-otp",
        "POST /admin/v1/businesses", "PATCH /admin/v1/businesses/{business}", "PUT /admin/v1/businesses/{business}/whatsapp",
        "POST /admin/v1/businesses/{business}/api-keys", "PATCH /admin/v1/api-keys/{key}",
        "POST /admin/v1/businesses/{business}/suppressions", "POST /admin/v1/businesses/{business}/suppressions/import",
        "POST /admin/v1/businesses/{business}/templates",
        "POST /sandbox/v1/inbound",
    ];

    private static readonly (string Name, byte[] Bytes)[] Bodies =
    [
        ("invalid UTF-8", [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D]),
        ("nested deeper than JSON's limit", Bytes(string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100))),
        ("a number too big for any field", Bytes("{\"phone\": 1e400, \"name\": 1e400}")),
        ("an array", Bytes("[{\"phone\":\"919876543210\"}]")),
        ("a string", Bytes("\"919876543210\"")),
        ("null", Bytes("null")),
        ("truncated", Bytes("{\"phone\":\"9198")),
    ];

    public static TheoryData<string, string> Cases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var route in Routes)
        {
            foreach (var (name, _) in Bodies)
            {
                cases.Add(route, name);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task AMalformedBodyIsA400InTheEnvelopeAndStoresNothing(string route, string body)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        using var admin = factory.CreateAdminClient();
        var keyId = tenant.KeyId;
        var (method, path) = (route.Split(' ')[0], route.Split(' ')[1]
            .Replace("{business}", tenant.BusinessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{key}", keyId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        var client = path.StartsWith("/api/", StringComparison.Ordinal) ? tenant.Client : admin;
        var content = new ByteArrayContent(Bodies.Single(b => b.Name == body).Bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var before = await StoredAsync(tenant.BusinessId);

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = content });

        // The code depends on what the route reads first (a body whose only bad bytes sit in a field the
        // route ignores is missing its phone, say); the shape does not.
        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error_code").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetString()));
        Assert.Equal(before, await StoredAsync(tenant.BusinessId));
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    /// <summary>What a request could have written for the business, in one comparable line.</summary>
    private async Task<string> StoredAsync(long businessId)
    {
        var stored = "";
        await factory.WithDbAsync(async db =>
        {
            var business = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
                db.Businesses, b => b.Id == businessId);
            stored = string.Join('|', business.Name, business.Plan, business.TimeZone,
                db.Messages.Count(m => m.BusinessId == businessId), db.ApiKeys.Count(k => k.BusinessId == businessId),
                db.Suppressions.Count(s => s.BusinessId == businessId), db.Templates.Count(t => t.BusinessId == businessId),
                db.WhatsAppConnections.Where(w => w.BusinessId == businessId).Select(w => w.PhoneNumberId + w.ProtectedAccessToken).Single(),
                db.Businesses.Count(), db.InboundMessages.Count());
        });
        return stored;
    }
}
