using Microsoft.Extensions.Time.Testing;
using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.Tests.RateLimiting;

public class MinuteRateLimiterTests
{
    // 10:30:10.000 UTC: 50 s before the minute ends.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 4, 14, 10, 30, 10, TimeSpan.Zero));

    [Theory]
    [InlineData(0, 50)]       // 10:30:10.000 → 50 s left
    [InlineData(300, 50)]     // 10:30:10.300 → 49.7 s, rounded up
    [InlineData(49_001, 1)]   // 10:30:59.001 → 0.999 s, rounded up to 1
    [InlineData(-10_000, 60)] // 10:30:00.000 → a whole minute
    public void RetryAfterIsTheRealSecondsToTheWindowsEnd(int offsetMs, int expectedSeconds)
    {
        var limiter = new MinuteRateLimiter(new FakeTimeProvider(_clock.GetUtcNow().AddMilliseconds(offsetMs)));
        limiter.TryAcquire(1, perKeyLimit: 1, globalLimit: 100);

        var decision = limiter.TryAcquire(1, perKeyLimit: 1, globalLimit: 100);

        Assert.False(decision.Allowed);
        Assert.Equal(expectedSeconds, decision.ResetSeconds);
    }

    [Fact]
    public void AWindowSweptJustAfterARequestFetchedItCountsNothingSoTheKeyStaysWithinItsLimit()
    {
        // At a minute's start, one key's request fetches its idle window while another key's first request of
        // the minute sweeps idle windows away. A unit counted in the dropped window would count nowhere.
        var windows = new System.Collections.Concurrent.ConcurrentDictionary<long, MinuteWindow>();
        MinuteWindow.TryTake(windows, 7, minute: 1, limit: 2, out _, out var fetched); // the key's last request of minute 1

        MinuteWindow.ForgetIdle(windows, 2);

        Assert.Null(fetched.Take(2, 2, out _)); // the request that held it takes from the map's window instead
        Assert.True(MinuteWindow.TryTake(windows, 7, 2, 2, out _, out _));
        Assert.True(MinuteWindow.TryTake(windows, 7, 2, 2, out var remaining, out _));
        Assert.Equal(0, remaining);
        Assert.False(MinuteWindow.TryTake(windows, 7, 2, 2, out _, out _));
    }

    [Fact]
    public void ARequestWhoseWindowIsSweptWhileItFetchesItCountsInTheWindowThatReplacesIt()
    {
        // The sweep runs between the map handing the key's idle window out and the request taking from it: the unit
        // must land in the window the map now holds, or the request passes uncounted.
        var sweepDuringLookup = new SweepDuringLookup();
        var windows = new System.Collections.Concurrent.ConcurrentDictionary<long, MinuteWindow>(sweepDuringLookup);
        MinuteWindow.TryTake(windows, 7, minute: 1, limit: 2, out _, out _);
        sweepDuringLookup.Sweep = () => MinuteWindow.ForgetIdle(windows, 2);

        Assert.True(MinuteWindow.TryTake(windows, 7, minute: 2, limit: 2, out var remaining, out var taken));

        Assert.Equal(1, remaining);
        Assert.Same(windows[7], taken);
        Assert.Equal(1, taken.CountIn(2));
    }

    /// <summary>Runs <see cref="Sweep"/> once, at the first key comparison after it is set (inside the map's lookup).</summary>
    private sealed class SweepDuringLookup : IEqualityComparer<long>
    {
        public Action? Sweep { get; set; }

        public bool Equals(long x, long y)
        {
            if (Sweep is { } sweep)
            {
                Sweep = null;
                sweep();
            }

            return x == y;
        }

        public int GetHashCode(long obj) => obj.GetHashCode();
    }

    [Fact]
    public void AUnitGivenBackAfterItsMinuteEndedIsNotTakenOffTheNextMinutesCount()
    {
        // A request of minute 1 is refused globally only after another of the key's requests opened minute 2: the unit
        // it gives back was counted in minute 1, so minute 2 keeps its count and the key its limit.
        var window = new MinuteWindow();
        Assert.True(window.TryTake(1, 2, out _));
        Assert.True(window.TryTake(2, 2, out _));

        window.GiveBack(1);

        Assert.True(window.TryTake(2, 2, out var remaining));
        Assert.Equal(0, remaining);
        Assert.False(window.TryTake(2, 2, out _));
    }

    [Fact]
    public void AUnitGivenBackTwiceIsGivenBackOnce()
    {
        var window = new MinuteWindow();
        Assert.True(window.TryTake(1, 2, out _));

        window.GiveBack(1);
        window.GiveBack(1); // nothing left to give back: the count stays at none, not one below

        Assert.Equal(2, Enumerable.Range(0, 3).Count(_ => window.TryTake(1, 2, out _)));
    }

