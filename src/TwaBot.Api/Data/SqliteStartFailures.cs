using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Data;

/// <summary>
/// A SQLite error that stops the server while it starts, after the files passed the configuration check: a file
/// whose header is sound but whose pages are damaged (found by the first read of them), a disk that fills during a
/// migration. Program says it in one line naming the file and what to do, like the other start failures, instead
/// of the host's stack trace and exit code 134.
/// </summary>
public static class SqliteStartFailures
{
    private const int Corrupt = 11; // SQLITE_CORRUPT
    private const int Full = 13;    // SQLITE_FULL
    private const int NotADatabase = 26; // SQLITE_NOTADB

    public static bool IsOne(Exception? error) => error is SqliteException;

    /// <summary>The line to print for <paramref name="error"/>; <paramref name="database"/> is the main file (the inbox is beside it).</summary>
    public static string Describe(Exception error, string database)
    {
        ArgumentNullException.ThrowIfNull(error);
        var inbox = Webhooks.WebhookInboxFile.PathBeside(database);
        var why = error.Message.Split('\n', 2)[0].TrimEnd();
        return (error as SqliteException)?.SqliteErrorCode switch
        {
            Corrupt or NotADatabase => $"TwaBot server cannot start: the database file {DamagedOf(database, inbox)} is damaged ({why}). "
                + "Restore both database files from the latest backup (docs/operations.md, Restoring); "
                + "sqlite3 FILE \"PRAGMA integrity_check\" shows the damage.",
            Full => $"TwaBot server cannot start: the disk holding the database {database} is full ({why}). "
                + "Free space on it and start the server again.",
            _ => $"TwaBot server cannot start: SQLite failed on the database {database} ({why}).",
        };
    }

    /// <summary>Which of the two files SQLite finds damaged (both, when it cannot tell).</summary>
    private static string DamagedOf(string database, string inbox) => (IsDamaged(database), IsDamaged(inbox)) switch
    {
        (true, false) => database,
        (false, true) => inbox,
        _ => $"{database} or {inbox}",
    };

    private static bool IsDamaged(string file)
    {
        if (!File.Exists(file))
        {
            return false;
        }

        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
            }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA quick_check(1);";
            return command.ExecuteScalar() as string != "ok";
        }
        catch (SqliteException)
        {
            return true;
        }
    }
}
