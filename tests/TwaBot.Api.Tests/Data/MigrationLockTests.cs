using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// EF's migration lock on SQLite is a row with no timeout: a server killed while holding it must not
/// keep every later start waiting for ever. Each start here gets a minute before the test fails, not hangs.
/// </summary>
public sealed class MigrationLockTests : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(1);
    private readonly TemporaryDatabase _database = new();

    [Fact]
    public async Task ALockRowLeftByAKilledServerDoesNotHoldUpAStartWithNothingToMigrate()
    {
        await using (var first = Server())
        {
            _ = first.Server;
        }

        await _database.LeaveMigrationLockRowAsync(takenAt: DateTimeOffset.UtcNow);

        await using var second = Server();
        await Task.Run(() => _ = second.Server).WaitAsync(StartLimit);

        await second.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
    }

    [Fact]
    public async Task AStaleLockRowIsRemovedWhenThereIsSomethingToMigrate()
    {
        await using (var old = new TwaBotDbContext(_database.ContextOptions()))
        {
            await old.GetService<IMigrator>().MigrateAsync("20261126045008_TimeOrderedWebhookKey");
        }

        await _database.LeaveMigrationLockRowAsync(takenAt: DateTimeOffset.UtcNow - DatabaseInitializer.StaleMigrationLock - TimeSpan.FromMinutes(1));

        await using var server = Server();
        await Task.Run(() => _ = server.Server).WaitAsync(StartLimit);

        await server.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
        Assert.Contains(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Removed EF's migration lock", StringComparison.Ordinal));
        Assert.Equal(0L, await _database.ScalarAsync("""SELECT count(*) FROM "__EFMigrationsLock" """));
    }

    [Fact]
    public async Task ALockRowStampedAheadOfAClockSetBackIsRemovedAsStale()
    {
        // A server killed while migrating, then the machine's clock set back an hour (a VM restored from a snapshot, a
        // clock corrected): the row looks an hour younger than it is, and waiting for it to age held the start an hour.
        await MigrateToAnOlderVersionAsync();
        await _database.LeaveMigrationLockRowAsync(takenAt: DateTimeOffset.UtcNow + TimeSpan.FromHours(1));

        await using var server = Server();
        await Task.Run(() => _ = server.Server).WaitAsync(StartLimit);

        await server.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
        Assert.Contains(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Removed EF's migration lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ALockRowWhoseTimeCannotBeReadIsRemovedAsStale()
    {
        await MigrateToAnOlderVersionAsync();
        await _database.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS "__EFMigrationsLock" ("Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY, "Timestamp" TEXT NOT NULL);
            INSERT INTO "__EFMigrationsLock" VALUES (1, 'not a time');
            """);

        await using var server = Server();
        await Task.Run(() => _ = server.Server).WaitAsync(StartLimit);

        await server.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
        Assert.Contains(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Removed EF's migration lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AYoungLockRowIsWaitedForAndLeftToTheServerThatHoldsIt()
    {
        await MigrateToAnOlderVersionAsync();
        await _database.LeaveMigrationLockRowAsync(takenAt: DateTimeOffset.UtcNow);

        await using var server = Server();
        var start = Task.Run(() => _ = server.Server);
        Assert.NotSame(start, await Task.WhenAny(start, Task.Delay(TimeSpan.FromSeconds(2)))); // still waiting: the lock is not a minute old
        Assert.Equal(1L, await _database.ScalarAsync("""SELECT count(*) FROM "__EFMigrationsLock" """));

        await _database.ExecuteAsync("""DELETE FROM "__EFMigrationsLock" """); // the holder finished migrating
        await start.WaitAsync(StartLimit);

        await server.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
        Assert.DoesNotContain(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Removed EF's migration lock", StringComparison.Ordinal));
    }

    private async Task MigrateToAnOlderVersionAsync()
    {
        await using var old = new TwaBotDbContext(_database.ContextOptions());
        await old.GetService<IMigrator>().MigrateAsync("20261126045008_TimeOrderedWebhookKey");
    }

    public void Dispose() => _database.Dispose();

    private TwaBotApiFactory Server() =>
        new(new Dictionary<string, string?>(), databasePath: _database.Path) { DeleteDatabaseOnDispose = false };
}
