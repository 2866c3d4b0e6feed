using System.Collections.Concurrent;

namespace TwaBot.Api.RateLimiting;

/// <summary>A count for one wall-clock minute. Locks are per window and held for a few instructions.</summary>
internal sealed class MinuteWindow
{
    private const long Milliseconds = 60_000;

    private readonly Lock _lock = new();
    private long _minute = -1;
    private long _sweptMinute = -1;
    private int _count;
    private bool _forgotten; // dropped from its map by ForgetIdle: counting here would count nowhere

    public bool TryTake(long minute, int limit, out int remaining) =>
        Take(minute, limit, out remaining) ?? throw new InvalidOperationException("A forgotten window is taken from through its map.");

    /// <summary>
    /// Takes one unit of <paramref name="key"/>'s window in <paramref name="windows"/>, creating it if needed. A
    /// window fetched just before <see cref="ForgetIdle"/> dropped it is passed over for the one now in the map:
    /// a unit counted in the dropped one would let the key past its limit.
    /// </summary>
    public static bool TryTake<TKey>(
        ConcurrentDictionary<TKey, MinuteWindow> windows, TKey key, long minute, int limit, out int remaining, out MinuteWindow window)
        where TKey : notnull
    {
        while (true)
        {
            window = windows.GetOrAdd(key, static _ => new MinuteWindow());
            if (window.Take(minute, limit, out remaining) is { } taken)
            {
                return taken;
            }
        }
    }

    /// <summary>Null when the window was forgotten (nothing taken).</summary>
    internal bool? Take(long minute, int limit, out int remaining)
    {
        lock (_lock)
        {
            remaining = 0;
            if (_forgotten)
            {
                return null;
            }

            if (!Holds(minute))
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

    /// <summary>
    /// Whether <paramref name="minute"/> counts in this window: its own minute, or the one before when the clock stepped
    /// back a moment (counted against the newer window, rather than opening a fresh one). A clock stepped back further
    /// (a VM restored from a snapshot, a clock set right) opens a fresh window: the newer one would refuse for as long
    /// as the step, an hour say, while Retry-After says less than a minute. Called under the lock.
    /// </summary>
    private bool Holds(long minute) => minute == _minute || minute == _minute - 1;

    /// <summary>The units counted in <paramref name="minute"/> (none when this window holds another minute).</summary>
    public int CountIn(long minute)
    {
        lock (_lock)
        {
            return _minute == minute ? _count : 0;
        }
    }

    /// <summary>
    /// The seconds until this window lets a request through again, given <paramref name="secondsLeft"/> of
    /// <paramref name="minute"/>: a minute more when the clock stepped back into the minute before the window's.
    /// </summary>
    public int SecondsUntilItEnds(long minute, int secondsLeft)
    {
        lock (_lock)
        {
            return _minute == minute + 1 ? secondsLeft + 60 : secondsLeft;
        }
    }

    /// <summary>Adds units an earlier process counted in <paramref name="minute"/>, when that is still this window's minute or later.</summary>
    public void Add(long minute, int count)
    {
        lock (_lock)
        {
            if (minute > _minute)
            {
                _minute = minute;
                _count = 0;
            }

            if (minute == _minute)
            {
                _count += count;
            }
        }
    }

    /// <summary>True when this minute's count has reached <paramref name="limit"/>.</summary>
    public bool IsFull(long minute, int limit)
    {
        lock (_lock)
        {
            return Holds(minute) && _count >= limit;
        }
    }

    public void GiveBack(long minute)
    {
        lock (_lock)
        {
            // Only to the window the unit was taken from (after a clock step back, a unit counted against the
            // newer window stays counted: the safe side).
            if (_minute == minute && _count > 0)
            {
                _count--;
            }
        }
    }

    /// <summary>Marks the window forgotten when nobody used it this minute; true when it did.</summary>
    private bool ForgetIfBefore(long minute)
    {
        lock (_lock)
        {
            _forgotten = _minute < minute;
            return _forgotten;
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

    /// <summary>The current minute's number and the whole seconds (rounded up) until it ends.</summary>
    public static (long Minute, int SecondsLeft) Now(TimeProvider time)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var minute = nowMs / Milliseconds;
        return (minute, (int)Math.Ceiling(((minute + 1) * Milliseconds - nowMs) / 1000.0));
    }

    /// <summary>Drops windows nobody used this minute, so the map holds only active callers; returns how many it dropped.</summary>
    public static int ForgetIdle<TKey>(ConcurrentDictionary<TKey, MinuteWindow> windows, long minute)
        where TKey : notnull
    {
        var dropped = 0;
        foreach (var (id, window) in windows)
        {
            if (window.ForgetIfBefore(minute) && windows.TryRemove(KeyValuePair.Create(id, window)))
            {
                dropped++;
            }
        }

        return dropped;
    }
}
