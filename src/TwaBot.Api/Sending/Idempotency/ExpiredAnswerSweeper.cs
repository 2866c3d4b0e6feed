using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Sending.Idempotency;

/// <summary>
/// Drops the answers Idempotency-Keys kept past their <see cref="IdempotencyKeys.KeptFor"/>: a send-otp's holds the code,
/// and a key no longer used would keep its last answers for ever, since keeping a new answer is the other time old
/// ones go. Runs at start and then every hour.
/// </summary>
public sealed partial class ExpiredAnswerSweeper(
    IServiceScopeFactory scopes, SqliteWriteGate gate, TimeProvider time, ILogger<ExpiredAnswerSweeper> logger)
    : PeriodicSweep(time, logger)
{
    protected override TimeSpan Period => TimeSpan.FromHours(1);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Drops the answers past their time; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var expired = Time.GetUtcNow().UtcDateTime - IdempotencyKeys.KeptFor;
        var due = db.IdempotentAnswers.Where(a => a.CreatedAt <= expired);
        // Usually none: a read takes no write lock (the created_at index answers it).
        if (!await due.AnyAsync(cancellationToken))
        {
            return 0;
        }

        int dropped;
        using (await gate.EnterBackgroundAsync(cancellationToken))
        using (await ShortLockWait.OnAsync(db, cancellationToken)) // sends queue behind the gate: a foreign lock is waited for briefly
        {
            dropped = await due.ExecuteDeleteAsync(cancellationToken);
        }

        LogDropped(logger, dropped);
        return dropped;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped {Count} answers kept for Idempotency-Keys past their 24 hours")]
    private static partial void LogDropped(ILogger logger, int count);
}
