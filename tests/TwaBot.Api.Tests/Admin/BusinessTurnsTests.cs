using TwaBot.Api.Admin;

namespace TwaBot.Api.Tests.Admin;

/// <summary>A business's turn: one call at a time, and nothing kept once no call holds or awaits it.</summary>
public class BusinessTurnsTests
{
    private const long Business = 1;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public async Task CallsOfOneBusinessRunOneAtATimeAndLeaveNothingBehind(int calls)
    {
        var turns = new BusinessTurns();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int started = 0, running = 0, overlaps = 0;

        var all = Enumerable.Range(0, calls).Select(_ => turns.OneAtATimeAsync(Business, async () =>
        {
            Interlocked.Increment(ref started);
            if (Interlocked.Increment(ref running) > 1)
            {
                Interlocked.Increment(ref overlaps);
            }

            await gate.Task;
            Interlocked.Decrement(ref running);
            return 0;
        }, CancellationToken.None)).ToList();

        Assert.Equal(1, Volatile.Read(ref started));
        Assert.True(turns.IsInUse(Business));
        gate.SetResult();
        await Task.WhenAll(all).WaitAsync(TimeSpan.FromSeconds(10)); // bounded: a turn never given back fails here instead of hanging
        Assert.Equal((calls, 0), (started, overlaps));
        Assert.False(turns.IsInUse(Business));
    }

    [Fact]
    public async Task CallsOfTwoBusinessesDoNotWaitForEachOther()
    {
        var turns = new BusinessTurns();
        var gate = new TaskCompletionSource<int>();
        var holder = turns.OneAtATimeAsync(Business, () => gate.Task, CancellationToken.None);

        // Bounded, so that a turn shared by all businesses fails here instead of hanging.
        Assert.Equal(2, await turns.OneAtATimeAsync(Business + 1, () => Task.FromResult(2), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(turns.IsInUse(Business + 1));
        gate.SetResult(1);
        Assert.Equal(1, await holder);
    }

    [Fact]
    public async Task AWaiterThatGivesUpLeavesTheTurnToTheHolderAndNothingBehind()
    {
        var turns = new BusinessTurns();
        var gate = new TaskCompletionSource<int>();
        var holder = turns.OneAtATimeAsync(Business, () => gate.Task, CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var waiter = turns.OneAtATimeAsync(Business, () => Task.FromResult(2), giveUp.Token);

        await giveUp.CancelAsync();

        // Bounded: a wait deaf to its token fails here (TimeoutException) instead of hanging.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(turns.IsInUse(Business));
        gate.SetResult(1);
        Assert.Equal(1, await holder);
        Assert.False(turns.IsInUse(Business));
        Assert.Equal(3, await turns.OneAtATimeAsync(Business, () => Task.FromResult(3), CancellationToken.None));
    }

    [Fact]
    public async Task ACallThatFailsGivesUpItsTurn()
    {
        var turns = new BusinessTurns();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            turns.OneAtATimeAsync<int>(Business, () => throw new InvalidOperationException("Meta is down"), CancellationToken.None));

        Assert.False(turns.IsInUse(Business));
        Assert.Equal(2, await turns.OneAtATimeAsync(Business, () => Task.FromResult(2), CancellationToken.None));
    }
}
