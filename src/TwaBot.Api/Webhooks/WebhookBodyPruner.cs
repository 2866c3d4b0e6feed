using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Drops the raw bodies of deliveries applied more than <c>TwaBot:Webhooks:KeepBodiesDays</c> ago, which
/// are most of what <c>webhook_events</c> weighs. Each row stays, with its de-duplication key, so a
/// redelivery or a replay of the same body is still recognised and skipped. Deliveries not applied keep
/// their bodies: they may be tried again. Runs at start and then every hour, a batch per transaction.
/// </summary>
public sealed partial class WebhookBodyPruner(
    IServiceScopeFactory scopes, SqliteWriteGate gate, IOptions<TwaBotOptions> options, TimeProvider time, ILogger<WebhookBodyPruner> logger)
    : PeriodicSweep(time, logger)
{
    private const int BatchSize = 1000;

    protected override TimeSpan Period => TimeSpan.FromHours(1);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PruneAsync(cancellationToken);

    /// <summary>Drops the bodies that are due; returns how many.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken = default)
    {
        var before = Time.GetUtcNow().UtcDateTime.AddDays(-options.Value.Webhooks.KeepBodiesDays);
        var dropped = Array.Empty<byte>();
        var total = 0;
        long after = 0; // a batch starts where the last ended, so a large first sweep does not rescan what it did
        List<long> due;
        do
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            due = await db.WebhookEvents.Where(e => e.Id > after && e.AppliedAt != null && e.AppliedAt < before && e.Body != dropped)
                .OrderBy(e => e.Id).Take(BatchSize).Select(e => e.Id).ToListAsync(cancellationToken);
            if (due.Count > 0)
            {
                using (await gate.EnterBackgroundAsync(cancellationToken))
                {
                    total += await db.WebhookEvents.Where(e => due.Contains(e.Id))
                        .ExecuteUpdateAsync(set => set.SetProperty(e => e.Body, dropped), cancellationToken);
                }

                after = due[^1];
            }
        }
        while (due.Count == BatchSize);

        if (total > 0)
        {
            LogPruned(logger, total);
        }

        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped the raw bodies of {Count} webhook deliveries applied long ago")]
    private static partial void LogPruned(ILogger logger, int count);
}
