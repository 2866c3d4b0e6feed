namespace TwaBot.Bench;

/// <summary>
/// A freshly started server spends its first many seconds compiling its hot paths again (tiered JIT)
/// and growing its thread pool: in a first run its rate was still climbing after 13 s. Measured cold,
/// whichever row runs first would pay for that, so each server first gets unmeasured load on every
/// path it will be measured on, and the work it left behind is applied before the first row.
/// </summary>
public static class ServerWarmUp
{
    private const int Connections = 64;

    public static async Task RunAsync(
        ServerProcess server, InboxProbe inbox, RunLength length, TextWriter progress, params (string Name, Func<HttpRequestMessage> Request)[] paths)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(length);
        ArgumentNullException.ThrowIfNull(progress);
        if (length.ServerWarmUp <= TimeSpan.Zero)
        {
            return;
        }

        foreach (var (name, request) in paths)
        {
            var run = await LoadRun.RunAsync($"warm-up {name}", Connections, new RunLength(TimeSpan.Zero, length.ServerWarmUp, TimeSpan.Zero), server.ProcessId, request);
            progress.WriteLine(Report.Line(run));
        }

        await inbox.SettleAsync(progress);
    }
}
