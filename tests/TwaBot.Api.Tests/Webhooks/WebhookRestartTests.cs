using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Conversations;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>Deliveries acknowledged before a stop are applied after the restart, and only once.</summary>
public sealed class WebhookRestartTests : IDisposable
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);
    private readonly string _databasePath = Path.Combine(Path.GetTempPath(), $"twabot-restart-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task EventsStoredButNotAppliedBeforeAStopAreAppliedAfterTheRestart()
    {
        var (phoneNumberId, messageId) = await FirstRunAsync();

        // The server is down: an event sits in webhook_events, stored (acknowledged) but never applied.
        var body = Bytes(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "read", T0)]))));
        await ExecuteAsync(_databasePath, "INSERT INTO webhook_events (received_at, body_sha256, body, attempts) VALUES ($at, $hash, $body, 0)", body);

        await using var second = await RestartAsync();
        await second.WithDbAsync(async db =>
        {
            Assert.Equal("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null));
        });
    }

    [Fact]
    public async Task EventsGivenUpBeforeAStopAreTriedOnceMoreAfterTheRestart()
    {
        // An event that used up its five attempts (attempts = 5, with its error), then whatever failed it is mended
        // (an upgrade) and the server restarted: the first pass tries it once more instead of leaving it for SQL.
        var (phoneNumberId, messageId) = await FirstRunAsync();
        var body = Bytes(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "read", T0)]))));
        await ExecuteAsync(_databasePath,
            "INSERT INTO webhook_events (received_at, body_sha256, body, attempts, last_error) VALUES ($at, $hash, $body, 5, 'a bug since fixed')", body);
        var unreadable = Encoding.UTF8.GetBytes("{\"entry\": [ not json");
        await ExecuteAsync(_databasePath,
            "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts, last_error) VALUES ($at, 1, $hash, $body, 5, 'not JSON')", unreadable);

        await using var second = await RestartAsync();
        await second.WithDbAsync(async db =>
        {
            Assert.Equal("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            var left = await db.WebhookEvents.Where(e => e.AppliedAt == null).Select(e => e.Attempts).ToListAsync();
            Assert.Equal([5], left); // the unreadable one failed again and stays given up
        });

        // Later scans for due retries (here another event's, failing on a full disk) leave it alone: once per start.
        await second.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
        await second.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "read", T0.AddSeconds(1))]))));
        await second.ApplyWebhooksAsync();
        second.Clock.Advance(TimeSpan.FromSeconds(5));
        await second.ApplyWebhooksAsync();
        var failures = second.Logs.Events.Count(e => e.MessageTemplate.Text.StartsWith("A webhook delivery (webhook_events id", StringComparison.Ordinal));
        Assert.Equal(1 + 2, failures); // the unreadable one at start, the new one twice
    }

    [Fact]
    public async Task EventsAppliedBeforeAStopAreNotAppliedAgainAfterTheRestart()
    {
        // The first pass after a start tries again every event that failed, given up ones too, but none that was applied:
        // those would be applied a second time (a report, an inbound message, a STOP).
        var (phoneNumberId, messageId) = await FirstRunAsync();
        var body = Bytes(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "read", T0)]))));
        await ExecuteAsync(_databasePath,
            "INSERT INTO webhook_events (received_at, body_sha256, body, applied_at, attempts) VALUES ($at, $hash, $body, $at, 1)", body);

        await using var second = await RestartAsync();
        await second.WithDbAsync(async db =>
        {
            Assert.NotEqual("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal([1], await db.WebhookEvents.Select(e => e.Attempts).ToListAsync());
        });
    }

    [Fact]
    public async Task MoreEventsStoredButNotAppliedThanOneBatchHoldsAreAllAppliedAfterTheRestart()
    {
        // The first pass reads them 50 at a time; one batch alone would leave the rest for the restart after.
        var (phoneNumberId, _) = await FirstRunAsync();
        for (var i = 0; i <= 50; i++)
        {
            var body = Bytes(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "sent", T0.AddSeconds(i))]))));
            await ExecuteAsync(_databasePath, "INSERT INTO webhook_events (received_at, body_sha256, body, attempts) VALUES ($at, $hash, $body, 0)", body);
        }

        await using var second = await RestartAsync();
        await second.ApplyWebhooksAsync();
        await second.WithDbAsync(async db => Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null)));
    }

    [Fact]
    public async Task ABacklogInTheInboxFileLargerThanOneBatchIsAppliedInFullByTheFirstPass()
    {
        // Large deliveries, so that the bytes bound a batch to fewer than the three: the first pass (which the restart
        // waits for, and nothing wakes the processor again for seconds) applies them all, not just its first batch.
        var (phoneNumberId, messageId) = await FirstRunAsync();
        var bodies = new List<byte[]>();
        foreach (var (status, second) in new[] { ("sent", 0), ("delivered", 1), ("read", 2) })
        {
            var delivery = Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", status, T0.AddSeconds(second))])));
            delivery["padding"] = new string('x', 100_000);
            bodies.Add(Bytes(delivery));
            await ExecuteAsync(WebhookInboxFile.PathBeside(_databasePath),
                "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ($at, $hash, $body)", bodies[^1]);
        }

        await using var restarted = await RestartAsync();
        await restarted.WithDbAsync(async db =>
            Assert.Equal("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync()));
        foreach (var body in bodies)
        {
            Assert.Equal(1, await restarted.MovedCountAsync(body));
        }
    }

    [Fact]
    public async Task DeliveriesStillInTheInboxFileAtAStopAreAppliedAfterTheRestart()
    {
        var (phoneNumberId, messageId) = await FirstRunAsync();

        // Acknowledged (in the inbox file) but not yet moved into the main database when the server stopped.
        var body = Bytes(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "delivered", T0)]))));
        await ExecuteAsync(WebhookInboxFile.PathBeside(_databasePath),
            "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ($at, $hash, $body)", body);

        await using var second = await RestartAsync();
        await second.WithDbAsync(async db =>
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync()));
        Assert.Equal(1, await second.MovedCountAsync(body));
    }

    [Fact]
    public async Task ADeliveryMovedButNotYetForgottenWhenTheServerStoppedIsNotAppliedAgain()
    {
        var (phoneNumberId, _) = await FirstRunAsync();
        const string customer = "16505551234";
        var stop = Bytes(Delivery(Entry(UserPreference(phoneNumberId, customer, "stop", T0))));
        var resume = Bytes(Delivery(Entry(UserPreference(phoneNumberId, customer, "resume", T0.AddDays(1)))));
        await using (var first = Factory())
        {
            await first.PostWebhookAsync(Encoding.UTF8.GetString(stop));
            await first.PostWebhookAsync(Encoding.UTF8.GetString(resume));
            await first.ApplyWebhooksAsync();
        }

        // As if the server stopped after moving "stop" into the main database but before the inbox forgot it.
        await ExecuteAsync(WebhookInboxFile.PathBeside(_databasePath),
            "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ($at, $hash, $body)", stop);

        await using var second = await RestartAsync();
        await second.WithDbAsync(async db =>
        {
            var contact = await db.Contacts.SingleAsync(c => c.Phone == customer);
            Assert.Null(contact.MarketingOptOutAt); // applying "stop" again would have opted the customer out
        });
        Assert.Equal(1, await second.MovedCountAsync(stop));
    }

    [Fact]
    public async Task AnUnreadableDeliveryInTheSameBatchIsKeptWithItsErrorAndTheOthersAreApplied()
    {
        var (phoneNumberId, messageId) = await FirstRunAsync();

        // All three wait in the inbox file, so the first pass after the restart moves them as one batch. The
        // STOP before the unreadable one is applied, undone with the batch when the unreadable one fails, and
        // applied again: it must count once, with nothing left over from the undone attempt.
        var inboxFile = WebhookInboxFile.PathBeside(_databasePath);
        const string sql = "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ($at, $hash, $body)";
        const string customer = "16505551234";
        var stop = Bytes(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.inbound-stop", customer, "STOP", T0)], contacts: [Contact(customer, "Sheena Nelson")]))));
        var unreadable = Encoding.UTF8.GetBytes("{\"entry\": [ this is not json");
        var status = Bytes(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.restart-1", "read", T0)]))));
        await ExecuteAsync(inboxFile, sql, stop);
        await ExecuteAsync(inboxFile, sql, unreadable);
        await ExecuteAsync(inboxFile, sql, status);

        await using var second = await RestartAsync();
        await second.WithDbAsync(async db =>
        {
            Assert.Equal("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal(1, await db.MessageStatusEvents.CountAsync(e => e.MessageId == messageId));
            var kept = await db.WebhookEvents.SingleAsync(e => e.Body == unreadable);
            Assert.Null(kept.AppliedAt);
            Assert.NotNull(kept.LastError);
            Assert.Equal(1, await db.InboundMessages.CountAsync(m => m.Wamid == "wamid.inbound-stop"));
            Assert.NotNull((await db.Contacts.SingleAsync(c => c.Phone == customer)).LastInboundAt);
            Assert.Equal(SuppressionStates.OptedOut, (await db.Suppressions.SingleAsync(s => s.Phone == customer)).State);
        });
        Assert.Equal(1, await second.MovedCountAsync(stop));
        Assert.Equal(1, await second.MovedCountAsync(status));
    }

    [Theory]
    [InlineData("twabot.db", "twabot.webhook-inbox.db")]
    [InlineData("/data/twabot.sqlite", "/data/twabot.webhook-inbox.sqlite")]
    [InlineData("/data/twabot", "/data/twabot.webhook-inbox.db")]
    [InlineData("/data.d/twabot", "/data.d/twabot.webhook-inbox.db")]
    public void TheInboxFileLivesBesideTheDatabase(string database, string inbox) =>
        Assert.Equal(inbox, WebhookInboxFile.PathBeside(database));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        DatabaseFiles.Delete(_databasePath);
    }

    [Fact]
    public async Task AStopHeldForAnUnpairedBsuidBeforeAStopIsAppliedWhenAWebhookAfterTheRestartPairsIt()
    {
        var (phoneNumberId, _) = await FirstRunAsync();
        const string UserId = "IN.80311920455123";
        var stop = Text("wamid.restart-held-stop", "919876543210", "STOP", T0);
        stop.Remove("from");
        stop["from_user_id"] = UserId;
        await using (var held = await RestartAsync())
        {
            (await held.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [stop]))))).EnsureSuccessStatusCode();
            await held.ApplyWebhooksAsync();
            await held.WithDbAsync(async db => Assert.True(await db.HeldUserEvents.AnyAsync(h => h.UserId == UserId)));
        }

        await using var second = await RestartAsync();
        var status = Status("wamid.restart-1", "read", T0.AddMinutes(1));
        status["recipient_user_id"] = UserId;
        (await second.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [status]))))).EnsureSuccessStatusCode();
        await second.ApplyWebhooksAsync();

        await second.WithDbAsync(async db => Assert.True(await db.Suppressions.AnyAsync(
            s => s.Phone == "919876543210" && s.State == SuppressionStates.OptedOut)));
    }

    [Fact]
    public async Task EventsHeldBeforeAStopExpireAfterTheRestartThoughNoWebhookComes()
    {
        // After a restart nothing has loaded the held counts yet: a pass must still look, or rows held before it wait for ever.
        var (phoneNumberId, _) = await FirstRunAsync();
        var stop = Text("wamid.restart-expiring-stop", "919876543210", "STOP", T0);
        stop.Remove("from");
        stop["from_user_id"] = "IN.80311920455124";
        await using (var held = await RestartAsync())
        {
            (await held.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [stop]))))).EnsureSuccessStatusCode();
            await held.ApplyWebhooksAsync();
            await held.WithDbAsync(async db => Assert.True(await db.HeldUserEvents.AnyAsync()));
        }

        await using var second = await RestartAsync();
        second.Clock.Advance(HeldUserEventCounts.KeptFor + TimeSpan.FromMinutes(1));
        await second.ApplyWebhooksAsync();

        await second.WithDbAsync(async db => Assert.False(await db.HeldUserEvents.AnyAsync()));
    }

    private TwaBotApiFactory Factory() =>
        new(new Dictionary<string, string?>(), databasePath: _databasePath) { DeleteDatabaseOnDispose = false };

    /// <summary>A business with a sent message, then a stop.</summary>
    private async Task<(string PhoneNumberId, long MessageId)> FirstRunAsync()
    {
        await using var first = Factory();
        var businessId = await first.CreateBusinessAsync();
        var phoneNumberId = await first.ConnectWhatsAppAsync(businessId);
        var message = new Message
        {
            Reference = MessageReferences.New(), BusinessId = businessId, ApiKeyId = 1, Wamid = "wamid.restart-1", To = "919876543210",
            Kind = MessageKinds.Text, ApiStatus = ApiStatuses.Success,
        };
        await first.WithDbAsync(async db =>
        {
            db.Messages.Add(message);
            await db.SaveChangesAsync();
        });
        return (phoneNumberId, message.Id);
    }

    private async Task<TwaBotApiFactory> RestartAsync()
    {
        SqliteConnection.ClearAllPools();
        var second = Factory();
        _ = second.Server;
        await second.Services.GetRequiredService<WebhookProcessor>().FirstPass.WaitAsync(TimeSpan.FromSeconds(30));
        return second;
    }

    private static byte[] Bytes(System.Text.Json.Nodes.JsonNode payload) => Encoding.UTF8.GetBytes(payload.ToJsonString());

    private static async Task ExecuteAsync(string file, string sql, byte[] body)
    {
        await using var connection = new SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$at", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$hash", SHA256.HashData(body));
        command.Parameters.AddWithValue("$body", body);
        await command.ExecuteNonQueryAsync();
    }
}
