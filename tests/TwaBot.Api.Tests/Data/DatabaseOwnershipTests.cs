using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// One server per database: a second one on the same files would count limits, daily caps and
/// Idempotency-Keys apart from the first, so it stops at start naming the files; the first keeps serving,
/// and once it has stopped, by a stop or a crash, the next server starts.
/// </summary>
public class DatabaseOwnershipTests
{
    [Fact]
    public async Task ASecondServerOnTheSameDatabaseDoesNotStartAndTheFirstKeepsServing()
    {
        // The refusal's one line, as an operator sees it: ConfigurationValidationTests (a real process).
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        await using var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path);
        var tenant = await first.CreateSendingTenantAsync();

        await using (var second = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            Assert.ThrowsAny<Exception>(() => second.Server);
        }

        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/health")).StatusCode);
    }

    [Fact]
    public async Task ANewVersionStartedBeforeTheOldOneStoppedStopsWithoutMigratingItsDatabase()
    {
        // An upgrade done out of order (docs/operations.md: the old version stops first): the new version must stop before
        // it migrates, or the running old server goes on against tables and columns changed under it.
        using var database = new TemporaryDatabase();
        await using (var old = new TwaBotDbContext(database.ContextOptions()))
        {
            await old.GetService<IMigrator>().MigrateAsync("20261126045008_TimeOrderedWebhookKey");
        }

        using var running = new DatabaseOwnership();
        running.Take(database.Path);

        await using (var upgraded = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            Assert.ThrowsAny<Exception>(() => upgraded.Server);
        }

        await using var check = new TwaBotDbContext(database.ContextOptions());
        Assert.Equal("20261126045008_TimeOrderedWebhookKey", (await check.Database.GetAppliedMigrationsAsync()).Last());
    }

    [Fact]
    public async Task AStoppedServerLetsTheNextOneInTheSameProcessTakeItsDatabase()
    {
        // The host's disposal lets the lock go, not only the process's end: an in-process restart must find the file free.
        using var database = new TemporaryDatabase();
        await using (var stopped = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            _ = stopped.Server;
        }

        using var next = new DatabaseOwnership();
        Assert.Null(Record.Exception(() => next.Take(database.Path)));
    }

    [Fact]
    public void ALockFileThatCannotBeOpenedIsNotSaidToBeHeldByAnotherServer()
    {
        // A symbolic link looping on itself fails the open as a full disk or a damaged folder would: an I/O error, but no
        // server holds anything, and "stop the other one first" would send the operator looking for one.
        using var database = new TemporaryDatabase();
        var lockPath = DatabaseOwnership.LockPathOf(Path.GetFullPath(database.Path));
        File.CreateSymbolicLink(lockPath, lockPath);
        try
        {
            using var ownership = new DatabaseOwnership();

            var error = Assert.Throws<DatabaseUnusableException>(() => ownership.Take(database.Path));

            Assert.StartsWith($"TwaBot server cannot start: it cannot open {lockPath}, the file that keeps a second server off the database",
                error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(lockPath);
        }
    }

    [Fact]
    public void AServerHoldingTheLockIsNamedAsAnotherServer()
    {
        using var database = new TemporaryDatabase();
        using var first = new DatabaseOwnership();
        first.Take(database.Path);
        using var second = new DatabaseOwnership();

        var error = Assert.Throws<DatabaseUnusableException>(() => second.Take(database.Path));

        Assert.StartsWith($"TwaBot server cannot start: another TwaBot server is using the database {database.Path}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerStoppedOrCrashedLeavesNoClaimOnItsDatabase()
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        await using (var stopped = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            _ = stopped.Server;
        }

        await using var crashed = await ServerProcess.StartAsync(databasePath: path);
        await crashed.KillAsync(); // no chance to let anything go: the kernel releases the lock with the process

        await using var next = await ServerProcess.StartAsync(databasePath: path);
        using var client = next.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
