using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Drops the raw bodies of deliveries applied more than <c>TwaBot:Webhooks:KeepBodiesDays</c> ago, which
/// are most of what <c>webhook_events</c> weighs, and the texts of customers' messages sent longer ago
/// than that (the customers' words, which nothing reads once their message is applied). Each row stays,
/// with its de-duplication key, so a redelivery or a replay of the same body is still recognised and
/// skipped. Deliveries not applied keep their bodies: they may be tried again. Runs at start and then
/// every hour, a batch per transaction.
/// </summary>
public sealed partial class WebhookBodyPruner(
    IServiceScopeFactory scopes, SqliteWriteGate gate, IOptions<TwaBotOptions> options, TimeProvider time, ILogger<WebhookBodyPruner> logger)
    : PeriodicSweep(time, logger)
{
    private const int BatchSize = 1000;

    private static readonly DateTime NeverPruned = new(0, DateTimeKind.Utc);

    /// <summary>The name of its <see cref="SweepMark"/>.</summary>
    internal const string MarkName = "webhook_bodies";


    // Each delivery's applied_at passes a run's cutoff once, so a run need only look at deliveries applied
    // since the previous run's cutoff, through the applied_at index, instead of every old row each hour.
    // That holds because the processor stamps applied_at with the time it applies, at least a day after
    // any cutoff already passed. The cutoff is also stored (sweep_marks), so a start goes on from it too.
    private long _prunedBeforeTicks = -1; // DateTime ticks; -1 until read from the database

    protected override TimeSpan Period => TimeSpan.FromHours(1);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    /// <summary>Drops the bodies and texts that are due; returns how many bodies.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken = default)
    {
        var before = Time.GetUtcNow().UtcDateTime.AddDays(-options.Value.Webhooks.KeepBodiesDays);
        var bodies = await DropBodiesAsync(before, cancellationToken);
        var texts = await DropInboundTextsAsync(before, cancellationToken);
        if (bodies > 0 || texts > 0)
        {
            LogPruned(logger, bodies, texts);
        }

        return bodies;
    }

    private async Task<int> DropBodiesAsync(DateTime before, CancellationToken cancellationToken)
    {
        var dropped = Array.Empty<byte>();
        var total = 0;
        var mark = await PrunedBeforeAsync(cancellationToken);
        // A mark past the cutoff (the clock set back, or KeepBodiesDays raised) may have deliveries applied before
        // it and not yet pruned: those runs read everything older once, as the first run on a database does.
        // A batch starts after the last one's (applied_at, id), so a long run never looks at a row twice.
        var (lastAt, lastId) = (mark <= before ? mark : NeverPruned, 0L);
        int found;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            var due = await db.WebhookEvents
                .Where(e => e.AppliedAt >= lastAt && e.AppliedAt < before && (e.AppliedAt > lastAt || e.Id > lastId) && e.Body != dropped)
                .OrderBy(e => e.AppliedAt).ThenBy(e => e.Id).Take(BatchSize)
                .Select(e => new { e.Id, AppliedAt = e.AppliedAt!.Value })
                .ToListAsync(cancellationToken);
            found = due.Count;
            if (found > 0)
            {
                var ids = due.ConvertAll(e => e.Id);
                using (await gate.EnterBackgroundAsync(cancellationToken))
                using (await ShortLockWait.OnAsync(db, cancellationToken)) // sends queue behind the gate: a foreign lock is waited for briefly
                {
                    total += await db.WebhookEvents.Where(e => ids.Contains(e.Id))
                        .ExecuteUpdateAsync(set => set.SetProperty(e => e.Body, dropped), cancellationToken);
                }

                (lastAt, lastId) = (due[^1].AppliedAt, due[^1].Id);
            }
        }
        while (found == BatchSize);

        // Two runs at once (the hourly one and a direct call) may race here and move it back a run: harmless,
        // the next run then looks at a little more than it needs to.
        if (before != mark)
        {
            await StorePrunedBeforeAsync(before, cancellationToken);
        }

        return total;
    }

    /// <summary>The last run's cutoff: in memory, or at a start the stored one (none: the start of time).</summary>
    private async Task<DateTime> PrunedBeforeAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _prunedBeforeTicks) is >= 0 and var ticks)
        {
            return new DateTime(ticks, DateTimeKind.Utc);
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var stored = await db.SweepMarks.AsNoTracking().Where(m => m.Name == MarkName)
            .Select(m => (DateTime?)m.DoneBefore).SingleOrDefaultAsync(cancellationToken) ?? NeverPruned;
        Volatile.Write(ref _prunedBeforeTicks, stored.Ticks);
        return stored;
    }

    // One row, once a run: nothing on the paths that write deliveries. Behind another process's write lock it gives up
    // soon (ShortLockWait); a mark not stored then is stored by the next run, and a restart before that reads a little more.
    private async Task StorePrunedBeforeAsync(DateTime before, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _prunedBeforeTicks, before.Ticks);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        using (await gate.EnterBackgroundAsync(cancellationToken))
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            try
            {
                var connection = (SqliteConnection)db.Database.GetDbConnection();
                using (new ShortLockWait(connection))
                {
                    // On the connection, not through EF, which logs a failed command at Error: giving up here is expected.
                    await using var command = connection.CreateCommand();
                    command.CommandText =
                        "INSERT INTO sweep_marks (name, done_before) VALUES ($name, $before) ON CONFLICT (name) DO UPDATE SET done_before = excluded.done_before";
                    command.Parameters.AddWithValue("$name", MarkName);
                    command.Parameters.AddWithValue("$before", PreparedCommands.Text(before));
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            catch (SqliteException error) when (ShortLockWait.IsBusy(error))
            {
                // another process holds the write lock: the next run stores it
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
    }

    // Texts still kept are few (a partial index holds only them), so each run reads them from the start.
    private async Task<int> DropInboundTextsAsync(DateTime before, CancellationToken cancellationToken)
    {
        var total = 0;
        int found;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            var ids = await db.InboundMessages
                .Where(m => m.Text != null && m.SentAt < before)
                .OrderBy(m => m.SentAt).Take(BatchSize).Select(m => m.Id)
                .ToListAsync(cancellationToken);
            found = ids.Count;
            if (found > 0)
            {
                using (await gate.EnterBackgroundAsync(cancellationToken))
                using (await ShortLockWait.OnAsync(db, cancellationToken)) // sends queue behind the gate: a foreign lock is waited for briefly
                {
                    total += await db.InboundMessages.Where(m => ids.Contains(m.Id))
                        .ExecuteUpdateAsync(set => set.SetProperty(m => m.Text, (string?)null), cancellationToken);
                }
            }
        }
        while (found == BatchSize);

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Dropped the raw bodies of {Bodies} webhook deliveries and the texts of {Texts} customer messages kept past their days")]
    private static partial void LogPruned(ILogger logger, int bodies, int texts);
}
