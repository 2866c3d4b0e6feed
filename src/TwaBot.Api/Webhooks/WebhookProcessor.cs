using System.Runtime.ExceptionServices;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Applies webhook deliveries in the background, oldest first. It moves deliveries from the
/// <see cref="WebhookInboxFile"/> into <c>webhook_events</c> and applies them in the same transaction,
/// a batch at a time, then forgets them in the inbox file; a body already in <c>webhook_events</c>
/// (a redelivery, or a batch moved just before a stop) is skipped. An event that fails to apply is
/// kept with its error and tried again a few times, after growing pauses. It wakes when the inbox
/// commits, and at start, so deliveries stored before a stop are applied after the restart. Every few
/// seconds it also applies parked statuses whose message has since appeared, and drops events held for a BSUID too long.
/// </summary>
public sealed partial class WebhookProcessor(
    IServiceScopeFactory scopes, SqliteWriteGate gate, WebhookInboxFile inboxFile, WebhookInbox inbox, Conversations.HeldUserEventCounts heldCounts,
    TimeProvider time, Metrics.TwaBotMetrics metrics, ILogger<WebhookProcessor> logger)
    : BackgroundService
{
    // Large enough to share one commit (a disk sync) among many deliveries when no send is waiting (a waiting send
    // ends the processor's turn early: ApplyInTransactionAsync), small enough to read and parse at once. Bytes bound
    // it too: a delivery can batch a hundred statuses, and the work is per status.
    private const int MoveBatchSize = 500;
    private const int MoveBatchBytes = 160 * 1024;
    private const int BatchSize = 50;
    internal const int MaxAttempts = 5;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ParkedKeptFor = TimeSpan.FromDays(7);

    // A failed event is tried again after a pause that grows with each attempt (5 s, 20 s, 80 s, 320 s), so a
    // passing fault cannot use up its attempts within a few passes. (A full disk or a lock SQLite reports as such
    // counts against no event: SqliteFaults.)
    private static readonly TimeSpan FirstRetryPause = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _movedThrough; // the inbox ids this process has moved (after a restart: none)
    private Task _forgotten = Task.CompletedTask; // the inbox's commit that forgets them
    private readonly Dictionary<long, DateTime> _retryNotBefore = []; // failed events' next attempt; under _running
    private bool _scannedForRetries; // events that failed before a restart are found by the first pass's scan

    /// <summary>Completes when the pass made at start (events left from before a restart) is done.</summary>
    public Task FirstPass => _firstPass.Task;

    /// <summary>
    /// Applies everything stored and not yet applied, then the parked statuses that can be, and drops the events held
    /// for a BSUID too long; returns how many events it applied. The background loop calls it; tests await it instead of sleeping.
    /// </summary>
    public Task<int> ProcessPendingAsync(CancellationToken cancellationToken = default) => ProcessAsync(cancellationToken, cancellationToken);

    /// <param name="cancellationToken">Cancels the work, a batch under way included (rolled back).</param>
    /// <param name="stopping">Checked between batches only: a stop lets the batch under way commit, and leaves
    /// the rest of a backlog for after the restart instead of applying it all before the process may exit.</param>
    private async Task<int> ProcessAsync(CancellationToken cancellationToken, CancellationToken stopping)
    {
        await _running.WaitAsync(cancellationToken);
        try
        {
            var total = 0;
            int applied;
            do
            {
                applied = await MoveBatchAsync(cancellationToken);
                total += applied;
            }
            while (applied > 0 && !stopping.IsCancellationRequested);

            await ForgottenAsync(); // so that a caller finds what was applied gone from the inbox file

            total += await RetryFailedAsync(cancellationToken, stopping);
            if (!stopping.IsCancellationRequested)
            {
                await ApplyLeftoverParkedAsync(cancellationToken);
                await ExpireHeldUserEventsAsync(cancellationToken);
            }

            return total;
        }
        finally
        {
            _running.Release();
        }
    }

    /// <summary>Tries again the stored events that failed to apply, when any is due; returns how many it applied.</summary>
    private async Task<int> RetryFailedAsync(CancellationToken cancellationToken, CancellationToken stopping)
    {
        // This process knows when each event it saw fail is due, so a pass looks for them only then.
        if (_scannedForRetries && !_retryNotBefore.Values.Any(due => due <= time.GetUtcNow().UtcDateTime))
        {
            return 0;
        }

        // The first scan after a start also tries once more the events given up before it: what failed them
        // may have been mended by the upgrade or the fix the restart brought in.
        var givenUpToo = !_scannedForRetries;
        var total = 0;
        long? retriedThrough = 0;
        while (retriedThrough is { } after && !stopping.IsCancellationRequested)
        {
            (var applied, retriedThrough) = await RetryBatchAsync(after, givenUpToo, cancellationToken);
            total += applied;
        }

        _scannedForRetries = true;
        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ProcessAsync(CancellationToken.None, stoppingToken);
                _firstPass.TrySetResult();
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                idle.CancelAfter(IdlePoll);
                await inbox.WaitForArrivalsAsync(idle.Token);
            }
            catch (OperationCanceledException)
            {
                // woken by the poll interval, or stopping
            }
            catch (Exception error)
            {
                if (SqliteFaults.IsStorageFault(error))
                {
                    metrics.StorageFault("webhooks");
                }

                LogLoopFailed(logger, error);
                await PauseAfterFailureAsync(stoppingToken);
            }
        }
    }

    /// <summary>
    /// A pass that failed (a full disk, say) would fail again at once: waiting keeps the loop from
    /// spinning and filling the log while the fault lasts. What it did not apply stays where it was.
    /// </summary>
    private static async Task PauseAfterFailureAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(IdlePoll, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>Moves the next deliveries from the inbox file into <c>webhook_events</c>, applying them.</summary>
    private async Task<int> MoveBatchAsync(CancellationToken cancellationToken)
    {
        var entries = await inboxFile.ReadAsync(_movedThrough, MoveBatchSize, MoveBatchBytes, cancellationToken);
        if (entries.Count == 0)
        {
            return 0;
        }

        using var span = StartBatchSpan("inbox", entries.Count);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var applier = scope.ServiceProvider.GetRequiredService<WebhookApplier>();
        var deliveries = entries.ConvertAll(e => Delivery.Read(storedId: null, inboxId: e.Id, e.ReceivedAt, e.BodySha256, e.Body));
        for (var moved = 0; moved < deliveries.Count;)
        {
            moved += await ApplyInTransactionAsync(db, applier, deliveries[moved..], yieldToClients: true, cancellationToken);

            // Only now, with those committed (synchronous=FULL) in the main database, may the inbox forget them.
            // No need to wait for that: the next turn starts after _movedThrough.
            _movedThrough = entries[moved - 1].Id;
            _forgotten = inbox.ForgetThroughAsync(_movedThrough);
        }

        return entries.Count;
    }

    /// <summary>
    /// Tries again, at most once per pass, the stored events after <paramref name="afterId"/> that failed to
    /// apply and whose pause is over (or that failed before a restart, or were never tried), and with
    /// <paramref name="givenUpToo"/> those that used up their attempts. Returns how many it applied and the
    /// last id it looked at, or null when none are left.
    /// </summary>
    private async Task<(int Applied, long? LastId)> RetryBatchAsync(long afterId, bool givenUpToo, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var applier = scope.ServiceProvider.GetRequiredService<WebhookApplier>();
        var ids = await db.WebhookEvents.AsNoTracking()
            .Where(e => e.Id > afterId && e.AppliedAt == null && (givenUpToo || e.Attempts < MaxAttempts))
            .OrderBy(e => e.Id).Take(BatchSize).Select(e => e.Id)
            .ToListAsync(cancellationToken);
        if (ids.Count == 0)
        {
            return (0, null);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var due = ids.Where(id => !_retryNotBefore.TryGetValue(id, out var notBefore) || notBefore <= now).ToList();
        if (due.Count > 0)
        {
            using var span = StartBatchSpan("retry", due.Count);
            due.ForEach(id => _retryNotBefore.Remove(id)); // a failure now sets its next pause again
            var events = await db.WebhookEvents.AsNoTracking().Where(e => due.Contains(e.Id)).OrderBy(e => e.Id)
                .Select(e => new { e.Id, e.ReceivedAt, e.BodySha256, e.Body }).ToListAsync(cancellationToken);
            var deliveries = events.ConvertAll(e => Delivery.Read(storedId: e.Id, inboxId: null, e.ReceivedAt, e.BodySha256, e.Body));
            var tried = 0;
            try
            {
                // An event that fails again ends its transaction after itself: those after it are tried in the next one, or they
                // would be left out of the schedule, unapplied, until a restart.
                while (tried < deliveries.Count)
                {
                    tried += await ApplyInTransactionAsync(db, applier, deliveries[tried..], yieldToClients: false, cancellationToken);
                }
            }
            catch
            {
                // Nothing of that transaction was written (a full disk, a lock): still due, or no later pass would look for them.
                foreach (var untried in events.Skip(tried))
                {
                    _retryNotBefore.TryAdd(untried.Id, now);
                }
                throw;
            }
        }

        return (due.Count(id => !_retryNotBefore.ContainsKey(id)), ids[^1]);
    }

    /// <summary>
    /// A span for one batch, when traces are exported (else null), so that its log lines carry a trace id. A root
    /// (the background loop runs under no request), except under the sandbox's inbound request, which runs a pass itself.
    /// </summary>
    private static System.Diagnostics.Activity? StartBatchSpan(string source, int deliveries) =>
        Metrics.TwaBotTracing.Source.StartActivity("apply webhook batch", System.Diagnostics.ActivityKind.Internal,
            parentContext: default, tags: [new("twabot.webhooks.source", source), new("twabot.webhooks.deliveries", deliveries)]);

    /// <summary>
    /// Applies the deliveries, or the first of them, in one transaction during one turn at the write gate; returns how many
    /// it applied. With <paramref name="yieldToClients"/>, a turn that has lasted <see cref="SqliteWriteGate.BackgroundMaxWait"/>
    /// ends at the next delivery once a send waits for the gate: a backlog of thousands would otherwise keep each send's commit
    /// waiting for a whole batch (hundreds of milliseconds on a busy machine), and neither side now waits much longer than
    /// that for the other.
    /// </summary>
    private async Task<int> ApplyInTransactionAsync(
        TwaBotDbContext db, WebhookApplier applier, List<Delivery> deliveries, bool yieldToClients, CancellationToken cancellationToken)
    {
        // Holding the gate, not SQLite's busy loop, keeps the send path's commits flowing between batches.
        using (await gate.EnterBackgroundAsync(cancellationToken))
        {
            var turnStarted = Environment.TickCount64;
            bool TurnIsOver() => yieldToClients && gate.ClientWriterWaiting
                && Environment.TickCount64 - turnStarted >= SqliteWriteGate.BackgroundMaxWait.TotalMilliseconds;

            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                var now = time.GetUtcNow().UtcDateTime;

                // Applying nearly never fails, so the batch is one plain transaction: a savepoint around it
                // would make SQLite copy every page the batch touches to a temporary file first, as many
                // bytes again as the commit itself. When it does fail, the transaction is rolled back and
                // the same deliveries applied again with a savepoint each, so only the failing one is kept
                // aside with its error.
                var applied = 0;
                try
                {
                    await InTransactionAsync(db, async commands =>
                    {
                        while (applied < deliveries.Count)
                        {
                            await ApplyAsync(commands, applier, deliveries[applied++], now, cancellationToken);
                            if (TurnIsOver())
                            {
                                break;
                            }
                        }
                    }, cancellationToken);
                }
                catch (Exception error) when (IsApplyFailure(error))
                {
                    db.ChangeTracker.Clear();
                    // The rolled-back attempt raised the counts of the BSUIDs it held: left high, they could make a business
                    // one short of its bound look full now, and a delivery's held events be dropped instead of kept.
                    await heldCounts.RecountChangedAsync(db, cancellationToken);
                    await InTransactionAsync(db, async commands =>
                    {
                        foreach (var delivery in deliveries[..applied])
                        {
                            await ApplyOrKeepErrorAsync(db, commands, applier, delivery, now, cancellationToken);
                        }
                    }, cancellationToken);
                }

                return applied;
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> in a transaction and commits it; if it throws, the transaction is rolled back.</summary>
    private static async Task InTransactionAsync(TwaBotDbContext db, Func<PreparedCommands, Task> work, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginAsync(db, cancellationToken);
        await using var commands = new PreparedCommands((SqliteConnection)db.Database.GetDbConnection())
        {
            Transaction = (SqliteTransaction)transaction.GetDbTransaction(),
        };
        await work(commands);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Begins the batch's transaction, waiting at most <see cref="ShortLockWait.Seconds"/> seconds, not the busy timeout (30 s), for
    /// a write lock another process holds: the write gate is held meanwhile, and sends queue behind it. Once begun the
    /// transaction has the lock, so its statements wait for nobody. A pass that finds the lock taken fails, and the loop
    /// tries again after its pause.
    /// </summary>
    private static async Task<IDbContextTransaction> BeginAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        using (new ShortLockWait((SqliteConnection)db.Database.GetDbConnection())) // BEGIN IMMEDIATE's busy wait
        {
            return await db.Database.BeginTransactionAsync(cancellationToken);
        }
    }

    /// <summary>Records the delivery as applied and applies it; a body already recorded is skipped.</summary>
    private static async Task ApplyAsync(
        PreparedCommands commands, WebhookApplier applier, Delivery delivery, DateTime now, CancellationToken cancellationToken)
    {
        if (delivery.StoredId is { } id)
        {
            await commands.Bind("UPDATE webhook_events SET applied_at = $now, attempts = attempts + 1, last_error = NULL WHERE id = $id",
                ("$id", id), ("$now", PreparedCommands.Text(now))).ExecuteNonQueryAsync(cancellationToken);
        }
        else if (await commands.Bind("""
            INSERT INTO webhook_events (received_at, event_time, body_sha256, body, applied_at, attempts)
            VALUES ($received_at, $event_time, $body_sha256, $body, $now, 1)
            ON CONFLICT (event_time, body_sha256) DO NOTHING
            """, ("$received_at", PreparedCommands.Text(delivery.ReceivedAt)), ("$event_time", delivery.EventTime), ("$body_sha256", delivery.BodySha256),
            ("$body", delivery.Body), ("$now", PreparedCommands.Text(now))).ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            return; // stored before: a redelivery, or moved just before a stop
        }

        // An unreadable body throws here, which undoes its row: it is then kept with its error instead.
        await applier.ApplyAsync(delivery.Content.PayloadOrThrow(), cancellationToken);
    }

    private async Task ApplyOrKeepErrorAsync(
        TwaBotDbContext db, PreparedCommands commands, WebhookApplier applier, Delivery delivery, DateTime now, CancellationToken cancellationToken)
    {
        await commands.Bind("SAVEPOINT delivery").ExecuteNonQueryAsync(cancellationToken);
        try
        {
            await ApplyAsync(commands, applier, delivery, now, cancellationToken);
            await commands.Bind("RELEASE delivery").ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception error) when (IsApplyFailure(error))
        {
            await RollBackToAsync(db, commands, "delivery", cancellationToken);
            await KeepWithErrorAsync(commands, delivery, error, now, cancellationToken);
        }
    }

    /// <summary>
    /// Stores a delivery that failed to apply with its error, counting the attempt, and sets when it is due again
    /// while it has attempts left.
    /// </summary>
    private async Task KeepWithErrorAsync(
        PreparedCommands commands, Delivery delivery, Exception error, DateTime now, CancellationToken cancellationToken)
    {
        var message = Unicode.TextCut.Prefix(error.Message, 500).ToString();
        // Unreadable bodies will never parse: give up on them at once.
        var attempts = error is JsonException ? MaxAttempts : 1;
        await using var kept = await commands.Bind("""
            INSERT INTO webhook_events (id, received_at, event_time, body_sha256, body, applied_at, attempts, last_error)
            VALUES ($id, $received_at, $event_time, $body_sha256, $body, NULL, $attempts, $error)
            ON CONFLICT (id) DO UPDATE SET attempts = CASE WHEN $attempts = 1 THEN attempts + 1 ELSE $attempts END, last_error = $error
            ON CONFLICT (event_time, body_sha256) DO NOTHING
            RETURNING id, attempts
            """, ("$id", delivery.StoredId), ("$received_at", PreparedCommands.Text(delivery.ReceivedAt)),
            ("$event_time", delivery.EventTime), ("$body_sha256", delivery.BodySha256), ("$body", delivery.Body), ("$attempts", attempts), ("$error", message))
            .ExecuteReaderAsync(cancellationToken);
        var stored = await kept.ReadAsync(cancellationToken);
        LogEventFailed(logger, error, stored ? kept.GetInt64(0) : delivery.StoredId, delivery.InboxId);
        // The batch's span (when traced; not a request's the batch runs under), so that a search for failed spans finds it.
        if (System.Diagnostics.Activity.Current is { } span && span.Source == Metrics.TwaBotTracing.Source)
        {
            span.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "a delivery could not be applied");
        }
        if (stored && kept.GetInt32(1) < MaxAttempts)
        {
            _retryNotBefore[kept.GetInt64(0)] = now + FirstRetryPause * Math.Pow(4, kept.GetInt32(1) - 1);
        }
    }

    /// <summary>Undoes everything since the savepoint, in the database and in EF's change tracker.</summary>
    private static async Task RollBackToAsync(TwaBotDbContext db, PreparedCommands commands, string savepoint, CancellationToken cancellationToken)
    {
        await commands.Bind("ROLLBACK TO " + savepoint).ExecuteNonQueryAsync(cancellationToken);
        await commands.Bind("RELEASE " + savepoint).ExecuteNonQueryAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    /// <summary>
    /// A failure of the delivery itself. A database that cannot be written (<see cref="SqliteFaults"/>) fails every
    /// delivery alike and is none of their faults: the pass stops with everything where it was, and the loop tries
    /// again after its pause; applying the batch again delivery by delivery would hold the write gate, which sends
    /// wait for, through a second wait for the lock, and count the fault against each delivery's attempts.
    /// </summary>
    private static bool IsApplyFailure(Exception error) =>
        error is JsonException or DbUpdateException or InvalidOperationException or SqliteException && !SqliteFaults.IsStorageFault(error);

    private async Task ApplyLeftoverParkedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var signal = scope.ServiceProvider.GetRequiredService<ParkedStatusSignal>();
        if (!signal.MayExist)
        {
            // None parked, so none to apply or expire: without this, every pass (each delivery, and every 5 s when
            // idle) took the write lock for the expiry's DELETE outside the write gate, and waited the whole busy
            // timeout for it while another process held the database.
            return;
        }

        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var writer = scope.ServiceProvider.GetRequiredService<MessageStatusWriter>();
        var ready = await ParkedWithTheirMessage(db).Take(BatchSize).ToListAsync(cancellationToken);
        foreach (var found in ready)
        {
            await writer.ApplyParkedAsync(found.BusinessId, found.MessageId, found.Wamid, cancellationToken);
        }

        // Probed first: the DELETE would take the write lock (outside the gate) every pass while any report is parked.
        var expired = time.GetUtcNow().UtcDateTime - ParkedKeptFor;
        if (await db.ParkedStatuses.AnyAsync(p => p.ReceivedAt < expired, cancellationToken))
        {
            await db.ParkedStatuses.Where(p => p.ReceivedAt < expired).ExecuteDeleteAsync(cancellationToken);
        }

        if (!await db.ParkedStatuses.AnyAsync(cancellationToken))
        {
            signal.FoundNone();
        }
    }

    /// <summary>
    /// The parked reports whose message has appeared, with it. Only those marked by the triggers on <c>messages</c>
    /// (<see cref="ParkedStatus.MessageFound"/>) are read: a number shared with another system parks reports that
    /// never match, and reading them all took up to half a second a pass at 100,000 (docs/performance.md).
    /// </summary>
    internal static IQueryable<ParkedMatch> ParkedWithTheirMessage(TwaBotDbContext db) => (
        from parked in db.ParkedStatuses
        where parked.MessageFound
        from message in db.Messages
        where message.BusinessId == parked.BusinessId && message.Wamid != null && message.Wamid == parked.Wamid
        select new ParkedMatch { BusinessId = message.BusinessId, MessageId = message.Id, Wamid = message.Wamid! })
        .Distinct().OrderBy(found => found.MessageId);

    internal sealed record ParkedMatch
    {
        public long BusinessId { get; init; }

        public long MessageId { get; init; }

        public required string Wamid { get; init; }
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    // Not {EventId}: that name is the log event's own id, and would hide the stored event's.
    [LoggerMessage(Level = LogLevel.Error, Message = "A webhook delivery (webhook_events id {WebhookEventId}, inbox {InboxId}) could not be applied")]
    private static partial void LogEventFailed(ILogger logger, Exception error, long? webhookEventId, long? inboxId);

    /// <summary>
    /// Waits for the inbox to forget what was moved. If that commit failed (a disk error), the inbox keeps its
    /// mark and forgets them with its next commit, and a restart would skip them by their stored keys; the
    /// failure is logged once here rather than failing every later pass (retries and parked statuses too).
    /// </summary>
    private async Task ForgottenAsync()
    {
        try
        {
            await _forgotten;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogForgetFailed(logger, error);
            _forgotten = Task.CompletedTask;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The inbox file could not forget the deliveries already applied; its next commit will")]
    private static partial void LogForgetFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "The webhook processor failed; it carries on")]
    private static partial void LogLoopFailed(ILogger logger, Exception error);

    /// <summary>A delivery to apply: from the inbox file (not stored yet) or a stored event being retried.</summary>
    private sealed record Delivery(long? StoredId, long? InboxId, DateTime ReceivedAt, byte[] BodySha256, byte[] Body, ReadBody Content)
    {
        /// <summary>With <see cref="BodySha256"/>, the key that keeps a body from being stored twice (see <see cref="WebhookEvent.EventTime"/>).</summary>
        public long EventTime { get; } = Content.Payload?.EarliestEventTime ?? 0;

        public static Delivery Read(long? storedId, long? inboxId, DateTime receivedAt, byte[] bodySha256, byte[] body) =>
            new(storedId, inboxId, receivedAt, bodySha256, body, ReadBody.Of(body, receivedAt));
    }

    /// <summary>
    /// A delivery's body, parsed before the write gate is taken: parsing is a good part of applying, and
    /// sends wait for the gate. Unreadable bodies keep their error for when the delivery is applied.
    /// </summary>
    private sealed record ReadBody(WebhookPayload? Payload, JsonException? Unreadable)
    {
        public static ReadBody Of(byte[] body, DateTime receivedAt)
        {
            try
            {
                return new ReadBody(WebhookPayload.Parse(body, receivedAt), null);
            }
            catch (JsonException error)
            {
                // Its message may quote the body (an unknown literal, a string never closed), up to 3 MB, into an Error
                // line logged again at each start: where the body stops being JSON is what an operator can use.
                return new ReadBody(null, new JsonException(error.LineNumber is { } line && error.BytePositionInLine is { } position
                    ? $"The delivery is not JSON the server can read (it stops at line {line + 1}, byte {position + 1})."
                    : "The delivery is not JSON the server can read."));
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // Whatever a signed body holds, it must not stop the processor: it is kept aside with its error.
                return new ReadBody(null, new JsonException($"The delivery could not be read: {error.Message}", error));
            }
        }

        public WebhookPayload PayloadOrThrow()
        {
            if (Unreadable is not null)
            {
                ExceptionDispatchInfo.Throw(Unreadable);
            }

            return Payload!;
        }
    }
}
