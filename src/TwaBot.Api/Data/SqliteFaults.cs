using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Data;

/// <summary>
/// SQLite errors that say the database cannot be written at the moment, whatever was being written: another process
/// held its write lock through the busy timeout, the disk is full, the file turned read-only or unreadable. They pass
/// when the condition clears, so a request gets 503 with Retry-After, and the webhook processor counts them against no
/// event.
/// </summary>
public static class SqliteFaults
{
    public static bool IsStorageFault(Exception? error) =>
        (error as SqliteException ?? error?.InnerException as SqliteException)?.SqliteErrorCode
            is 5 /* BUSY */ or 6 /* LOCKED */ or 8 /* READONLY */ or 10 /* IOERR */ or 13 /* FULL */ or 14 /* CANTOPEN */;
}
