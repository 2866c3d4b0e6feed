using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// Another process holding the database's write lock, as a sqlite3 shell left inside <c>BEGIN IMMEDIATE</c>: the server's
/// writes wait SQLite's busy timeout and then fail with SQLITE_BUSY, its reads go on. Released when disposed (closing the
/// shell's connection rolls its transaction back).
/// </summary>
public sealed class AnotherProcessLock : IAsyncDisposable
{
    private readonly SqliteConnection _shell;

    private AnotherProcessLock(SqliteConnection shell) => _shell = shell;

    public static async Task<AnotherProcessLock> TakeAsync(string databasePath)
    {
        var shell = new SqliteConnection($"Data Source={databasePath};Pooling=False");
        await shell.OpenAsync();
        await using var begin = shell.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        await begin.ExecuteNonQueryAsync();
        return new AnotherProcessLock(shell);
    }

    /// <summary>Lets the server write again, before the test goes on.</summary>
    public ValueTask ReleaseAsync() => DisposeAsync();

    public ValueTask DisposeAsync() => _shell.DisposeAsync();
}
