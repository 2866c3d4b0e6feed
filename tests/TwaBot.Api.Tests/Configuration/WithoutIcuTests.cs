using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Configuration;

/// <summary>
/// The server binary with DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1, as a slim image without ICU runs it (docs/operations.md, ICU
/// and time zones): there .NET's compatibility normalization and IDNA leave fullwidth forms as they are, so the server maps them itself.
/// </summary>
public sealed class WithoutIcuTests
{
    [Fact]
    public async Task FullwidthKeywordsAndHostsAreReadAsWithIcu()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1" });
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", server.SeededApiKey());
        using var admin = server.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", server.PrintedAdminKey());
        const string customer = "919876500001";

        (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = 1, from = customer, text = "\uFF33\uFF34\uFF2F\uFF30\uFF01\u2026" })) // ＳＴＯＰ！…
            .EnsureSuccessStatusCode();
        var template = await client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = customer, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });
        var media = await client.PostAsJsonAsync("/api/v1/send-media", new
        {
            phone = customer, media_type = "document", media_url = "http://\uFF11\uFF12\uFF17\uFF0E\uFF10\uFF0E\uFF10\uFF0E\uFF11/invoice.pdf", // １２７．０．０．１
        });

        await template.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("media_url", (await media.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        foreach (var host in new[] { "127\u30020\u30020\u30021", "127\uFF610\uFF610\uFF611" }) // ideographic and halfwidth full stops: read as dots by Uri itself
        {
            var stops = await client.PostAsJsonAsync("/api/v1/send-media", new { phone = customer, media_type = "document", media_url = $"http://{host}/invoice.pdf" });
            Assert.Equal("media_url", (await stops.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        }
    }
}
