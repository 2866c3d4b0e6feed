using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace TwaBot.Api.Data;

/// <summary>
/// Runs before the server accepts requests: creates the database folder, applies pending
/// migrations and puts the file in WAL mode (readers do not block the writer, and commits are cheap).
/// </summary>
internal sealed partial class DatabaseInitializer(IServiceProvider services, ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();

        var dataSource = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        if (Path.GetDirectoryName(Path.GetFullPath(dataSource)) is { Length: > 0 } folder && dataSource != ":memory:")
        {
            Directory.CreateDirectory(folder);
        }

        await db.Database.MigrateAsync(cancellationToken);

        // WAL is a property of the file; EF sets it only when it creates the file, so set it always.
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA journal_mode = WAL;";
            var journalMode = await command.ExecuteScalarAsync(cancellationToken) as string;
            if (journalMode is not "wal")
            {
                throw new InvalidOperationException($"SQLite refused WAL journal mode (got '{journalMode}').");
            }
        }

        await db.Database.CloseConnectionAsync();

        LogReady(logger, dataSource);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {DataSource} ready (journal_mode=wal, synchronous=full)")]
    private static partial void LogReady(ILogger logger, string dataSource);
}
