using Microsoft.Data.Sqlite;
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
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"twabot-lock-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task ALockRowLeftByAKilledServerDoesNotHoldUpAStartWithNothingToMigrate()
    {
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: _path) { DeleteDatabaseOnDispose = false })
        {
            _ = first.Server;
        }

        await ExecuteAsync($"""
            CREATE TABLE IF NOT EXISTS "__EFMigrationsLock" ("Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY, "Timestamp" TEXT NOT NULL);
            INSERT INTO "__EFMigrationsLock" VALUES (1, '{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss.ff}+00:00');
            """);

        await using var second = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: _path) { DeleteDatabaseOnDispose = false };
        await Task.Run(() => _ = second.Server).WaitAsync(StartLimit);

        await second.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
    }

    [Fact]
    public async Task AStaleLockRowIsRemovedWhenThereIsSomethingToMigrate()
    {
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, DataExtensions.BuildConnectionString($"Data Source={_path}", Path.GetTempPath()));
        await using (var old = new TwaBotDbContext(options.Options))
        {
            await old.GetService<IMigrator>().MigrateAsync("20261126045008_TimeOrderedWebhookKey");
        }

        var takenAt = DateTimeOffset.UtcNow - DatabaseInitializer.StaleMigrationLock - TimeSpan.FromMinutes(1);
        await ExecuteAsync($"""
            CREATE TABLE IF NOT EXISTS "__EFMigrationsLock" ("Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY, "Timestamp" TEXT NOT NULL);
            INSERT INTO "__EFMigrationsLock" VALUES (1, '{takenAt:yyyy-MM-dd HH:mm:ss.ff}+00:00');
            """);

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: _path) { DeleteDatabaseOnDispose = false };
        await Task.Run(() => _ = server.Server).WaitAsync(StartLimit);

        await server.WithDbAsync(async db => Assert.Empty(await db.Database.GetPendingMigrationsAsync()));
        Assert.Contains(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Removed EF's migration lock", StringComparison.Ordinal));
        Assert.Equal(0L, await ScalarAsync("""SELECT count(*) FROM "__EFMigrationsLock" """));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={_path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, Api.Webhooks.WebhookInboxFile.PathBeside(_path) })
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(file + suffix);
            }
        }
    }
}
