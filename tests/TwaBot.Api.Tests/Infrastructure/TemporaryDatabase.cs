using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// A database file of the test's own under the temp folder, for tests that prepare it by hand before a
/// server starts on it; on dispose it is deleted with the files a server keeps beside it.
/// </summary>
public sealed class TemporaryDatabase : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");

    /// <summary>EF options with the server's own SQLite settings, for migrating or reading the file directly.</summary>
    public DbContextOptions<TwaBotDbContext> ContextOptions()
    {
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, DataExtensions.BuildConnectionString($"Data Source={Path}", System.IO.Path.GetTempPath()));
        return options.Options;
    }

    public async Task ExecuteAsync(string sql) => await CommandAsync(sql, command => command.ExecuteNonQueryAsync());

    public Task<object?> ScalarAsync(string sql) => CommandAsync(sql, command => command.ExecuteScalarAsync());

    /// <summary>
    /// The row EF's SQLite migration lock writes, as a server that holds the lock (or was killed holding it) leaves it:
    /// in the invariant culture's calendar, as EF writes it (under th_TH the year would be 2569, a lock to stay for ever).
    /// </summary>
    public Task LeaveMigrationLockRowAsync(DateTimeOffset takenAt) => ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"""
        CREATE TABLE IF NOT EXISTS "__EFMigrationsLock" ("Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY, "Timestamp" TEXT NOT NULL);
        INSERT INTO "__EFMigrationsLock" VALUES (1, '{takenAt:yyyy-MM-dd HH:mm:ss.ff}+00:00');
        """));

    private async Task<T> CommandAsync<T>(string sql, Func<SqliteCommand, Task<T>> run)
    {
        await using var connection = new SqliteConnection($"Data Source={Path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await run(command);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        DatabaseFiles.Delete(Path);
    }
}
