using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// A pass of the webhook processor: a batch applied in full, deliveries it cannot read that block nothing, an event that fails
/// tried again after a pause, and another process holding the database's lock.
/// </summary>
public class WebhookPassTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task ABatchOfEntriesChangesAndStatusesIsAppliedInFull()
    {
        var (phoneA, businessA) = await factory.ConnectedBusinessAsync();
        var (phoneB, businessB) = await factory.ConnectedBusinessAsync();
        var a1 = await factory.InsertMessageAsync(businessA, "wamid.batch-a1");
        var a2 = await factory.InsertMessageAsync(businessA, "wamid.batch-a2");
        var b1 = await factory.InsertMessageAsync(businessB, "wamid.batch-b1");

        await factory.PostWebhookAsync(Delivery(
            Entry(
                MessagesChange(phoneA, statuses: [Status("wamid.batch-a1", "delivered", T0), Status("wamid.batch-a2", "read", T0)]),
                MessagesChange(phoneA, messages: [Text("wamid.batch-in", "919811112222", "hello", T0)])),
            Entry(MessagesChange(phoneB, statuses: [Status("wamid.batch-b1", "sent", T0)]))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal("delivered", (await factory.MessageAsync(a1)).DeliveryStatus);
        Assert.Equal("read", (await factory.MessageAsync(a2)).DeliveryStatus);
        Assert.Equal("sent", (await factory.MessageAsync(b1)).DeliveryStatus);
        Assert.Equal(T0.UtcDateTime, (await factory.ContactAsync(businessA, "919811112222"))?.LastInboundAt);
    }

    [Fact]
    public async Task AnUnreadableEventIsRecordedAndDoesNotBlockTheOthers()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var wamid = "wamid.after-bad";
        var messageId = await factory.InsertMessageAsync(businessId, wamid);
        const string body = "{\"entry\": [ this is not json";

        await factory.PostWebhookAsync(body);
        await factory.DeliverStatusesAsync(phoneNumberId, Status(wamid, "delivered", T0));

        Assert.Equal("delivered", (await factory.MessageAsync(messageId)).DeliveryStatus);
        var bytes = Encoding.UTF8.GetBytes(body);
        await factory.WithDbAsync(async db =>
        {
            var kept = await db.WebhookEvents.SingleAsync(e => e.Body == bytes);
            Assert.Null(kept.AppliedAt);
            Assert.NotNull(kept.LastError);
            Assert.Equal(Api.Webhooks.WebhookProcessor.MaxAttempts, kept.Attempts); // given up at once: it will never parse
            // The error line names the stored row an operator would look at.
            Assert.Contains(factory.Logs.Events, e => e.Properties.TryGetValue("WebhookEventId", out var id) && id.ToString() == kept.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
    }

    [Theory]
    [InlineData("{\"entry\": [ \"")] // a string never closed
    [InlineData("{\"entry\": [ ")] // an array never closed
    [InlineData("not json at all ")]
    public async Task AnUnreadableEventIsLoggedByWhereItStopsBeingJsonNotWithItsBody(string start)
    {
        // Only a sender holding the app secret gets a body this far; even so, its bytes (up to 3 MB) stay out of the log:
        // the line is an Error, which an operator ships and pages on, and it would repeat at every start.
        var body = start + new string('x', 200_000);

        await factory.PostWebhookAsync(body);
        await factory.ApplyWebhooksAsync();

        var failed = factory.Logs.Events.Last(e => e.MessageTemplate.Text.StartsWith("A webhook delivery", StringComparison.Ordinal)
            && e.Level == Serilog.Events.LogEventLevel.Error);
        var logged = failed.RenderMessage(System.Globalization.CultureInfo.InvariantCulture) + failed.Exception;
        Assert.DoesNotContain(new string('x', 100), logged, StringComparison.Ordinal);
        Assert.Contains("not JSON", logged, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEventWithATimeNoCalendarHoldsIsAppliedAtItsTimeOfReceiptWithTheOthers()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var first = await factory.InsertMessageAsync(businessId, "wamid.time-1");
        var second = await factory.InsertMessageAsync(businessId, "wamid.time-2");
        var odd = Status("wamid.time-2", "read", T0);
        odd["timestamp"] = "99999999999999";

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.time-1", "delivered", T0), odd);

        Assert.Equal(("delivered", "read"), ((await factory.MessageAsync(first)).DeliveryStatus, (await factory.MessageAsync(second)).DeliveryStatus));
    }

    [Theory]
    [InlineData("{\"id\":\"wamid.X\\ud800Y\",\"status\":\"delivered\",\"timestamp\":\"1776000000\",\"recipient_id\":\"919876543210\"}")]
    [InlineData("{\"id\":\"wamid.bytes\",\"status\":\"delivered\",\"timestamp\":\"1776000000\",\"recipient_id\":\"919876543210\",\"biz_opaque_callback_data\":\"@@\"}")]
    public async Task TextThatIsNotValidUnicodeDoesNotStopTheProcessor(string status)
    {
        // Valid JSON syntax (a lone surrogate escape; bytes that are not UTF-8), yet no string can hold it.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.after-bad-text-" + status.Length);
        var body = Encoding.UTF8.GetBytes("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\","
            + "\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"phone_number_id\":\"" + phoneNumberId + "\"},\"statuses\":[" + status + "]}}]}]}");
        body = [.. body.Select(b => b == (byte)'@' ? (byte)0xFF : b)]; // the second case's @@: bytes no UTF-8 text has

        await factory.PostWebhookAsync(body);
        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.after-bad-text-" + status.Length, "delivered", T0));

        Assert.Equal("delivered", (await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task ADeliveryWithOddElementsAppliesWhatItCanAndDoesNotBlockTheOthers()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var first = await factory.InsertMessageAsync(businessId, "wamid.odd-1");
        var second = await factory.InsertMessageAsync(businessId, "wamid.odd-2");
        var failed = Status("wamid.odd-1", "failed", T0);
        failed["errors"] = new System.Text.Json.Nodes.JsonArray(6, "not an object");
        var change = MessagesChange(phoneNumberId, statuses: [failed]);
        change["value"]!["contacts"] = new System.Text.Json.Nodes.JsonArray(4);

        await factory.PostWebhookAsync(Delivery(Entry(change)));
        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.odd-2", "delivered", T0));

        Assert.Equal("failed", (await factory.MessageAsync(first)).DeliveryStatus);
        Assert.Equal("delivered", (await factory.MessageAsync(second)).DeliveryStatus);
    }

    [Fact]
    public async Task AnEventThatFailsToApplyIsTriedAgainAfterAPauseNotInTheSamePass()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var messageId = await server.InsertMessageAsync(businessId, "wamid.paused");
        // A passing fault: the history refuses rows for a while, as a full disk would.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.paused", "delivered", T0)])))))
            .EnsureSuccessStatusCode();

        await server.ApplyWebhooksAsync();
        await server.ApplyWebhooksAsync();
        var attemptsAfterTwoPasses = await AttemptsAsync(server);
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        var appliedByTheFailedRetry = await server.ApplyWebhooksAsync();
        var attemptsAfterThePause = await AttemptsAsync(server);
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_history"));
        server.Clock.Advance(TimeSpan.FromSeconds(19)); // the second pause is four times the first: 20 s
        await server.ApplyWebhooksAsync();
        var stillPaused = await AttemptsAsync(server);
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        await server.ApplyWebhooksAsync();

        Assert.Equal(1, attemptsAfterTwoPasses);
        Assert.Equal(0, appliedByTheFailedRetry);
        Assert.Equal(2, attemptsAfterThePause);
        Assert.Equal(2, stillPaused);
        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            // The applying attempt counts too, and the last failure's error goes.
            Assert.Equal((3, (string?)null), await db.WebhookEvents.Select(e => new ValueTuple<int, string?>(e.Attempts, e.LastError)).SingleAsync());
        });
    }

    [Fact]
    public async Task AFailedRetryKeepsItsOwnErrorCutTo500Characters()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await server.InsertMessageAsync(businessId, "wamid.long-error");
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'first fault'); END"));
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.long-error", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();
        var firstError = await LastErrorAsync(server);
        var longFault = "DROP TRIGGER refuse_history; CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, '"
            + new string('x', 600) + "'); END";
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(longFault));
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        await server.ApplyWebhooksAsync();
        var retryError = await LastErrorAsync(server);

        Assert.Contains("first fault", firstError, StringComparison.Ordinal);
        Assert.Equal(500, retryError.Length);
        Assert.EndsWith(new string('x', 100), retryError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEventGivenUpIsLeftAloneByLaterPassesUntilARestart()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var givenUpMessage = await server.InsertMessageAsync(businessId, "wamid.given-up");
        var retriedMessage = await server.InsertMessageAsync(businessId, "wamid.retried");
        await server.ApplyWebhooksAsync(); // the first pass after the start, which alone tries once more what was given up
        // An event that used up its attempts since, kept as the processor keeps it.
        var givenUp = Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.given-up", "delivered", T0)]))).ToJsonString();
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts, last_error) VALUES ({0}, 1, x'0a0e', {1}, 5, 'refused')",
            PreparedCommands.Text(server.Clock.GetUtcNow().UtcDateTime), Encoding.UTF8.GetBytes(givenUp)));
        // Another event fails once, so that a later pass looks for the retries due.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'refused'); END"));
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.retried", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_history"));
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        await server.ApplyWebhooksAsync();
        await server.ApplyWebhooksAsync();

        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == retriedMessage).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.NotEqual("delivered", await db.Messages.Where(m => m.Id == givenUpMessage).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal((5, "refused", (DateTime?)null), await db.WebhookEvents.OrderBy(e => e.Id)
                .Select(e => new ValueTuple<int, string?, DateTime?>(e.Attempts, e.LastError, e.AppliedAt)).FirstAsync());
        });
    }

    [Fact]
    public async Task AnEventThatFailsAgainOnItsRetryDoesNotHoldBackTheEventsRetriedWithIt()
    {
        // Two events failed and are retried in one batch, and the first fails again: its transaction ended with it, and the
        // second was neither applied nor scheduled again. It waited for the first's next retry, and once the first was given
        // up, for a restart.
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await RefuseInboundAsync(server);
        await PostTextAsync(server, phoneNumberId, "wamid.refused-in", "919811110001", T0);
        await PostTextAsync(server, phoneNumberId, "wamid.next-in", "919811110002", T0.AddSeconds(1));
        await server.ApplyWebhooksAsync(); // both kept with their errors, due again in 5 s

        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_inbound"));
        await RefuseInboundAsync(server, "wamid.refused-in");
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        await server.ApplyWebhooksAsync(); // (or the background pass before it)

        await server.WithDbAsync(async db =>
        {
            Assert.Equal(["wamid.next-in"], await db.InboundMessages.Select(m => m.Wamid).ToListAsync());
            Assert.Equal([(2, false), (2, true)], (await db.WebhookEvents.OrderBy(e => e.Id).Select(e => new { e.Attempts, e.AppliedAt }).ToListAsync())
                .ConvertAll(e => (e.Attempts, e.AppliedAt is not null)));
        });
    }

    [Fact]
    public async Task AFailedEventWaitsForItsOwnPauseNotForTheFirstRetryThatIsDue()
    {
        // Another event's retry being due starts a scan of the failed events; the scan tries again only those due.
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await RefuseInboundAsync(server);
        await PostTextAsync(server, phoneNumberId, "wamid.early-in", "919811110001", T0);
        await server.ApplyWebhooksAsync(); // due again in 5 s
        server.Clock.Advance(TimeSpan.FromSeconds(3));
        await PostTextAsync(server, phoneNumberId, "wamid.late-in", "919811110002", T0);
        await server.ApplyWebhooksAsync(); // due again 5 s after that

        server.Clock.Advance(TimeSpan.FromSeconds(2));
        await server.ApplyWebhooksAsync();

        await server.WithDbAsync(async db => Assert.Equal([2, 1], await db.WebhookEvents.OrderBy(e => e.Id).Select(e => e.Attempts).ToListAsync()));
    }

    [Fact]
    public async Task AnEventThatFailsInABatchDoesNotFailTheOthersWhenTheBatchIsAppliedOneByOne()
    {
        // The failed insert stays in EF's change tracker after the batch is rolled back; left there, the first delivery applied
        // again one by one would save it too, and fail with it.
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().StopAsync(CancellationToken.None); // one batch, the test's
        await RefuseInboundAsync(server, "wamid.refused-in");
        await PostTextAsync(server, phoneNumberId, "wamid.good-in", "919811110001", T0);
        await PostTextAsync(server, phoneNumberId, "wamid.refused-in", "919811110002", T0);
        await PostTextAsync(server, phoneNumberId, "wamid.after-in", "919811110003", T0);

        await server.ApplyWebhooksAsync();

        await server.WithDbAsync(async db =>
        {
            Assert.Equal(["wamid.after-in", "wamid.good-in"], await db.InboundMessages.OrderBy(m => m.Wamid).Select(m => m.Wamid).ToListAsync());
            Assert.Equal([true, false, true], await db.WebhookEvents.OrderBy(e => e.Id).Select(e => e.AppliedAt != null).ToListAsync());
        });
    }

    [Fact]
    public async Task ADatabaseLockedByAnotherProcessIsWaitedForOncePerPassAndCountsAgainstNoEvent()
    {
        // Another process (a sqlite3 shell left in BEGIN IMMEDIATE) holds the write lock: SQLite answers "database is
        // locked" after the busy timeout, 30 s. The pass used to take that for the batch's fault and apply it again
        // delivery by delivery, holding the write gate, which sends wait for, through a second 30 s.
        await using var server = new LockedDatabaseServer();
        using var faults = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Api.Metrics.TwaBotMetrics.MeterName, "twabot.storage.faults");
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var messageId = await server.InsertMessageAsync(businessId, "wamid.locked");
        server.Locked = true;
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.locked", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        // The background pass woken by the delivery fails first; it then pauses 5 s. Bounded generously: were the
        // test's pass to start before that failure, the background pass could begin a transaction in its count.
        await Poll.UntilAsync(() => server.Logs.Events.Any(e => e.MessageTemplate.Text.StartsWith("The webhook processor failed", StringComparison.Ordinal)),
            "the background pass to fail on the lock", Poll.SlowWorkLimit);

        Assert.Contains(faults.GetMeasurementSnapshot(), m => (string?)m.Tags["twabot.storage.source"] == "webhooks"); // the background pass's
        server.TransactionsBegun = 0;
        await Assert.ThrowsAsync<SqliteException>(server.ApplyWebhooksAsync);
        var begunInOnePass = server.TransactionsBegun;
        server.Locked = false;
        await server.ApplyWebhooksAsync();

        Assert.Equal(1, begunInOnePass);
        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal((1, (string?)null), await db.WebhookEvents.Select(e => new ValueTuple<int, string?>(e.Attempts, e.LastError)).SingleAsync());
        });
    }

    [Fact]
    public async Task AnEventWhoseRetryFindsTheDatabaseLockedIsTriedAgainOnceItIsNot()
    {
        // The retry was taken off the processor's list of due events before the locked database refused it, and no
        // later pass looked for it again: it stayed unapplied until a restart.
        await using var server = new LockedDatabaseServer();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var messageId = await server.InsertMessageAsync(businessId, "wamid.retry-locked");
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'refused'); END"));
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.retry-locked", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync(); // kept with its error, due again in 5 s
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_history"));

        server.Locked = true;
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<SqliteException>(server.ApplyWebhooksAsync);
        server.Locked = false;
        await server.ApplyWebhooksAsync();

        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null));
        });
    }

    [Fact]
    public async Task APassWithNothingToDoWritesNothingSoAnotherProcessesLockDoesNotHoldItUp()
    {
        // Each pass (every delivery, and every 5 s when idle) deleted expired parked statuses even with none parked,
        // a write outside the write gate, which waited the whole busy timeout (30 s) behind another process's lock.
        await using var server = new TwaBotApiFactory();
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().FirstPass; // it found none parked
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        // Well under the 30 s busy timeout a write would wait, with room for a loaded machine.
        var applied = await server.ApplyWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, applied);
    }

    [Fact]
    public async Task ASweepWithNothingInterruptedWritesNothingSoAnotherProcessesLockDoesNotHoldItUp()
    {
        // The interrupted-send sweep ran its UPDATE even with nothing to settle: it took the write lock, and behind another
        // process's lock waited the whole busy timeout (30 s) holding the write gate that sends queue behind.
        await using var server = new TwaBotApiFactory();
        var sweeper = server.Services.GetRequiredService<Api.Sending.InterruptedSendSweeper>();
        await sweeper.SweepAsync(CancellationToken.None);
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        // Well under the 30 s busy timeout an UPDATE would wait, with room for a loaded machine.
        var settled = await sweeper.SweepAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, settled);
    }

    [Fact]
    public async Task APassGivesUpOnAnotherProcessesLockWithinSecondsAndAppliesOnceItIsGone()
    {
        // The pass holds the write gate, which sends queue behind, while it waits for the lock: it waited SQLite's whole
        // busy timeout (30 s), so a send waited that long before even its own wait began.
        await using var server = new TwaBotApiFactory();
        var body = Delivery(Entry(MessagesChange("991", statuses: [Status("wamid.behind-lock", "sent", T0)]))).ToJsonString();
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().FirstPass;
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        (await server.PostWebhookAsync(body)).EnsureSuccessStatusCode();
        // Well under the 30 s busy timeout, with room for a loaded machine (the background pass may wait its 2 s first).
        var refused = await Record.ExceptionAsync(() => server.ApplyWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        await otherProcess.ReleaseAsync();

        await server.ApplyWebhooksAsync();

        Assert.Equal(5, Assert.IsType<SqliteException>(refused).SqliteErrorCode); // SQLITE_BUSY
        Assert.Equal(1, await server.MovedCountAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public async Task ASendWaitingForTheWriteGateEndsALongBatchsTurnInsteadOfWaitingForAllOfIt()
    {
        // A backlog drained 500 deliveries per turn at the gate, so during Meta's redelivery after an outage each send's
        // commit waited behind a whole batch: sends took 2–5 times as long (docs/operations.md, Overload).
        await using var server = new HookedServer();
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().FirstPass;
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER in_the_batch AFTER INSERT ON webhook_events WHEN instr(new.body, 'wamid.turn-20\"') > 0 BEGIN SELECT test_hook(); END"));
        var gate = server.Services.GetRequiredService<SqliteWriteGate>();
        Task<SqliteWriteGate.Turn>? send = null;
        server.Hook = () =>
        {
            // In the middle of the batch's transaction (the processor's own thread): a send queues for the gate, and the
            // turn has lasted as long as background work is ever held back.
            send = gate.EnterAsync(CancellationToken.None);
            Thread.Sleep(SqliteWriteGate.BackgroundMaxWait + TimeSpan.FromMilliseconds(5));
        };

        const int Deliveries = 40;
        using (await gate.EnterAsync(CancellationToken.None)) // so that the processor finds them waiting together
        {
            for (var i = 1; i <= Deliveries; i++)
            {
                (await server.PostWebhookAsync(Delivery(Entry(MessagesChange("991", statuses: [Status($"wamid.turn-{i}", "sent", T0)]))))).EnsureSuccessStatusCode();
            }
        }

        await Poll.UntilAsync(() => send is not null, "the batch to reach the hooked delivery");
        var storedWhenTheSendWentIn = new List<string>();
        using (await send!.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            await server.WithDbAsync(async db => storedWhenTheSendWentIn = (await db.WebhookEvents.Select(e => e.Body).ToListAsync())
                .ConvertAll(body => Encoding.UTF8.GetString(body)));
        }

        await server.ApplyWebhooksAsync();
        Assert.Contains(storedWhenTheSendWentIn, body => body.Contains("wamid.turn-20\"", StringComparison.Ordinal));
        Assert.DoesNotContain(storedWhenTheSendWentIn, body => body.Contains("wamid.turn-21\"", StringComparison.Ordinal));
        await server.WithDbAsync(async db => Assert.Equal(Deliveries, await db.WebhookEvents.CountAsync(e => e.AppliedAt != null)));
        // The batch's next turn took up where the first ended: a pass that failed would have applied them all the same.
        Assert.DoesNotContain(server.Logs.Events, e => e.Level >= Serilog.Events.LogEventLevel.Error);
    }

    [Fact]
    public async Task DeliveriesABatchReadButALaterFailedTurnDidNotApplyAreAppliedByTheNextPass()
    {
        // A batch is read at once but may be applied over several turns at the gate. Had its first turn marked the whole
        // batch as moved, a later turn that failed (another process's lock, a full disk) would leave the rest forgotten by
        // the inbox file and skipped by every later pass: never applied.
        await using var server = new HookedServer();
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().FirstPass;
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER first_delivery AFTER INSERT ON webhook_events WHEN instr(new.body, 'wamid.split-0\"') > 0 BEGIN SELECT test_hook(); END"));
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER end_of_first_turn AFTER INSERT ON webhook_events WHEN instr(new.body, 'wamid.split-20\"') > 0 " +
            "BEGIN SELECT test_hook(); SELECT test_busy_at_next_begin(); END"));
        var gate = server.Services.GetRequiredService<SqliteWriteGate>();
        using var allPosted = new ManualResetEventSlim();
        var holding = false;
        server.Hook = () =>
        {
            // The processor holds its first batch (this delivery alone) while the others arrive, so that its next batch reads them all.
            Volatile.Write(ref holding, true);
            allPosted.Wait(Poll.Limit);
        };
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange("991", statuses: [Status("wamid.split-0", "sent", T0)]))))).EnsureSuccessStatusCode();
        await Poll.UntilAsync(() => Volatile.Read(ref holding), "the processor to hold its first batch");

        const int Deliveries = 40;
        for (var i = 1; i <= Deliveries; i++)
        {
            (await server.PostWebhookAsync(Delivery(Entry(MessagesChange("991", statuses: [Status($"wamid.split-{i}", "sent", T0)]))))).EnsureSuccessStatusCode();
        }

        Task<SqliteWriteGate.Turn>? send = null;
        server.Hook = () =>
        {
            // A send queues for the gate and the turn has lasted long enough: the turn ends here, and the next one fails to begin.
            send = gate.EnterAsync(CancellationToken.None);
            Thread.Sleep(SqliteWriteGate.BackgroundMaxWait + TimeSpan.FromMilliseconds(5));
        };
        allPosted.Set();
        await Poll.UntilAsync(() => send is not null, "the batch to reach the end of its first turn");
        using (await send!.WaitAsync(TimeSpan.FromSeconds(10)))
        {
        }

        await Poll.UntilAsync(() => server.Logs.Events.Any(e => e.MessageTemplate.Text.StartsWith("The webhook processor failed", StringComparison.Ordinal)),
            "the batch's second turn to fail");
        await server.ApplyWebhooksAsync();

        await server.WithDbAsync(async db => Assert.Equal(1 + Deliveries, await db.WebhookEvents.CountAsync(e => e.AppliedAt != null)));
    }

    [Fact]
    public async Task AStopInTheMiddleOfABacklogLetsTheBatchUnderWayCommitAndLeavesTheRestInTheInboxFile()
    {
        // A stop cancels no batch under way (its work would be rolled back for nothing), and does not apply the rest of a
        // backlog first either, which could outlast the host's shutdown timeout: the rest waits in the inbox file.
        await using var server = new HookedServer();
        var processor = server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>();
        await processor.FirstPass;
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER stop_in_the_batch AFTER INSERT ON webhook_events WHEN instr(new.body, 'wamid.stop-0\"') > 0 BEGIN SELECT test_hook(); END"));
        Task? stopped = null;
        server.Hook = () => stopped ??= processor.StopAsync(CancellationToken.None); // on the processor's thread, in the batch

        // Large deliveries, so that the bytes bound a batch to fewer than the three; posted while the gate is held, so that
        // all are in the inbox file when the first batch is applied.
        var bodies = new List<byte[]>();
        using (await server.Services.GetRequiredService<SqliteWriteGate>().EnterAsync(CancellationToken.None))
        {
            for (var i = 0; i < 3; i++)
            {
                var delivery = Delivery(Entry(MessagesChange("991", statuses: [Status($"wamid.stop-{i}", "sent", T0)])));
                delivery["padding"] = new string('x', 100_000);
                bodies.Add(Encoding.UTF8.GetBytes(delivery.ToJsonString()));
                (await server.PostWebhookAsync(bodies[^1])).EnsureSuccessStatusCode();
            }
        }

        await Poll.UntilAsync(() => stopped is not null, "the first batch to reach the hooked delivery");
        await stopped!.WaitAsync(TimeSpan.FromSeconds(30));
        var (first, last) = (SHA256.HashData(bodies[0]), SHA256.HashData(bodies[2]));
        await server.WithDbAsync(async db =>
        {
            Assert.NotNull(await db.WebhookEvents.Where(e => e.BodySha256 == first).Select(e => e.AppliedAt).SingleAsync()); // the batch under way committed
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.BodySha256 == last)); // the last batch waits in the inbox file
        });
        Assert.True(await server.IsStoredAsync(bodies[2]));

        await server.ApplyWebhooksAsync(); // as the restart's first pass would
        foreach (var body in bodies)
        {
            Assert.Equal(1, await server.MovedCountAsync(body));
        }
    }

    /// <summary>
    /// A server whose database connections have a <c>test_hook()</c> SQL function, which calls <see cref="Hook"/>, and a
    /// <c>test_busy_at_next_begin()</c> one, after which the next transaction begun on that connection fails as SQLite does
    /// after its busy timeout.
    /// </summary>
    private sealed class HookedServer : TwaBotApiFactory
    {
        public volatile Action? Hook;

        private System.Data.Common.DbConnection? _busyAtNextBegin;

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(
                options => options.AddInterceptors(new WithHookFunction(this), new BusyAtNextBegin(this))));
        }

        private sealed class BusyAtNextBegin(HookedServer server) : DbTransactionInterceptor
        {
            public override ValueTask<InterceptionResult<System.Data.Common.DbTransaction>> TransactionStartingAsync(
                System.Data.Common.DbConnection connection, TransactionStartingEventData eventData,
                InterceptionResult<System.Data.Common.DbTransaction> result, CancellationToken cancellationToken = default)
            {
                if (Interlocked.CompareExchange(ref server._busyAtNextBegin, null, connection) == connection)
                {
                    throw new SqliteException("SQLite Error 5: 'database is locked'.", 5);
                }

                return ValueTask.FromResult(result);
            }
        }

        private sealed class WithHookFunction(HookedServer server) : DbConnectionInterceptor
        {
            public override Task ConnectionOpenedAsync(
                System.Data.Common.DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
            {
                ((SqliteConnection)connection).CreateFunction("test_hook", () =>
                {
                    server.Hook?.Invoke();
                    return 0;
                });
                ((SqliteConnection)connection).CreateFunction("test_busy_at_next_begin", () =>
                {
                    Volatile.Write(ref server._busyAtNextBegin, connection);
                    return 0;
                });
                return Task.CompletedTask;
            }
        }
    }

    /// <summary>A server whose database, while <see cref="Locked"/>, refuses to begin transactions as SQLite does after its busy timeout.</summary>
    private sealed class LockedDatabaseServer : TwaBotApiFactory
    {
        private int _begun;

        public volatile bool Locked;

        public int TransactionsBegun { get => Volatile.Read(ref _begun); set => Volatile.Write(ref _begun, value); }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(
                options => options.AddInterceptors(new BusyWhileLocked(this))));
        }

        private sealed class BusyWhileLocked(LockedDatabaseServer server) : DbTransactionInterceptor
        {
            public override ValueTask<InterceptionResult<System.Data.Common.DbTransaction>> TransactionStartingAsync(
                System.Data.Common.DbConnection connection, TransactionStartingEventData eventData,
                InterceptionResult<System.Data.Common.DbTransaction> result, CancellationToken cancellationToken = default)
            {
                if (server.Locked)
                {
                    Interlocked.Increment(ref server._begun);
                    throw new SqliteException("SQLite Error 5: 'database is locked'.", 5);
                }

                return ValueTask.FromResult(result);
            }
        }
    }

    /// <summary>Makes storing a customer's message fail, as a broken write would: every one, or only the one with <paramref name="wamid"/>.</summary>
    private static Task RefuseInboundAsync(TwaBotApiFactory server, string? wamid = null)
    {
        var trigger = "CREATE TRIGGER refuse_inbound BEFORE INSERT ON inbound_messages "
            + (wamid is null ? "" : $"WHEN new.wamid = '{wamid}' ") + "BEGIN SELECT RAISE(ABORT, 'refused'); END";
        return server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(trigger));
    }

    /// <summary>Posts a signed delivery of one customer text message.</summary>
    private static async Task PostTextAsync(TwaBotApiFactory server, string phoneNumberId, string wamid, string from, DateTimeOffset at) =>
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [Text(wamid, from, "hello", at)]))))).EnsureSuccessStatusCode();

    private static async Task<string> LastErrorAsync(TwaBotApiFactory server)
    {
        var error = "";
        await server.WithDbAsync(async db => error = await db.WebhookEvents.Select(e => e.LastError!).SingleAsync());
        return error;
    }

    private static async Task<int> AttemptsAsync(TwaBotApiFactory server)
    {
        var attempts = 0;
        await server.WithDbAsync(async db => attempts = await db.WebhookEvents.Where(e => e.AppliedAt == null).Select(e => e.Attempts).SingleAsync());
        return attempts;
    }
}
