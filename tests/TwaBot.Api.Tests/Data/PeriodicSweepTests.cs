using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

/// <summary>A sweep whose run fails logs it and runs again at its next tick; its first run counts as done however it ended.</summary>
public class PeriodicSweepTests
{
    [Fact]
    public async Task ARunThatFailsIsTriedAgainAtTheNextTick()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 4, 14, 10, 0, 0, TimeSpan.Zero));
        using var sweep = new FailingOnceSweep(clock);

        await sweep.StartAsync(CancellationToken.None);
        await sweep.FirstRun.WaitAsync(Poll.Limit);
        Assert.Equal(1, sweep.Runs);

        clock.Advance(FailingOnceSweep.Every);
        await Poll.UntilAsync(() => sweep.Runs == 2, "the run at the next tick");

        await sweep.StopAsync(CancellationToken.None);
    }

    private sealed class FailingOnceSweep(TimeProvider time) : PeriodicSweep(time, NullLogger.Instance)
    {
        public static readonly TimeSpan Every = TimeSpan.FromMinutes(1);

        private int _runs;

        public int Runs => Volatile.Read(ref _runs);

        protected override TimeSpan Period => Every;

        protected override Task RunOnceAsync(CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _runs) == 1 ? throw new InvalidOperationException("the first run fails") : Task.CompletedTask;
    }
}
