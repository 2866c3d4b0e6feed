using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>
/// <c>POST /sandbox/v1/inbound</c> when the receiver answers its webhook with no 200 (here it cannot store deliveries):
/// the emulator tries a few times, then answers <c>"delivered": false</c>, and the customer's message has opened nothing.
/// </summary>
public sealed class InboundNotDeliveredTests : IAsyncLifetime
{
    private const int InboundAttempts = 4; // SandboxWebhookSender's, for a caller who waits

    private readonly TwaBotApiFactory _factory = new();

    [Fact]
    public async Task ACustomerMessageTheReceiverRefusesIsToldNotDelivered()
    {
        var tenant = await _factory.CreateSendingTenantAsync();
        await _factory.InboxSqlAsync("CREATE TRIGGER refuse_store BEFORE INSERT ON webhook_inbox BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
        using var admin = _factory.CreateAdminClient();

        var answer = await (await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = "919876543210", text = "Hi" })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.False(answer.GetProperty("delivered").GetBoolean());
        Assert.StartsWith("wamid.", answer.GetProperty("wamid").GetString(), StringComparison.Ordinal);
        var attempts = _factory.Logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("Sandbox webhook refused", StringComparison.Ordinal))
            .Select(e => e.Properties["Attempt"] is Serilog.Events.ScalarValue { Value: int n } ? n : 0).Order();
        Assert.Equal(Enumerable.Range(1, InboundAttempts), attempts);
        await _factory.WithDbAsync(async db =>
            Assert.False(await db.Contacts.AnyAsync(c => c.BusinessId == tenant.BusinessId && c.LastInboundAt != null))); // no window opened
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
