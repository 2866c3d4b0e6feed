using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;

namespace TwaBot.Api.Sending;

/// <summary>
/// Settles sends left <c>pending</c>: the server stopped between writing the row and hearing Meta's
/// answer, or Meta never answered and no status webhook came. Meta may have sent such a message, so
/// it is marked <c>unknown</c> and keeps its unit of the daily cap; a late status webhook still turns
/// it into a success. Runs at start and then every minute.
/// </summary>
public sealed partial class InterruptedSendSweeper(
    IServiceScopeFactory scopes, SqliteWriteGate gate, SendsInFlight inFlight, TimeProvider time, ILogger<InterruptedSendSweeper> logger)
    : PeriodicSweep(time, logger)
{
    /// <summary>Far beyond the Meta client's total timeout: a row this old has no answer coming.</summary>
    public static readonly TimeSpan SettleAfter = TimeSpan.FromMinutes(10);

    protected override TimeSpan Period => TimeSpan.FromMinutes(1);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var now = Time.GetUtcNow().UtcDateTime;
        var before = now - SettleAfter;
        // Not the sends still under way here: only a clock set forward makes one look this old.
        var underWay = inFlight.Snapshot();
        var due = db.Messages.Where(m => m.ApiStatus == ApiStatuses.Pending && m.CreatedAt < before && !underWay.Contains(m.Id));
        // Nearly always none: a read takes no write lock, where the UPDATE takes it even to change nothing (and, with
        // another process holding the database, waited the whole busy timeout holding the gate sends queue behind).
        if (!await due.AnyAsync(cancellationToken))
        {
            return 0;
        }

        // In the writers' queue like other background work: outside it, SQLite's busy wait kept the sweep
        // (and a stop, which waits for it) behind a webhook backlog being applied, for seconds.
        using var turn = await gate.EnterBackgroundAsync(cancellationToken);
        int settled;
        // Sends queue behind the gate held here: another process's write lock is waited for briefly, not through the busy
        // timeout (30 s). A sweep that finds it still taken fails, and the next minute's settles the rows.
        using (await ShortLockWait.OnAsync(db, cancellationToken))
        {
            settled = await due
                .ExecuteUpdateAsync(set => set
                    .SetProperty(m => m.ApiStatus, ApiStatuses.Unknown)
                    // A reason already stored (Meta answered with a 5xx, or without a message id) says more.
                    .SetProperty(m => m.FailureReason, m => m.FailureReason ?? "The send was interrupted before Meta answered; it may have been delivered.")
                    .SetProperty(m => m.UpdatedAt, now), cancellationToken);
        }

        if (settled > 0)
        {
            LogSettled(logger, settled);
        }

        return settled;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} interrupted send(s) marked unknown; they still count against their key's daily cap")]
    private static partial void LogSettled(ILogger logger, int count);
}
