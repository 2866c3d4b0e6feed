namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>The tests' bounded wait: it returns once its condition holds, and fails naming what it awaited.</summary>
public class PollTests
{
    [Fact]
    public async Task ReturnsOnceTheConditionHolds()
    {
        var checks = 0;

        await Poll.UntilAsync(() => ++checks == 3, "the third check");

        Assert.Equal(3, checks);
    }

    [Theory]
    [InlineData(100, "Waited 0.1 s for the report to arrive")]
    [InlineData(1000, "Waited 1 s for the report to arrive")]
    public async Task ANeverHoldingConditionFailsNamingWhatWasAwaitedAndForHowLong(int limitMilliseconds, string message)
    {
        var failure = await Assert.ThrowsAsync<TimeoutException>(() =>
            Poll.UntilAsync(() => false, "the report to arrive", TimeSpan.FromMilliseconds(limitMilliseconds)));

        Assert.Equal(message, failure.Message);
    }

    [Fact]
    public async Task TheLimitIsRealTimeThoughTheConditionTakesTimeItself()
    {
        // A condition that queries a database or a server takes time of its own; counted by pauses only, a 15 s
        // limit became minutes for a slow condition.
        var checks = 0;

        await Assert.ThrowsAsync<TimeoutException>(() => Poll.UntilAsync(async () =>
        {
            checks++;
            await Task.Delay(100);
            return false;
        }, "nothing", TimeSpan.FromMilliseconds(200)));

        Assert.InRange(checks, 1, 4); // counted by pauses only: 11 checks
    }
}
