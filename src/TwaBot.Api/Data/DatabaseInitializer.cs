using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace TwaBot.Api.Data;

/// <summary>
/// Runs before the server accepts requests, in this order: creates the database folder; takes ownership of the
/// file (one server per database); refuses a database a newer version migrated; applies pending migrations
/// (releasing a migration lock a killed server left) and tags older sends with their quota day; puts the file
/// in WAL mode (readers do not block the writer, and commits are cheap); encrypts access tokens an older
/// version stored in plain text; reads which tokens Meta refused.
/// </summary>
internal sealed partial class DatabaseInitializer(IServiceProvider services, DatabaseOwnership ownership, ILogger<DatabaseInitializer> logger) : IHostedService
{
    /// <summary>Longer than any of our migrations takes: a migration-lock row this old was left by a killed server.</summary>
    internal static readonly TimeSpan StaleMigrationLock = TimeSpan.FromMinutes(1);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();

        var dataSource = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
        if (Path.GetDirectoryName(Path.GetFullPath(dataSource)) is { Length: > 0 } folder && dataSource != ":memory:")
        {
            Directory.CreateDirectory(folder);
        }

        ownership.Take(dataSource); // before anything reads or migrates the files another server may be using

        // A newer server's migrations here mean tables and columns this version does not know, and would not
        // keep up to date: going back is a restore of the backup taken before the upgrade (docs/operations.md).
        var unknown = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).Except(db.Database.GetMigrations()).ToList();
        if (unknown.Count > 0)
        {
            throw new DatabaseUnusableException(
                $"TwaBot server cannot start: the database {dataSource} was upgraded by a newer version (migration {unknown[^1]}). "
                + "Run that version or a later one, or restore the backup taken before the upgrade.");
        }

        // MigrateAsync takes EF's migration lock even when nothing is pending; skipping it then keeps routine
        // restarts clear of that lock altogether.
        if ((await db.Database.GetPendingMigrationsAsync(cancellationToken)).Any())
        {
            await ReleaseStaleMigrationLockAsync(db, cancellationToken);
            await db.Database.MigrateAsync(cancellationToken);
        }

        // Every start, not only after migrations: a start stopped after migrating left the rows untagged (cheap otherwise).
        await RateLimiting.DailyQuota.TagUntaggedSendsAsync(db, cancellationToken);
        await WarnOfUnknownTimeZonesAsync(db, cancellationToken);

        // WAL is a property of the file; EF sets it only when it creates the file, so set it always.
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await SqliteDurability.UseWalAsync(connection, cancellationToken);
        await db.Database.CloseConnectionAsync();

        // Every start, not only after migrations: it also finishes a file rewrite an earlier start did not (cheap otherwise).
        var tokens = scope.ServiceProvider.GetRequiredService<Businesses.AccessTokenProtector>();
        await tokens.EncryptStoredAsync(db, cancellationToken);

        // After the tokens are readable: a refusal is held against the token Meta refused.
        await scope.ServiceProvider.GetRequiredService<Meta.MetaTokenRefusals>().LoadAsync(db, tokens, cancellationToken);

        LogReady(logger, dataSource);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A business's zone that this host's tz database lacks counts as UTC (<see cref="Configuration.TimeZones.Find"/>):
    /// its sends go on, but its daily cap turns over at UTC midnight, which the operator is told, with the way out.
    /// </summary>
    private async Task WarnOfUnknownTimeZonesAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var zones = await db.Businesses.AsNoTracking().Select(b => b.TimeZone).Distinct().ToListAsync(cancellationToken);
        foreach (var zone in zones.Where(z => !Configuration.TimeZones.IsOnThisHost(z)))
        {
            var ids = await db.Businesses.AsNoTracking().Where(b => b.TimeZone == zone).OrderBy(b => b.Id).Select(b => b.Id).ToListAsync(cancellationToken);
            var named = string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? $" and {ids.Count - 10} more" : "");
            LogUnknownTimeZone(logger, zone, named);
        }
    }

    /// <summary>
    /// EF's migration lock on SQLite is a row in <c>__EFMigrationsLock</c> with no timeout: a process killed
    /// while holding it leaves the row, and every later MigrateAsync waits for ever, silently. One server
    /// owns a database file (docs/operations.md) and our migrations take well under a second, so a row older
    /// than <see cref="StaleMigrationLock"/> (or stamped that far ahead of the clock) was left by a killed process; a
    /// younger one is waited for.
    /// </summary>
    private async Task ReleaseStaleMigrationLockAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        while (await MigrationLockTakenAtAsync(db, cancellationToken) is { } takenAt)
        {
            // EF stamps the row with the machine's clock, so this compares with that clock, not the app's TimeProvider.
            // A row stamped ahead of it by as much was left before the clock was set back (a VM restored from a
            // snapshot): waiting for it to age would hold the start as long as the step, silently.
            if ((TimeProvider.System.GetUtcNow() - takenAt).Duration() >= StaleMigrationLock)
            {
                await db.Database.ExecuteSqlRawAsync("DELETE FROM \"__EFMigrationsLock\";", cancellationToken);
                LogStaleMigrationLock(logger, takenAt);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    private static async Task<DateTimeOffset?> MigrationLockTakenAtAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT \"Timestamp\" FROM \"__EFMigrationsLock\" LIMIT 1";
            return await command.ExecuteScalarAsync(cancellationToken) switch
            {
                null => null,
                string text when DateTimeOffset.TryParse(
                    text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var takenAt) => takenAt,
                _ => DateTimeOffset.MinValue, // a row whose time cannot be read is as good as stale
            };
        }
        catch (SqliteException error) when (error.SqliteErrorCode == 1) // no such table: EF has never locked this file
        {
            return null;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removed EF's migration lock taken at {TakenAt:O}, left by a server that stopped while migrating")]
    private static partial void LogStaleMigrationLock(ILogger logger, DateTimeOffset takenAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Time zone {TimeZone} of business {BusinessIds} is not in this host's time-zone database: their daily caps count UTC days until the host has it (Debian and Ubuntu keep older names such as Asia/Calcutta in the tzdata-legacy package) or each business gets a current name (PATCH /admin/v1/businesses/{{id}} with time_zone)")]
    private static partial void LogUnknownTimeZone(ILogger logger, string timeZone, string businessIds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database {DataSource} ready (journal_mode=wal, synchronous=full)")]
    private static partial void LogReady(ILogger logger, string dataSource);
}

/// <summary>
/// This server must not run on the database: it carries migrations this version does not have, or another
/// server is using it. Stopping, with the message as one line, is safer than running beside either.
/// </summary>
public sealed class DatabaseUnusableException(string message) : Exception(message);
