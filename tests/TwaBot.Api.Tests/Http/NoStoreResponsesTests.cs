using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>
/// Answers of the API and the admin API, successes and errors alike, are never stored by a cache, and
/// never sniffed as another content type (errors echo the caller's input).
/// </summary>
public class NoStoreResponsesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task SendsQuickSendsErrorsAndNewKeysAreNeverStored()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        using var anonymous = factory.CreateClient();

        HttpResponseMessage[] responses =
        [
            await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } }),
            await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-12345,x"),
            await tenant.Client.GetAsync("/api/v1/message-status/wamid.unknown"),
            await anonymous.GetAsync("/api/v1/templates"),
            await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/api-keys", new { name = "CRM", permissions = new[] { "*" } }),
            // Refused by the exception handler, which clears the headers set so far.
            await admin.PostAsync("/admin/v1/businesses", new StringContent("{", System.Text.Encoding.UTF8, "application/json")),
            await anonymous.GetAsync("/api/health"), // a route guessed, outside /api/v1
        ];

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.NotFound, HttpStatusCode.Unauthorized, HttpStatusCode.Created,
                HttpStatusCode.BadRequest, HttpStatusCode.NotFound],
            responses.Select(r => r.StatusCode));
        Assert.All(responses, response => Assert.True(response.Headers.CacheControl?.NoStore, response.RequestMessage?.RequestUri?.ToString()));
        Assert.All(responses, response => Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task AnswersThatEchoTheCallerOutsideTheApiAreNotSniffedEither()
    {
        // The sandbox's verify token is public, so anyone can have hub.challenge echoed; a missing route echoes its path.
        using var anonymous = factory.CreateClient();

        HttpResponseMessage[] responses =
        [
            await anonymous.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token&hub.challenge=%3Cscript%3Ex%3C%2Fscript%3E"),
            await anonymous.GetAsync("/%3Cscript%3Ex"),
        ];

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.NotFound], responses.Select(r => r.StatusCode));
        Assert.Equal("<script>x</script>", await responses[0].Content.ReadAsStringAsync());
        Assert.All(responses, response => Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options")));
    }

    [Fact]
    public async Task NoPageIsFramedByAnotherSite()
    {
        // The Swagger UI is a page: framed by another site, its buttons could be clicked through a disguise.
        using var anonymous = factory.CreateClient();

        HttpResponseMessage[] responses =
        [
            await anonymous.GetAsync("/swagger/index.html"),
            await anonymous.GetAsync("/swagger/v1/swagger.json"),
            await anonymous.GetAsync("/api/v1/templates"),
        ];

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.Unauthorized], responses.Select(r => r.StatusCode));
        Assert.All(responses, response => Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options")));
    }
}
