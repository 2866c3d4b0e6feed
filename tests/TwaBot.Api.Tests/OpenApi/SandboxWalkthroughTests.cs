using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.OpenApi;

/// <summary>
/// The calls a client generated from the document makes, in the order the README walks through them, with
/// nothing in between that a client could not do (no applying of webhooks behind the server's back).
/// </summary>
public class SandboxWalkthroughTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task ATextSentRightAfterTheSandboxSaysTheCustomerWroteFindsTheWindowOpen()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        // Many customers: without the wait the background pass wins the race now and then, never twenty times.
        for (var i = 0; i < 20; i++)
        {
            var phone = $"91987650{i:D4}";
            var inbound = await (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = phone, text = "Hi" }))
                .ReadJsonAsync(HttpStatusCode.OK);
            Assert.True(inbound.GetProperty("delivered").GetBoolean());

            var sent = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone, message = "Thanks for writing" }))
                .ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(phone, sent.GetProperty("phone").GetString());
        }
    }
}
