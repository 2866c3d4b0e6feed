namespace TwaBot.Api.Data;

/// <summary>
/// One server per database: the per-minute counters, each key's daily count, the Idempotency-Keys under way
/// and the webhook processor's place live in the server's memory, so a second server on the same files would
/// let keys send past their caps and send twice under one key. The first server holds an exclusive lock on a
/// file beside the database for as long as it runs; one started next to it stops at start, naming the file.
/// The lock belongs to the open file (<c>flock</c>, through <see cref="FileShare.None"/>), so the kernel
/// releases it when the process ends, a crash included: there is never a stale lock to remove.
/// </summary>
public sealed class DatabaseOwnership : IDisposable
{
    private FileStream? _lock;

    /// <summary><c>twabot.db</c> → <c>twabot.db.server-lock</c> (not <c>.lock</c>, which SQLite's dot-file locking uses).</summary>
    public static string LockPathOf(string databasePath) => databasePath + ".server-lock";

    /// <summary>Takes the database for this server, or throws <see cref="DatabaseUnusableException"/> when another has it.</summary>
    public void Take(string databasePath)
    {
        var path = LockPathOf(Path.GetFullPath(databasePath));
        try
        {
            _lock ??= new FileStream(path, LockFileOptions());
        }
        catch (IOException error) when (IsHeldByAnother(error))
        {
            throw new DatabaseUnusableException(
                $"TwaBot server cannot start: another TwaBot server is using the database {databasePath} (it holds {path}). "
                + "Run one server per database: limits, daily caps and Idempotency-Keys are kept in its memory. "
                + "Stop the other one first (in an upgrade, the old version before the new).");
        }
        catch (Exception error) when (error is UnauthorizedAccessException or IOException and not FileNotFoundException and not DirectoryNotFoundException)
        {
            // Most often left by a server run once as another user (root, say): the database files were given to the server's
            // user since, this one was not. Empty, and never locked with no server running, so it may simply go.
            throw new DatabaseUnusableException(
                $"TwaBot server cannot start: it cannot open {path}, the file that keeps a second server off the database "
                + $"{databasePath} ({error.Message}); give it to the server's user (chown), or delete it while no server runs on the database.");
        }
    }

    /// <summary>
    /// The lock refused because another open file holds it: EWOULDBLOCK from flock on Linux (11) and macOS (35), a sharing
    /// violation on Windows. Any other fault opening the file (a symbolic link's loop, a full disk) is no other server.
    /// </summary>
    private static bool IsHeldByAnother(IOException error) =>
        error.HResult is 11 or 35 or unchecked((int)0x80070020) or unchecked((int)0x80070021);

    /// <summary>
    /// Empty, but the server's user's only, as the database files are (an existing one keeps the mode it has): another
    /// local user who could open it for writing could hold the lock and keep the server from starting.
    /// </summary>
    private static FileStreamOptions LockFileOptions()
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }
}