    [Fact]
    public void TheSweepDropsOnlyTheWindowsIdleThisMinuteAndCountsThem()
    {
        // The failed-authentication limiter keeps its client count by what the sweep says it dropped.
        var windows = new System.Collections.Concurrent.ConcurrentDictionary<long, MinuteWindow>();
        MinuteWindow.TryTake(windows, 1, minute: 1, limit: 5, out _, out _);
        MinuteWindow.TryTake(windows, 2, minute: 1, limit: 5, out _, out _);
        MinuteWindow.TryTake(windows, 3, minute: 2, limit: 5, out _, out _);

        Assert.Equal(2, MinuteWindow.ForgetIdle(windows, 2));
        Assert.Equal([3L], windows.Keys);
    }

    [Theory]
    [InlineData(5, 3, true)]
    [InlineData(4, 3, true)]   // the clock stepped back a moment: still this window's
    [InlineData(6, 3, false)]  // the next minute: a fresh window
    [InlineData(3, 3, false)]  // stepped back further: a fresh window too
    [InlineData(5, 4, false)]
    [InlineData(5, 2, true)]   // a limit lowered below the count
    public void AWindowIsFullWhenItsMinutesCountReachedTheLimit(long minute, int limit, bool full)
    {
        var window = new MinuteWindow();
        for (var taken = 0; taken < 3; taken++)
        {
            Assert.True(window.TryTake(5, 10, out _));
        }

        Assert.Equal(full, window.IsFull(minute, limit));
    }

    [Fact]
    public void CountsRestoredInTheSameMinuteCountOnAndThoseOfAnotherMinuteDoNot()
    {
        // What a restart keeps (MinuteCounts): each key's count and the global one, of the current minute only.
        var before = new MinuteRateLimiter(_clock);
        foreach (var key in new long[] { 1, 1, 1, 2 })
        {
            before.TryAcquire(key, perKeyLimit: 5, globalLimit: 6);
        }

        var (minute, counts) = before.Snapshot();
        var restarted = new MinuteRateLimiter(_clock);
        restarted.Restore(minute, counts);
        restarted.Restore(minute, [(1, 1)]); // into a window already counting this minute: added to its count
        var stale = new MinuteRateLimiter(_clock);
        stale.Restore(minute - 1, counts);

        Assert.Equal([(0L, 4), (1L, 3), (2L, 1)], counts.OrderBy(c => c.KeyId));
        Assert.Equal([(0L, 4), (1L, 4), (2L, 1)], restarted.Snapshot().Counts.OrderBy(c => c.KeyId));
        Assert.Equal(1, Enumerable.Range(0, 5).Count(_ => restarted.TryAcquire(1, perKeyLimit: 5, globalLimit: 6).Allowed));
        Assert.Equal(1, Enumerable.Range(0, 5).Count(_ => restarted.TryAcquire(3, perKeyLimit: 5, globalLimit: 6).Allowed)); // the global 6th
        Assert.Empty(stale.Snapshot().Counts);
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Empty(before.Snapshot().Counts); // the minute's counts, not the windows' last ones
    }

    [Fact]
    public void AKeyGetsExactlyItsLimitPerMinute()
    {
        var limiter = new MinuteRateLimiter(_clock);

        var decisions = Enumerable.Range(0, 6).Select(_ => limiter.TryAcquire(1, perKeyLimit: 5, globalLimit: 100)).ToList();

        Assert.Equal(5, decisions.Count(d => d.Allowed));
        Assert.False(decisions[5].Allowed);
        Assert.Equal([4, 3, 2, 1, 0], decisions.Take(5).Select(d => d.Remaining));
    }

    [Fact]
    public void AClockSteppedBackDoesNotOpenAFreshWindow()
    {
        var clock = new SteppedClock { Now = new DateTimeOffset(2026, 4, 14, 10, 31, 0, 500, TimeSpan.Zero) };
        var limiter = new MinuteRateLimiter(clock);
        var newer = Enumerable.Range(0, 10).Count(_ => limiter.TryAcquire(1, perKeyLimit: 5, globalLimit: 100).Allowed);

        clock.Now = clock.Now.AddSeconds(-1); // 10:30:59.500: the clock stepped back over the boundary
        var afterStepBack = Enumerable.Range(0, 10).Count(_ => limiter.TryAcquire(1, perKeyLimit: 5, globalLimit: 100).Allowed);

        Assert.Equal((5, 0), (newer, afterStepBack));
    }

