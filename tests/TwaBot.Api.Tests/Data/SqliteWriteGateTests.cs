using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Data;

/// <summary>Client-facing writers go before background work, which is held back but never shut out.</summary>
public class SqliteWriteGateTests
{
    [Fact]
    public async Task AWaitingClientWriterGoesBeforeBackgroundWork()
    {
        using var gate = new SqliteWriteGate();
        var first = await gate.EnterAsync(CancellationToken.None);
        var background = gate.EnterBackgroundAsync(CancellationToken.None);
        var second = gate.EnterAsync(CancellationToken.None);

        first.Dispose();
        var secondTurn = await second.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(background.IsCompleted);
        secondTurn.Dispose();
        (await background.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task BackgroundWorkGetsATurnUnderConstantClientWrites()
    {
        using var gate = new SqliteWriteGate();
        using var stop = new CancellationTokenSource();
        var clientsRunning = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clients = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using (await gate.EnterAsync(CancellationToken.None))
                {
                    clientsRunning.TrySetResult();
                }
            }
        });
        await clientsRunning.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var background = gate.EnterBackgroundAsync(CancellationToken.None);
        var finished = await Task.WhenAny(background, Task.Delay(TimeSpan.FromSeconds(10)));
        await stop.CancelAsync();
        if (background.IsCompleted)
        {
            (await background).Dispose(); // before waiting for the clients, which may be queued behind it
        }

        await clients.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Same(background, finished);
    }
}
