using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

public sealed partial class WebhookProcessor
{
    /// <summary>
    /// Drops the events held for a BSUID that no webhook has paired within <see cref="HeldUserEventCounts.KeptFor"/> of the
    /// last one held (logged per business), then counts again the businesses whose held rows changed, now that the batches
    /// are committed. Nothing is read while nothing is held.
    /// </summary>
    private async Task ExpireHeldUserEventsAsync(CancellationToken cancellationToken)
    {
        if (!heldCounts.AnyHeldOrChanged)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        await heldCounts.LoadAsync(db, cancellationToken);
        var expired = time.GetUtcNow().UtcDateTime - HeldUserEventCounts.KeptFor;
        // Probed first (through the received_at index): the DELETE would take the write lock every pass while anything is held.
        var dropped = (await ExpiredHeldBusinesses(db, expired).ToListAsync(cancellationToken))
            .CountBy(businessId => businessId).ToList();
        if (dropped.Count > 0)
        {
            // Behind the write gate, waiting only briefly for another process's lock (sends queue behind the gate); a pass
            // that finds it taken fails, and a later one drops them.
            using (await gate.EnterBackgroundAsync(cancellationToken))
            {
                await db.Database.OpenConnectionAsync(cancellationToken);
                using (new ShortLockWait((SqliteConnection)db.Database.GetDbConnection()))
                {
                    await db.HeldUserEvents.Where(h => h.ReceivedAt < expired).ExecuteDeleteAsync(cancellationToken);
                }
            }

            foreach (var (businessId, count) in dropped)
            {
                heldCounts.Changed(businessId);
                LogHeldExpired(logger, count, businessId, HeldUserEventCounts.KeptFor.TotalDays);
            }
        }

        await heldCounts.RecountChangedAsync(db, cancellationToken);
    }

    /// <summary>
    /// The business of each held row last held before <paramref name="expired"/>, through the <c>received_at</c> index: a
    /// grouped count made SQLite scan every held row (by the business index) in each pass.
    /// </summary>
    internal static IQueryable<long> ExpiredHeldBusinesses(TwaBotDbContext db, DateTime expired) =>
        db.HeldUserEvents.Where(h => h.ReceivedAt < expired).Select(h => h.BusinessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped the held events (window, STOP / START, marketing preference) of {Count} business-scoped user ids of business {BusinessId}: no webhook paired them with a phone number within {Days} days")]
    private static partial void LogHeldExpired(ILogger logger, int count, long businessId, double days);
}
