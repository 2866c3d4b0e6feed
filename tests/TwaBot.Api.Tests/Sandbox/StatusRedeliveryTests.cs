using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>Like Meta, the emulator delivers a status report again until the receiver answers 200.</summary>
public sealed class StatusRedeliveryTests : IAsyncLifetime
{
    private readonly TwaBotApiFactory _factory = new();

    [Fact]
    public async Task ReportsTheReceiverRefusedForSecondsStillArrive()
    {
        var tenant = await _factory.CreateSendingTenantAsync();
        // The receiver cannot store deliveries (as with a full disk): it answers 500 to each.
        await _factory.InboxSqlAsync("CREATE TRIGGER refuse_store BEFORE INSERT ON webhook_inbox BEGIN SELECT RAISE(ABORT, 'disk full'); END;");

        var messageId = await SendAsync(tenant);
        // Refused as often as the emulator used to try each report before it gave the report up (4 times, about
        // 1.4 s). Counted, not timed: a fixed wait says nothing about how many tries a loaded machine made.
        await Poll.UntilAsync(() => RefusedAtLeast(4), "the emulator's fourth attempt at a refused report", Poll.SlowWorkLimit);
        await _factory.InboxSqlAsync("DROP TRIGGER refuse_store;");

        var history = new List<string>();
        await Poll.UntilAsync(async () =>
        {
            await _factory.ApplyWebhooksAsync();
            await _factory.WithDbAsync(async db => history = await db.MessageStatusEvents.AsNoTracking()
                .Where(e => db.Messages.Any(m => m.Id == e.MessageId && m.Wamid == messageId)).OrderBy(e => e.Id).Select(e => e.Status).ToListAsync());
            return history.Contains("read");
        }, "the read report to be applied", Poll.SlowWorkLimit);

        // Every report arrived, the first ones too (they used to be given up after about 1.4 s each).
        Assert.Equal(["sent", "delivered", "read"], history);
    }

    [Fact]
    public async Task AReportTheReceiverRefusesHoldsBackTheReportsAfterIt()
    {
        // One report a POST, on four posters: delivered and read could otherwise overtake a sent that is being retried.
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusBatchSize"] = "1" });
        var tenant = await factory.CreateSendingTenantAsync();
        await RefuseSentReportsAsync(factory);

        var messageId = await SendAsync(tenant);
        await Poll.UntilAsync(() => RefusedAtLeast(factory, 3), "the emulator's third attempt at the sent report", Poll.SlowWorkLimit);
        await factory.ApplyWebhooksAsync();
        var whileRefused = await HistoryAsync(factory, messageId);
        await factory.InboxSqlAsync($"DROP TRIGGER {RefuseSent};");
        await factory.SettleStatusesAsync();

        Assert.Empty(whileRefused); // delivered and read wait for sent, as Meta sends them in order
        Assert.Equal(["sent", "delivered", "read"], await HistoryAsync(factory, messageId));
    }

    [Fact]
    public async Task AReportRefusedTenTimesIsGivenUpAndTheReportsAfterItGoOn()
    {
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusBatchSize"] = "1" });
        var tenant = await factory.CreateSendingTenantAsync();
        factory.Services.GetRequiredService<TwaBot.Api.Sandbox.SandboxWebhookSender>().RetryPauseUnit = TimeSpan.FromMilliseconds(1);
        await RefuseSentReportsAsync(factory); // for good

        var messageId = await SendAsync(tenant);
        await factory.SettleStatusesAsync();

        Assert.Equal(Enumerable.Range(1, 10), RefusedAttempts(factory)); // ten tries, then no more
        Assert.Equal(["delivered", "read"], await HistoryAsync(factory, messageId)); // no longer held back by it
    }

    private static async Task<string?> SendAsync(SendingTenant tenant)
    {
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        return (await send.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString();
    }

    private const string RefuseSent = "refuse_sent";

    /// <summary>The receiver cannot store a sent report (as with a full disk); it stores the others.</summary>
    private static Task RefuseSentReportsAsync(TwaBotApiFactory factory) => factory.InboxSqlAsync($"""
        CREATE TRIGGER {RefuseSent} BEFORE INSERT ON webhook_inbox WHEN instr(CAST(NEW.body AS TEXT), '"status":"sent"') > 0
        BEGIN SELECT RAISE(ABORT, 'disk full'); END;
        """);

    private static IEnumerable<int> RefusedAttempts(TwaBotApiFactory factory) => factory.Logs.Events
        .Where(e => e.MessageTemplate.Text.StartsWith("Sandbox webhook refused", StringComparison.Ordinal))
        .Select(e => e.Properties["Attempt"] is Serilog.Events.ScalarValue { Value: int n } ? n : 0).Order();

    private static async Task<List<string>> HistoryAsync(TwaBotApiFactory factory, string? messageId)
    {
        var history = new List<string>();
        await factory.WithDbAsync(async db => history = await db.MessageStatusEvents.AsNoTracking()
            .Where(e => db.Messages.Any(m => m.Id == e.MessageId && m.Wamid == messageId)).OrderBy(e => e.Id).Select(e => e.Status).ToListAsync());
        return history;
    }

    private bool RefusedAtLeast(int attempts) => RefusedAtLeast(_factory, attempts);

    private static bool RefusedAtLeast(TwaBotApiFactory factory, int attempts) => factory.Logs.Events.Any(e =>
        e.MessageTemplate.Text.StartsWith("Sandbox webhook refused", StringComparison.Ordinal)
        && e.Properties.TryGetValue("Attempt", out var attempt) && attempt is Serilog.Events.ScalarValue { Value: int n } && n >= attempts);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
