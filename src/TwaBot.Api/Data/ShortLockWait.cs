using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

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

    /// <summary>
    /// Opens the context's connection, which then stays open until the context is disposed (EF would otherwise open and
    /// close one per statement, each with the pool's busy timeout), and waits briefly on it until disposed.
    /// </summary>
    public static async Task<ShortLockWait> OnAsync(DbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        await db.Database.OpenConnectionAsync(cancellationToken);
        return new ShortLockWait((SqliteConnection)db.Database.GetDbConnection());
    }

    /// <summary>Puts the busy timeout back: the connection returns to the pool with its context.</summary>
    public void Dispose() => _connection.DefaultTimeout = _busyTimeout;

    public static bool IsBusy(SqliteException error) => error.SqliteErrorCode is SQLitePCL.raw.SQLITE_BUSY or SQLitePCL.raw.SQLITE_LOCKED;
}
