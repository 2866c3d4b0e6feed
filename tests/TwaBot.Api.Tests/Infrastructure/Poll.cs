using System.Diagnostics;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// Bounded waits for what a server does just after it answers or in the background (a request's log line, a pass of
/// the webhook processor): a regression fails with what was awaited instead of hanging.
/// </summary>
public static class Poll
{
    /// <summary>What a server does just after an answer, or in one pass of its background work.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    /// <summary>What takes many passes or steps (an emulator's retries, a load test's first requests), which a loaded machine stretches.</summary>
    public static readonly TimeSpan SlowWorkLimit = TimeSpan.FromSeconds(30);

    /// <summary>One whole pass of the webhook processor over the largest backlog a test stores, on a loaded machine.</summary>
    public static readonly TimeSpan WebhookPassLimit = TimeSpan.FromSeconds(60);

    /// <summary>A server process started by a test reaching a step of its start-up (its own JIT, migrations) on a loaded machine.</summary>
    public static readonly TimeSpan ProcessStartLimit = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? limit = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, limit);

    /// <param name="condition">What is awaited, checked until it holds.</param>
    /// <param name="what">What is awaited, in words, for the timeout's message.</param>
    /// <param name="limit">How long to wait in real time (<see cref="Limit"/> unless given).</param>
    /// <param name="interval">The pause between checks (20 ms unless given): longer for a check that is itself costly, such as a process.</param>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null, TimeSpan? interval = null)
    {
        var bound = limit ?? Limit;
        var waited = Stopwatch.StartNew(); // real time: a condition that queries a database or a process takes its own
        while (!await condition())
        {
            if (waited.Elapsed >= bound)
            {
                throw new TimeoutException(FormattableString.Invariant($"Waited {bound.TotalSeconds:0.#} s for {what}"));
            }

            await Task.Delay(interval ?? Interval);
        }
    }
}
