using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Data;

/// <summary>
/// For a background write made while holding the write gate: waits a short while for another process's write lock
/// (a sqlite3 shell, a backup), not the busy timeout (30 s), since sends queue behind the gate meanwhile. A write that
/// finds the lock still taken fails with SQLITE_BUSY, and its job tries again later.
/// </summary>
internal sealed class ShortLockWait : IDisposable
{
    public const int Seconds = 2;

    private readonly SqliteConnection _connection;
    private readonly int _busyTimeout;

    /// <summary>Until disposed, statements on <paramref name="connection"/> wait at most <see cref="Seconds"/> for the lock.</summary>
    public ShortLockWait(SqliteConnection connection)
    {
        _connection = connection;
        _busyTimeout = connection.DefaultTimeout; // Microsoft.Data.Sqlite's busy wait for each statement
        connection.DefaultTimeout = Seconds;
    }

    /// <summary>Puts the busy timeout back: the connection returns to the pool with its context.</summary>
    public void Dispose() => _connection.DefaultTimeout = _busyTimeout;

    public static bool IsBusy(SqliteException error) => error.SqliteErrorCode is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED;
}
