using System.Collections.Concurrent;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// The per-minute limits: per key, then global, in fixed windows aligned to wall-clock minutes.
/// Written here rather than with System.Threading.RateLimiting because its limiters read the
/// Stopwatch (no TimeProvider, so no fake clock in tests), report Retry-After as the whole window,
/// and, chained, spend the global permit of requests the per-key limiter then rejects, letting one
/// noisy key starve the others. Here a request takes a global permit only after passing its key's
/// limit, and retry_after is the real time to the window's end.
/// </summary>
public sealed class MinuteRateLimiter(TimeProvider time)
{
    /// <summary>Where a snapshot keeps the global count.</summary>
    public const long GlobalKeyId = 0;

    private readonly ConcurrentDictionary<long, MinuteWindow> _keys = new();
    private readonly MinuteWindow _global = new();

    public MinuteDecision TryAcquire(long keyId, int perKeyLimit, int globalLimit)
    {
        var (minute, retryAfterSeconds) = MinuteWindow.Now(time);
        if (!MinuteWindow.TryTake(_keys, keyId, minute, perKeyLimit, out var keyRemaining, out var key))
        {
            return MinuteDecision.Reject(perKeyLimit, key.SecondsUntilItEnds(minute, retryAfterSeconds));
        }

        if (!_global.TryTake(minute, globalLimit, out var globalRemaining))
        {
            key.GiveBack(minute); // refused globally: the key's own budget is not spent either
            return MinuteDecision.Reject(perKeyLimit, _global.SecondsUntilItEnds(minute, retryAfterSeconds), byGlobalLimit: true);
        }

        if (_global.StartedNewMinute(minute))
        {
            ForgetIdleKeys(minute);
        }

        // What the key may still send this minute: its own quota, or the server's when less is left of that; and
        // when its window ends (after a clock stepped back a moment, the newer minute it still counts in).
        return MinuteDecision.Allow(perKeyLimit, Math.Min(keyRemaining, globalRemaining), key.SecondsUntilItEnds(minute, retryAfterSeconds));
    }

    private void ForgetIdleKeys(long minute) => MinuteWindow.ForgetIdle(_keys, minute);

    /// <summary>How many keys the limiter holds a window for: those seen this minute, once the minute's sweep has run.</summary>
    internal int TrackedKeys => _keys.Count;

    /// <summary>The current minute's counts, the global one under key 0 (no API key has id 0).</summary>
    public (long Minute, IReadOnlyList<(long KeyId, int Count)> Counts) Snapshot()
    {
        var (minute, _) = MinuteWindow.Now(time);
        var counts = _keys.Select(pair => (pair.Key, pair.Value.CountIn(minute))).Prepend((GlobalKeyId, _global.CountIn(minute)))
            .Where(count => count.Item2 > 0).ToList();
        return (minute, counts);
    }

    /// <summary>Adds what an earlier process counted, when it counted in the current minute.</summary>
    public void Restore(long minute, IEnumerable<(long KeyId, int Count)> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (minute != MinuteWindow.Now(time).Minute)
        {
            return;
        }

        foreach (var (keyId, count) in counts)
        {
            (keyId == GlobalKeyId ? _global : _keys.GetOrAdd(keyId, static _ => new MinuteWindow())).Add(minute, count);
        }
    }
}

/// <summary>
/// The outcome for one request, with what the RateLimit headers and a 429 need; <paramref name="ByGlobalLimit"/>: refused by the
/// server's shared limit rather than the key's own (for the log line).
/// </summary>
public readonly record struct MinuteDecision(bool Allowed, int Limit, int Remaining, int ResetSeconds, bool ByGlobalLimit = false)
{
    public static MinuteDecision Allow(int limit, int remaining, int resetSeconds) => new(true, limit, remaining, resetSeconds);

    public static MinuteDecision Reject(int limit, int retryAfterSeconds, bool byGlobalLimit = false) =>
        new(false, limit, 0, retryAfterSeconds, byGlobalLimit);
}
