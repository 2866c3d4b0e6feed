using System.Text.Json;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Applies stored webhook events in the background, oldest first, a batch per transaction (a
/// savepoint per event, so one bad event does not undo the others). It wakes when the inbox commits,
/// and at start, so events stored before a stop are applied after the restart. Every few seconds it
/// also applies parked statuses whose message has since appeared.
/// </summary>
public sealed partial class WebhookProcessor(
    IServiceScopeFactory scopes, SqliteWriteGate gate, Sending.SendLookups lookups, TimeProvider time, ILogger<WebhookProcessor> logger)
    : BackgroundService
{
    // Small enough that the inbox, queued behind a batch for the write gate, waits only milliseconds.
    private const int BatchSize = 50;
    private const int MaxAttempts = 5;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ParkedKeptFor = TimeSpan.FromDays(7);

    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim _running = new(1, 1);
    private readonly TaskCompletionSource _firstPass = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the pass made at start (events left from before a restart) is done.</summary>
    public Task FirstPass => _firstPass.Task;

    /// <summary>New events were committed.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    /// <summary>
    /// Applies everything stored and not yet applied, then the parked statuses that can be; returns
    /// how many events it applied. The background loop calls it; tests await it instead of sleeping.
    /// </summary>
    public async Task<int> ProcessPendingAsync(CancellationToken cancellationToken = default)
    {
        await _running.WaitAsync(cancellationToken);
        try
        {
            var total = 0;
            int applied;
            do
            {
                applied = await ProcessBatchAsync(cancellationToken);
                total += applied;
            }
            while (applied > 0);

            await ApplyLeftoverParkedAsync(cancellationToken);
            return total;
        }
        finally
        {
            _running.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ProcessPendingAsync(stoppingToken);
                _firstPass.TrySetResult();
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                idle.CancelAfter(IdlePoll);
                await _wake.Reader.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException)
            {
                // woken by the poll interval, or stopping
            }
            catch (Exception error)
            {
                LogLoopFailed(logger, error);
            }
        }
    }

    private async Task<int> ProcessBatchAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var applier = scope.ServiceProvider.GetRequiredService<WebhookApplier>();
        var events = await db.WebhookEvents.AsNoTracking()
            .Where(e => e.AppliedAt == null && e.Attempts < MaxAttempts)
            .OrderBy(e => e.Id).Take(BatchSize)
            .Select(e => new { e.Id, e.Body })
            .ToListAsync(cancellationToken);
        if (events.Count == 0)
        {
            return 0;
        }

        // Holding the gate, not SQLite's busy loop, keeps the inbox's commits flowing between batches.
        using var turn = await gate.EnterBackgroundAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        // What a batch writes is derived from stored events and applying is idempotent, so its commit
        // need not wait for the disk: if power loss took it, the events are still unapplied and are
        // applied again. The inbox's own commits stay FULL.
        await db.Database.ExecuteSqlRawAsync(SqliteDurability.DerivedStatePragmas, cancellationToken);
        try
        {
            return await ApplyBatchAsync(db, applier, events.ConvertAll(e => (e.Id, e.Body)), cancellationToken);
        }
        finally
        {
            await db.Database.ExecuteSqlRawAsync(SqliteDurability.Pragmas, CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }
    }

    private async Task<int> ApplyBatchAsync(
        TwaBotDbContext db, WebhookApplier applier, List<(long Id, byte[] Body)> events, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var applied = new List<long>(events.Count);
        foreach (var stored in events)
        {
            await transaction.CreateSavepointAsync("event", cancellationToken);
            try
            {
                await applier.ApplyAsync(WebhookPayload.Parse(stored.Body), cancellationToken);
                await transaction.ReleaseSavepointAsync("event", cancellationToken);
                applied.Add(stored.Id);
            }
            catch (Exception error) when (error is JsonException or DbUpdateException or InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
            {
                await transaction.RollbackToSavepointAsync("event", cancellationToken);
                await transaction.ReleaseSavepointAsync("event", cancellationToken);
                db.ChangeTracker.Clear();
                LogEventFailed(logger, error, stored.Id);
                var message = error.Message.Length > 500 ? error.Message[..500] : error.Message;
                // Unreadable bodies will never parse: give up on them at once.
                await db.WebhookEvents.Where(e => e.Id == stored.Id)
                    .ExecuteUpdateAsync(set => set
                        .SetProperty(e => e.Attempts, e => error is JsonException ? MaxAttempts : e.Attempts + 1)
                        .SetProperty(e => e.LastError, message), cancellationToken);
            }
        }

        await db.WebhookEvents.Where(e => applied.Contains(e.Id))
            .ExecuteUpdateAsync(set => set.SetProperty(e => e.AppliedAt, now).SetProperty(e => e.Attempts, e => e.Attempts + 1), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (applier.ChangedSendLookups)
        {
            lookups.Invalidate();
        }

        return events.Count;
    }

    private async Task ApplyLeftoverParkedAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var writer = scope.ServiceProvider.GetRequiredService<MessageStatusWriter>();
        var ready = await (
            from parked in db.ParkedStatuses
            from message in db.Messages
            where message.BusinessId == parked.BusinessId && message.Wamid != null
                && (message.Wamid == parked.Wamid || message.Id == parked.MessageId)
            select new { message.BusinessId, MessageId = message.Id, Wamid = message.Wamid! })
            .Distinct().OrderBy(found => found.MessageId).Take(BatchSize).ToListAsync(cancellationToken);
        foreach (var found in ready)
        {
            await writer.ApplyParkedAsync(found.BusinessId, found.MessageId, found.Wamid, cancellationToken);
        }

        var expired = time.GetUtcNow().UtcDateTime - ParkedKeptFor;
        await db.ParkedStatuses.Where(p => p.ReceivedAt < expired).ExecuteDeleteAsync(cancellationToken);
        if (!await db.ParkedStatuses.AnyAsync(cancellationToken))
        {
            scope.ServiceProvider.GetRequiredService<ParkedStatusSignal>().FoundNone();
        }
    }

    public override void Dispose()
    {
        _running.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Webhook event {EventId} could not be applied")]
    private static partial void LogEventFailed(ILogger logger, Exception error, long eventId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The webhook processor failed; it carries on")]
    private static partial void LogLoopFailed(ILogger logger, Exception error);
}
