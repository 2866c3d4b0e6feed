namespace TwaBot.Api.Data;

/// <summary>
/// Background upkeep that runs at start and then every <see cref="Period"/> (on the injected clock); a run
/// that fails is logged and the work is simply tried again at the next tick.
/// </summary>
public abstract partial class PeriodicSweep(TimeProvider time, ILogger logger) : BackgroundService
{
    private readonly TaskCompletionSource _firstRun = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Done once the run at start has ended, however it ended.</summary>
    internal Task FirstRun => _firstRun.Task;

    /// <summary>The clock the ticks follow, for the runs' own time arithmetic.</summary>
    protected TimeProvider Time { get; } = time;

    protected abstract TimeSpan Period { get; }

    /// <summary>One run; what it does not finish, the next one does.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, Time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                LogRunFailed(logger, error, GetType().Name);
            }
            finally
            {
                _firstRun.TrySetResult();
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Sweep} failed; it runs again at its next tick")]
    private static partial void LogRunFailed(ILogger logger, Exception error, string sweep);
}
