namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// Bounded waits for what a server does just after it answers or in the background (a request's log line, a pass of
/// the webhook processor): a regression fails with what was awaited instead of hanging.
/// </summary>
public static class Poll
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    public static Task UntilAsync(Func<bool> condition, string what) => UntilAsync(() => Task.FromResult(condition()), what);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        for (var waited = TimeSpan.Zero; !await condition(); waited += Interval)
        {
            if (waited >= Limit)
            {
                throw new TimeoutException($"Waited {Limit.TotalSeconds:0} s for {what}");
            }

            await Task.Delay(Interval);
        }
    }
}
