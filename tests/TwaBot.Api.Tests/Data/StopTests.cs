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
        // Its server-lock file is taken in start-up's first step, after the host listens for SIGTERM; from then on it
        // waits for the migration lock (which a fixed delay could not tell on a loaded machine: a stop before the host
        // listens is the runtime's own exit 143, not the one tested here).
        for (var i = 0; i < 600 && !File.Exists(DatabaseOwnership.LockPathOf(_database.Path)); i++)
        {
            await Task.Delay(100);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(500)); // into the wait for the migration lock

        var exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{server.Output}");
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", server.Output, StringComparison.Ordinal); // the host's line, with a stack trace
        Assert.Contains("stopped while starting", server.Output, StringComparison.Ordinal);
    }

    public void Dispose() => _database.Dispose();
}
