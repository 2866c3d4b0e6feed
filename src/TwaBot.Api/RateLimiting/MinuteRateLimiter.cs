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
    private const long WindowMilliseconds = 60_000;
    private readonly ConcurrentDictionary<long, Window> _keys = new();
    private readonly Window _global = new();

    public MinuteDecision TryAcquire(long keyId, int perKeyLimit, int globalLimit)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var minute = nowMs / WindowMilliseconds;
        var retryAfterSeconds = (int)Math.Ceiling(((minute + 1) * WindowMilliseconds - nowMs) / 1000.0);

        var key = _keys.GetOrAdd(keyId, static _ => new Window());
        if (!key.TryTake(minute, perKeyLimit, out var keyRemaining))
        {
            return MinuteDecision.Reject(retryAfterSeconds, perKeyLimit);
        }

        if (!_global.TryTake(minute, globalLimit, out _))
        {
            key.GiveBack(minute); // refused globally: the key's own budget is not spent either
            return MinuteDecision.Reject(retryAfterSeconds, perKeyLimit);
        }

        if (_global.StartedNewMinute(minute))
        {
            ForgetIdleKeys(minute);
        }

        return MinuteDecision.Allow(perKeyLimit, keyRemaining, retryAfterSeconds);
    }

    private void ForgetIdleKeys(long minute)
    {
        foreach (var (id, window) in _keys)
        {
            if (window.IsBefore(minute))
            {
                _keys.TryRemove(KeyValuePair.Create(id, window));
            }
        }
    }

    /// <summary>A count for one minute. Locks are per window and held for a few instructions.</summary>
    private sealed class Window
    {
        private readonly Lock _lock = new();
        private long _minute = -1;
        private long _sweptMinute = -1;
        private int _count;

        public bool TryTake(long minute, int limit, out int remaining)
        {
            lock (_lock)
            {
                if (_minute != minute)
                {
                    _minute = minute;
                    _count = 0;
                }

                if (_count >= limit)
                {
                    remaining = 0;
                    return false;
                }

                _count++;
                remaining = limit - _count;
                return true;
            }
        }

        public void GiveBack(long minute)
        {
            lock (_lock)
            {
                if (_minute == minute && _count > 0)
                {
                    _count--;
                }
            }
        }

        public bool IsBefore(long minute)
        {
            lock (_lock)
            {
                return _minute < minute;
            }
        }

        /// <summary>True once per minute, for the caller that should sweep idle keys.</summary>
        public bool StartedNewMinute(long minute)
        {
            lock (_lock)
            {
                if (_sweptMinute == minute)
                {
                    return false;
                }

                _sweptMinute = minute;
                return true;
            }
        }
    }
}

/// <summary>The outcome for one request, with what the RateLimit headers and a 429 need.</summary>
public readonly record struct MinuteDecision(bool Allowed, int Limit, int Remaining, int ResetSeconds)
{
    public static MinuteDecision Allow(int limit, int remaining, int resetSeconds) => new(true, limit, remaining, resetSeconds);

    public static MinuteDecision Reject(int retryAfterSeconds, int limit) => new(false, limit, 0, retryAfterSeconds);
}
