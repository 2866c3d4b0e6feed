using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

/// <summary>A stop (SIGTERM from Docker or systemd) is a clean exit whenever it comes, and leaves nothing to repair.</summary>
public sealed class StopTests : IDisposable
{
    private readonly TemporaryDatabase _database = new();

    [Fact]
    public async Task ASigtermWhileStartingIsACleanExitNotACrash()
    {
        // Held in start-up: migrations pending, and EF's migration lock freshly taken by "another" server.
        await using (var old = new TwaBotDbContext(_database.ContextOptions()))
        {
            await old.GetService<IMigrator>().MigrateAsync("20261126045008_TimeOrderedWebhookKey");
        }

        await _database.LeaveMigrationLockRowAsync(takenAt: DateTimeOffset.UtcNow);
        await using var server = ServerProcess.Launch(databasePath: _database.Path);
        await Task.Delay(TimeSpan.FromSeconds(5)); // well past the runtime's own start, still waiting for the lock

        var exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{server.Output}");
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", server.Output, StringComparison.Ordinal); // the host's line, with a stack trace
        Assert.Contains("stopped while starting", server.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _database.Dispose();
}
