using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Data;

/// <summary>
/// Plain SQLite connections for the hot paths that bypass EF (group-committed writes, the per-send
/// suppression read), opened with the same connection string and durability settings as EF's.
/// </summary>
public sealed class SqliteConnections(string connectionString)
{
    public string ConnectionString { get; } = connectionString;

    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = SqliteDurability.Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }
}