    [Fact]
    public void ARequestRefusedAfterTheClockSteppedBackWaitsForTheNewerWindowsEnd()
    {
        // Counted against the newer minute's window, it is freed when that window ends: a minute after the older minute does.
        var clock = new SteppedClock { Now = new DateTimeOffset(2026, 4, 14, 10, 31, 0, 500, TimeSpan.Zero) };
        var limiter = new MinuteRateLimiter(clock);
        var last = Enumerable.Range(0, 5).Select(_ => limiter.TryAcquire(1, perKeyLimit: 5, globalLimit: 5)).ToList()[^1];

        clock.Now = clock.Now.AddSeconds(-1); // 10:30:59.500: 0.5 s of the older minute left
        var byKey = limiter.TryAcquire(1, perKeyLimit: 5, globalLimit: 5);
        var byGlobal = limiter.TryAcquire(2, perKeyLimit: 5, globalLimit: 5);

        Assert.Equal((true, 60), (last.Allowed, last.ResetSeconds)); // 59.5 s, rounded up
        Assert.Equal((false, false, 61), (byKey.Allowed, byKey.ByGlobalLimit, byKey.ResetSeconds));
        Assert.Equal((false, true, 61), (byGlobal.Allowed, byGlobal.ByGlobalLimit, byGlobal.ResetSeconds));
    }

    [Fact]
    public void TheWindowResetsAtTheNextMinute()
    {
        var limiter = new MinuteRateLimiter(_clock);
        limiter.TryAcquire(1, perKeyLimit: 1, globalLimit: 100);
        Assert.False(limiter.TryAcquire(1, perKeyLimit: 1, globalLimit: 100).Allowed);

        _clock.Advance(TimeSpan.FromSeconds(50)); // 10:31:00.000

        Assert.True(limiter.TryAcquire(1, perKeyLimit: 1, globalLimit: 100).Allowed);
    }

    [Fact] // reliability-notes §1: idle entries are swept every minute, so the map holds only the keys in use
    public void KeysIdleSinceAnEarlierMinuteAreForgottenByTheNextMinutesFirstRequest()
    {
        var limiter = new MinuteRateLimiter(_clock);
        foreach (var key in Enumerable.Range(1, 500))
        {
            limiter.TryAcquire(key, perKeyLimit: 60, globalLimit: 1000);
        }

        _clock.Advance(TimeSpan.FromSeconds(50)); // 10:31:00.000
        limiter.TryAcquire(1, perKeyLimit: 60, globalLimit: 1000);

        Assert.Equal(1, limiter.TrackedKeys);
    }

    [Fact]
    public void RejectedRequestsOfOneKeyDoNotSpendTheGlobalBudget()
    {
        var limiter = new MinuteRateLimiter(_clock);

        var noisy = Enumerable.Range(0, 200).Count(_ => limiter.TryAcquire(1, perKeyLimit: 10, globalLimit: 20).Allowed);
        var quiet = Enumerable.Range(0, 10).Count(_ => limiter.TryAcquire(2, perKeyLimit: 10, globalLimit: 20).Allowed);

        Assert.Equal(10, noisy);
        Assert.Equal(10, quiet);
    }

    [Fact]
    public void TheGlobalLimitCapsAllKeysTogetherAndGivesBackTheKeysPermit()
    {
        var limiter = new MinuteRateLimiter(_clock);

        var passed = Enumerable.Range(0, 13).SelectMany(key => Enumerable.Range(0, 10).Select(_ => limiter.TryAcquire(key, 60, 120)))
            .Count(d => d.Allowed);
        var refused = limiter.TryAcquire(99, perKeyLimit: 1, globalLimit: 120);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var nextMinute = limiter.TryAcquire(99, perKeyLimit: 1, globalLimit: 120);

        Assert.Equal(120, passed);
        Assert.False(refused.Allowed);
        Assert.True(nextMinute.Allowed);
    }

    [Fact]
    public async Task ConcurrentRequestsNeverExceedTheLimit()
    {
        var limiter = new MinuteRateLimiter(_clock);

        var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            Task.Run(() => limiter.TryAcquire(i % 4, perKeyLimit: 100, globalLimit: 250).Allowed)));

        Assert.Equal(250, results.Count(allowed => allowed));
    }

    /// <summary>A wall clock that can be stepped back, as NTP or an operator may (FakeTimeProvider refuses to).</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void AKeysPermitRefusedGloballyIsGivenBackToTheKey()
    {
        var limiter = new MinuteRateLimiter(_clock);

        Assert.True(limiter.TryAcquire(1, perKeyLimit: 2, globalLimit: 1).Allowed);   // the global budget is spent
        Assert.False(limiter.TryAcquire(2, perKeyLimit: 2, globalLimit: 1).Allowed);  // key 2 refused globally

        // With room globally again (a raised limit), key 2 still has both of its permits this minute.
        var first = limiter.TryAcquire(2, perKeyLimit: 2, globalLimit: 10);
        var second = limiter.TryAcquire(2, perKeyLimit: 2, globalLimit: 10);

        Assert.Equal((true, 1), (first.Allowed, first.Remaining));
        Assert.Equal((true, 0), (second.Allowed, second.Remaining));
    }
}
