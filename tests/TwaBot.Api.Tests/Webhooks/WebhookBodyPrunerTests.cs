using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// Raw bodies of deliveries applied long ago are dropped, and customers' texts sent long ago; their keys stay,
/// so a replay is still a no-op.
/// </summary>
public class WebhookBodyPrunerTests
{
    [Fact]
    public async Task BodiesAppliedLongerAgoThanConfiguredAreDroppedAndAReplayIsStillSkipped()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var old = Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.old", "919812345678", "STOP", server.Clock.GetUtcNow())]))).ToJsonString();
        const string unreadable = "{\"entry\": [ not json";
        await server.PostWebhookAsync(old);
        await server.PostWebhookAsync(unreadable);
        await server.ApplyWebhooksAsync();
        server.Clock.Advance(TimeSpan.FromHours(25)); // (each periodic timer of the server fires for every period passed)
        var recent = Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.recent", "919812345678", "Hi", server.Clock.GetUtcNow())]))).ToJsonString();
        await server.PostWebhookAsync(recent);
        await server.ApplyWebhooksAsync();

        await server.Services.GetRequiredService<WebhookBodyPruner>().PruneAsync(); // (the hourly run may have been first)
        var replay = await server.PostWebhookAsync(old);
        await server.ApplyWebhooksAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, await server.MovedCountAsync(Encoding.UTF8.GetBytes(old))); // the replay was recognised: still one row
        await server.WithDbAsync(async db =>
        {
            var bodies = await db.WebhookEvents.OrderBy(e => e.Id).Select(e => e.Body.Length).ToListAsync();
            Assert.Equal(0, bodies[0]);                                    // applied 25 hours ago: dropped
            Assert.Equal(Encoding.UTF8.GetByteCount(unreadable), bodies[1]); // never applied: kept
            Assert.Equal(Encoding.UTF8.GetByteCount(recent), bodies[2]);     // applied just now: kept
            Assert.Equal(1, await db.InboundMessages.CountAsync(m => m.Wamid == "wamid.old"));
        });
    }

    [Fact]
    public async Task CustomersTextsSentLongerAgoThanConfiguredAreDroppedAndTheirRowsStay()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.old", "919812345678", "My card ends 4421", server.Clock.GetUtcNow())]))).ToJsonString());
        await server.ApplyWebhooksAsync();
        server.Clock.Advance(TimeSpan.FromHours(25));
        await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.recent", "919812345678", "Hi", server.Clock.GetUtcNow().AddHours(-23))]))).ToJsonString());
        // Meta redelivers for days: a text written two days ago and delivered only now is past one day's keeping already.
        await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.late", "919812345678", "My code is 1234", server.Clock.GetUtcNow().AddDays(-2))]))).ToJsonString());
        await server.ApplyWebhooksAsync();

        await server.Services.GetRequiredService<WebhookBodyPruner>().PruneAsync(); // (the hourly run may have been first)

        await server.WithDbAsync(async db =>
        {
            var texts = await db.InboundMessages.OrderBy(m => m.Id).Select(m => new { m.Wamid, m.Text }).ToListAsync();
            Assert.Equal([("wamid.old", (string?)null), ("wamid.recent", "Hi"), ("wamid.late", null)], texts.Select(m => (m.Wamid, m.Text)));
            var contact = await db.Contacts.SingleAsync(c => c.BusinessId == businessId);
            Assert.NotNull(contact.LastInboundAt); // what the window is read from is not the text
        });
    }

    [Fact]
    public async Task ABodyAppliedExactlyTheKeptDaysAgoStaysAndOneDroppedBeforeIsNotCountedAgain()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var now = server.Clock.GetUtcNow().UtcDateTime;
        var droppedBefore = await InsertAppliedAsync(server, now.AddDays(-2));
        await server.WithDbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE webhook_events SET body = x'' WHERE id = {droppedBefore}"));
        var atTheCutoff = await InsertAppliedAsync(server, now.AddDays(-1));
        var pruner = await FreshPrunerAsync(server); // reads every row from the start of time

        var dropped = await pruner.PruneAsync();

        Assert.Equal(0, dropped);
        Assert.Equal(new[] { 0, 2 }, await BodyLengthsAsync(server, droppedBefore, atTheCutoff));
    }

    [Fact]
    public async Task ADeliveryAppliedAtTheVeryCutoffOfTheLastRunIsDroppedByTheNextRun()
    {
        // A run keeps what was applied at its cutoff (kept days not yet passed); the next run starts from that cutoff and must
        // take it: by its id, since its time is not after the cutoff.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var pruner = await FreshPrunerAsync(server);
        await pruner.PruneAsync();
        var atTheCutoff = await InsertAppliedAsync(server, server.Clock.GetUtcNow().UtcDateTime.AddDays(-1));

        server.Clock.Advance(TimeSpan.FromHours(1));
        await pruner.PruneAsync();

        Assert.Equal(new[] { 0 }, await BodyLengthsAsync(server, atTheCutoff));
    }

    [Fact]
    public async Task EachRunLooksOnlyAtDeliveriesAppliedSinceTheLastRunsCutoff()
    {
        // Rows only grow (each keeps its key), so an hourly run must not read every old row again: a body
        // put back by hand on a row older than the last run's cutoff shows whether the next run looked.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var now = server.Clock.GetUtcNow().UtcDateTime;
        var dueNow = await InsertAppliedAsync(server, now.AddDays(-2));
        var dueInAnHour = await InsertAppliedAsync(server, now.AddHours(-23.5));
        var pruner = await FreshPrunerAsync(server); // as after the upgrade: the rows were there before its first run
        await pruner.PruneAsync();
        Assert.Equal(new[] { 0, 2 }, await BodyLengthsAsync(server, dueNow, dueInAnHour));

        await server.WithDbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE webhook_events SET body = x'7b7d' WHERE id = {dueNow}"));
        server.Clock.Advance(TimeSpan.FromHours(1));
        await pruner.PruneAsync();

        Assert.Equal(new[] { 2, 0 }, await BodyLengthsAsync(server, dueNow, dueInAnHour));
    }

    [Fact]
    public async Task TheFirstRunAfterARestartGoesOnFromTheLastRunsCutoff()
    {
        // Without the stored cutoff, each start read every delivery ever applied once (237–306 ms at 300,000 rows).
        using var database = new TemporaryDatabase();
        var settings = new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" };
        long pruned;
        await using (var first = new TwaBotApiFactory(settings, databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            pruned = await InsertAppliedAsync(first, first.Clock.GetUtcNow().UtcDateTime.AddHours(-23.5));
            first.Clock.Advance(TimeSpan.FromHours(1));
            await first.Services.GetRequiredService<WebhookBodyPruner>().PruneAsync();
            Assert.Equal(new[] { 0 }, await BodyLengthsAsync(first, pruned));
            await first.WithDbAsync(db => db.Database.ExecuteSqlAsync($"UPDATE webhook_events SET body = x'7b7d' WHERE id = {pruned}"));
        }

        await using var second = new TwaBotApiFactory(settings, databasePath: database.Path);
        second.Clock.Advance(TimeSpan.FromHours(2)); // before it starts: its clock goes on from the first server's
        await second.Services.GetRequiredService<WebhookBodyPruner>().PruneAsync();

        Assert.Equal(new[] { 2 }, await BodyLengthsAsync(second, pruned)); // applied before the stored cutoff: not looked at
    }

    [Fact]
    public async Task AStoredCutoffLaterThanTheRunsOwnIsNotTrusted()
    {
        // KeepBodiesDays raised, or the clock set back: deliveries applied before that cutoff may still hold their bodies.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var now = server.Clock.GetUtcNow().UtcDateTime;
        var due = await InsertAppliedAsync(server, now.AddDays(-3));
        var later = PreparedCommands.Text(now);
        await server.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            INSERT INTO sweep_marks (name, done_before) VALUES ({WebhookBodyPruner.MarkName}, {later})
            ON CONFLICT (name) DO UPDATE SET done_before = excluded.done_before
            """));

        await ActivatorUtilities.CreateInstance<WebhookBodyPruner>(server.Services).PruneAsync();

        Assert.Equal(new[] { 0 }, await BodyLengthsAsync(server, due));
    }

    /// <summary>
    /// A pruner that has not run yet on a database no pruner stored its cutoff in, as at the first start after the
    /// upgrade that stores it. The server's own pruner ran at start, before the test wrote rows applied (by hand)
    /// long before that run's cutoff, which it then never looks at again; rows the server applies itself always
    /// carry the time they were applied.
    /// </summary>
    [Fact]
    public async Task StoringTheCutoffBehindAnotherProcessesLockGivesUpWithinSeconds()
    {
        // Each run stores its cutoff, holding the write gate that sends queue behind; behind another process's write lock
        // (a sqlite3 shell, a backup) it waited SQLite's whole busy timeout, 30 s.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var pruner = server.Services.GetRequiredService<WebhookBodyPruner>();
        await pruner.PruneAsync();
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);
        server.Clock.Advance(TimeSpan.FromSeconds(1)); // a later cutoff, to be stored (no periodic tick is due)

        // Well under the 30 s busy timeout, with room for a loaded machine (SQLite's busy wait blocks its caller: run apart).
        var errorsBefore = server.Logs.Events.Count(e => e.Level >= Serilog.Events.LogEventLevel.Error);
        var dropped = await Task.Run(() => pruner.PruneAsync()).WaitAsync(TimeSpan.FromSeconds(20));
        // Given up on purpose and stored by the next run: no Error line for an operator to chase (EF logged one of its own).
        Assert.Equal(errorsBefore, server.Logs.Events.Count(e => e.Level >= Serilog.Events.LogEventLevel.Error));
        await otherProcess.ReleaseAsync();

        server.Clock.Advance(TimeSpan.FromSeconds(1));
        await pruner.PruneAsync(); // the next run stores it
        Assert.Equal(0, dropped);
        await server.WithDbAsync(async db => Assert.Equal(
            server.Clock.GetUtcNow().UtcDateTime.AddDays(-1), await db.SweepMarks.Select(m => m.DoneBefore).SingleAsync()));
    }

    [Fact]
    public async Task DroppingBodiesBehindAnotherProcessesLockGivesUpWithinSecondsAndTheNextRunDropsThem()
    {
        // Each batch holds the write gate that sends queue behind; behind another process's write lock (a sqlite3 shell,
        // a backup) it waited SQLite's whole busy timeout, 30 s, before the sends' own waits even began.
        await using var server = new TwaBotApiFactory();
        var old = await InsertAppliedAsync(server, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var pruner = await FreshPrunerAsync(server);
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        // Well under the 30 s busy timeout, with room for a loaded machine (SQLite's busy wait blocks its caller: run apart).
        var refused = await Record.ExceptionAsync(() => Task.Run(() => pruner.PruneAsync()).WaitAsync(TimeSpan.FromSeconds(20)));
        await otherProcess.ReleaseAsync();

        await pruner.PruneAsync();
        Assert.Equal(5, Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(refused).SqliteErrorCode); // SQLITE_BUSY
        Assert.Equal(new[] { 0 }, await BodyLengthsAsync(server, old));
    }

    private static async Task<WebhookBodyPruner> FreshPrunerAsync(TwaBotApiFactory server)
    {
        await server.WithDbAsync(db => db.SweepMarks.ExecuteDeleteAsync());
        return ActivatorUtilities.CreateInstance<WebhookBodyPruner>(server.Services);
    }

    private static async Task<long> InsertAppliedAsync(TwaBotApiFactory server, DateTime appliedAt)
    {
        long id = 0;
        var at = PreparedCommands.Text(appliedAt);
        await server.WithDbAsync(async db => id = await db.Database.SqlQuery<long>($"""
            INSERT INTO webhook_events (received_at, event_time, body_sha256, body, applied_at, attempts)
            VALUES ({at}, 1, randomblob(32), x'7b7d', {at}, 1) RETURNING id AS "Value"
            """).AsAsyncEnumerable().SingleAsync());
        return id;
    }

    private static async Task<int[]> BodyLengthsAsync(TwaBotApiFactory server, params long[] ids)
    {
        int[] lengths = [];
        await server.WithDbAsync(async db => lengths = await db.WebhookEvents.Where(e => ids.Contains(e.Id)).OrderBy(e => e.Id)
            .Select(e => e.Body.Length).ToArrayAsync());
        return lengths;
    }

    [Fact]
    public async Task ALargeBacklogIsDroppedInBatchesAndCountedWhole()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        await server.WithDbAsync(async db =>
        {
            await db.Database.ExecuteSqlRawAsync("""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
                INSERT INTO webhook_events (received_at, event_time, body_sha256, body, applied_at, attempts)
                SELECT '2020-01-01 00:00:00', i, randomblob(32), x'7b7d', '2020-01-01 00:00:00', 1 FROM n
                """);
            await db.Database.ExecuteSqlAsync($"""
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
                INSERT INTO inbound_messages (business_id, wamid, "from", type, text, sent_at)
                SELECT {businessId}, 'wamid.' || i, '919800000001', 'text', 'Hello', '2020-01-01 00:00:00' FROM n
                """);
        });

        // As after the upgrade: the backlog was there before its first run. (A run that read its first batch again
        // and again would never end: bounded.)
        using var bounded = new CancellationTokenSource(Poll.SlowWorkLimit); // fails there, not by hanging the server's disposal
        var bodies = await (await FreshPrunerAsync(server)).PruneAsync(bounded.Token);

        var empty = Array.Empty<byte>();
        await server.WithDbAsync(async db =>
        {
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.Body != empty));
            Assert.False(await db.InboundMessages.AnyAsync(m => m.Text != null));
        });
        Assert.Equal(2500, bodies); // every batch counted, the texts apart
        Assert.Equal((2500, 1200), PrunedLines(server).Last());
    }

    [Fact]
    public async Task ARunSaysWhatItDroppedWhenItDroppedOnlyBodiesAndNothingWhenItDroppedNothing()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var old = await InsertAppliedAsync(server, server.Clock.GetUtcNow().UtcDateTime.AddDays(-2));
        var pruner = await FreshPrunerAsync(server);
        var linesBefore = PrunedLines(server).Count;

        await pruner.PruneAsync();
        await pruner.PruneAsync();

        Assert.Equal(new[] { 0 }, await BodyLengthsAsync(server, old));
        Assert.Equal([(1, 0)], PrunedLines(server).Skip(linesBefore));
    }

    [Fact]
    public async Task ACustomersTextSentExactlyTheKeptDaysAgoStays()
    {
        // "Longer ago than KeepBodiesDays", as for bodies: the one at the very cutoff goes at the next run.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var businessId = await server.CreateBusinessAsync();
        var sentAt = PreparedCommands.Text(server.Clock.GetUtcNow().UtcDateTime.AddDays(-1));
        await server.WithDbAsync(db => db.Database.ExecuteSqlAsync($"""
            INSERT INTO inbound_messages (business_id, wamid, "from", type, text, sent_at)
            VALUES ({businessId}, 'wamid.cutoff', '919800000001', 'text', 'Hello', {sentAt})
            """));
        var pruner = await FreshPrunerAsync(server);

        await pruner.PruneAsync();
        string? kept = null;
        await server.WithDbAsync(async db => kept = await db.InboundMessages.Select(m => m.Text).SingleAsync());
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        await pruner.PruneAsync();

        Assert.Equal("Hello", kept);
        await server.WithDbAsync(async db => Assert.Null(await db.InboundMessages.Select(m => m.Text).SingleAsync()));
        Assert.Equal((0, 1), PrunedLines(server).Last()); // a run that dropped only texts says so too
    }

    /// <summary>The (bodies, texts) of each "Dropped the raw bodies…" line, oldest first.</summary>
    private static List<(int Bodies, int Texts)> PrunedLines(TwaBotApiFactory server) => server.Logs.Events
        .Where(e => e.MessageTemplate.Text.StartsWith("Dropped the raw bodies of", StringComparison.Ordinal))
        .Select(e => (int.Parse(e.Properties["Bodies"].ToString(), CultureInfo.InvariantCulture),
            int.Parse(e.Properties["Texts"].ToString(), CultureInfo.InvariantCulture)))
        .ToList();
}
