using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.RateLimiting;

/// <summary>A per-minute count kept over a restart: an API key's, or the global one under key 0.</summary>
public sealed class MinuteCount
{
    public long KeyId { get; set; }

    /// <summary>Minutes since the Unix epoch.</summary>
    public long Minute { get; set; }

    public int Count { get; set; }
}

/// <summary>
/// Keeps the per-minute counts across a restart: they are written at a graceful stop (after the last request)
/// and read back at start when it is still that minute, so a deploy mid-minute does not hand out a second
/// minute's worth. A process killed outright loses them; the daily cap, counted from message rows, does not.
/// </summary>
public sealed partial class MinuteCountsKeeper(
    MinuteRateLimiter limiter, IServiceScopeFactory scopes, IHostApplicationLifetime lifetime, ILogger<MinuteCountsKeeper> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            var kept = await db.MinuteCounts.AsNoTracking().ToListAsync(cancellationToken);
            foreach (var minute in kept.GroupBy(c => c.Minute))
            {
                limiter.Restore(minute.Key, minute.Select(c => (c.KeyId, c.Count)));
            }

            if (kept.Count > 0)
            {
                await db.MinuteCounts.ExecuteDeleteAsync(cancellationToken); // read once: a later crash must not restore them again
            }
        }

        // Stopped, not stopping: by then the server has answered its last request.
        lifetime.ApplicationStopped.Register(Save);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Save()
    {
        try
        {
            var (minute, counts) = limiter.Snapshot();
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            db.MinuteCounts.AddRange(counts.Select(c => new MinuteCount { KeyId = c.KeyId, Minute = minute, Count = c.Count }));
            db.SaveChanges();
        }
        catch (Exception error)
        {
            LogNotKept(logger, error); // the next minute is a fresh one anyway
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The per-minute counts could not be kept for the next start; it will count this minute afresh")]
    private static partial void LogNotKept(ILogger logger, Exception error);
}
