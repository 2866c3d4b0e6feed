using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>The inbox file fails to forget applied deliveries (a disk error): the processor carries on.</summary>
public sealed class InboxForgetFailureTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = TwaBotApiFactory.Start;
    private readonly TwaBotApiFactory _factory = new();

    [Fact]
    public async Task AFailedForgetDoesNotStopLaterPasses()
    {
        var businessId = await _factory.CreateBusinessAsync();
        var phoneNumberId = await _factory.ConnectWhatsAppAsync(businessId);
        await _factory.InboxSqlAsync("CREATE TRIGGER refuse_forget BEFORE DELETE ON webhook_inbox BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;");

        // Applied, then its forget fails: every later pass used to throw at that failed commit, so parked
        // statuses and retries waited for the next delivery.
        (await _factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.kept-1", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        await _factory.ApplyWebhooksAsync();
        await _factory.InboxSqlAsync("DROP TRIGGER refuse_forget;");
        await _factory.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message { Reference = MessageReferences.New(), BusinessId = businessId, ApiKeyId = 1, Wamid = "wamid.kept-1", To = "919876543210", Kind = MessageKinds.Text, ApiStatus = ApiStatuses.Success });
            await db.SaveChangesAsync();
        });

        await _factory.ApplyWebhooksAsync();

        await _factory.WithDbAsync(async db =>
            Assert.Equal("delivered", (await db.Messages.SingleAsync(m => m.Wamid == "wamid.kept-1")).DeliveryStatus));
        // Logged once, by the pass that found it failed, not again by each pass after it.
        Assert.Single(_factory.Logs.Events, e => e.MessageTemplate.Text.StartsWith("The inbox file could not forget", StringComparison.Ordinal));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
