using Microsoft.Extensions.Time.Testing;
using Polly;
using Polly.CircuitBreaker;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Tests.Meta;

public class SteadyClockTests
{
    [Theory]
    [InlineData(-3600)] // an NTP correction of a clock an hour ahead
    [InlineData(3600)]
    public void AStepOfTheWallClockMovesNothingTheElapsedTimeDoes(int stepSeconds)
    {
        var wall = new SteppingWall();
        var clock = new SteadyClock(wall);
        var started = clock.GetUtcNow();

        wall.Step = TimeSpan.FromSeconds(stepSeconds);
        wall.Time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(started + TimeSpan.FromSeconds(5), clock.GetUtcNow());
    }

    [Fact]
    public void TimersAndElapsedTimeRunOnTheWallClocksTimestamps()
    {
        // Polly's retries wait, and its timeouts fire, on the clock's timers; they measure on its timestamps.
        var wall = new SteppingWall();
        var clock = new SteadyClock(wall);
        var startedAt = clock.GetTimestamp();
        var delay = Task.Delay(TimeSpan.FromSeconds(10), clock);

        wall.Time.Advance(TimeSpan.FromSeconds(10));

        Assert.True(delay.IsCompletedSuccessfully);
        Assert.Equal(TimeSpan.FromSeconds(10), clock.GetElapsedTime(startedAt));
    }

    [Fact]
    public async Task ABreakerOpenWhenTheWallClockIsSetBackPausesForItsBreakNotForTheStepToo()
    {
        var wall = new SteppingWall();
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = new SteadyClock(wall) }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5, MinimumThroughput = 2, SamplingDuration = TimeSpan.FromSeconds(10), BreakDuration = TimeSpan.FromSeconds(30),
            })
            .Build();
        for (var i = 0; i < 2; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => pipeline.ExecuteAsync(_ => throw new HttpRequestException("Meta is down")).AsTask());
        }

        await Assert.ThrowsAsync<BrokenCircuitException>(() => pipeline.ExecuteAsync(_ => ValueTask.CompletedTask).AsTask());

        wall.Step = TimeSpan.FromHours(-1);
        wall.Time.Advance(TimeSpan.FromSeconds(31));
        // On the wall clock, the pause would last another hour.
        await pipeline.ExecuteAsync(_ => ValueTask.CompletedTask);
    }

    [Fact]
    public void TheMetaPipelinesReadTheSteadyClock()
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();

        MetaResilience.Configure(builder, new TwaBotOptions().Meta.Resilience);

        Assert.IsType<SteadyClock>(builder.TimeProvider);
    }

    /// <summary>A wall clock that can be set back or forward while the elapsed time (the timestamps) runs on.</summary>
    private sealed class SteppingWall : TimeProvider
    {
        public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 12, 5, 12, 0, 0, TimeSpan.Zero));

        public TimeSpan Step { get; set; }

        public override DateTimeOffset GetUtcNow() => Time.GetUtcNow() + Step;

        public override long GetTimestamp() => Time.GetTimestamp();

        public override long TimestampFrequency => Time.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            Time.CreateTimer(callback, state, dueTime, period);
    }
}
