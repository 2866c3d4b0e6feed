namespace TwaBot.Api.Sandbox;

/// <summary>
/// A hosted service whose work waits until Kestrel listens (<see cref="IHostedLifecycleService.StartedAsync"/>):
/// a start that cannot open its port does none of it. The sandbox's first-start seeding is one, so a first
/// start on a busy port leaves the database empty and the next start still makes and prints the key.
/// </summary>
internal abstract class OnceListening : IHostedLifecycleService
{
    public abstract Task StartedAsync(CancellationToken cancellationToken);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
