using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace TwaBot.Api.Data;

/// <summary>
/// Per-connection SQLite settings. <c>synchronous=FULL</c>: with WAL, a commit is synced to disk
/// before it returns, so an accepted send or a counted quota unit survives power loss, not only a
/// process crash (NORMAL would risk the last commits). Throughput comes from short transactions,
/// not from relaxing this. See docs/operations.md.
/// </summary>
internal sealed class SqliteDurability : DbConnectionInterceptor
{
    internal const string Pragmas = "PRAGMA synchronous = FULL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(
        DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Puts the file in WAL mode (a property of the file, kept once set) and checks that SQLite agreed: a file
    /// system without shared memory, or another process holding it in exclusive mode, leaves it in another mode,
    /// whose readers block writers.
    /// </summary>
    internal static async Task UseWalAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        var journalMode = await command.ExecuteScalarAsync(cancellationToken) as string;
        if (journalMode is not "wal")
        {
            throw new DatabaseUnusableException($"TwaBot server cannot start: SQLite will not put {connection.DataSource} in WAL journal mode "
                + $"(it stays '{journalMode}'). Keep the database on a local file system, and stop any other program using it in exclusive mode.");
        }
    }
}
