using Microsoft.Extensions.Logging;
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

    [Fact]
    public async Task AStopDuringARunEndsItWithoutLoggingAFailure()
    {
        var logger = new ErrorCountingLogger();
        using var sweep = new RunUntilStoppedSweep(new FakeTimeProvider(), logger);
        await sweep.StartAsync(CancellationToken.None);
        await sweep.Running.WaitAsync(Poll.Limit);

        await sweep.StopAsync(CancellationToken.None).WaitAsync(Poll.Limit);

        Assert.True(sweep.FirstRun.IsCompleted);
        Assert.Equal(0, logger.Errors); // a stop is not a failed run for an operator to chase
    }

    private sealed class RunUntilStoppedSweep(TimeProvider time, ILogger logger) : PeriodicSweep(time, logger)
    {
        private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Running => _running.Task;

        protected override TimeSpan Period => TimeSpan.FromMinutes(1);

        protected override Task RunOnceAsync(CancellationToken cancellationToken)
        {
            _running.TrySetResult();
            return Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private sealed class ErrorCountingLogger : ILogger
    {
        private int _errors;

        public int Errors => Volatile.Read(ref _errors);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                Interlocked.Increment(ref _errors);
            }
        }
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
