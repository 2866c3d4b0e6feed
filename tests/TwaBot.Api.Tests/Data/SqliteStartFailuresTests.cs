using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// The one line a SQLite error at start prints: what went wrong, and for a damaged file which of the two files to
/// look at (the database, its webhook inbox beside it, or either when SQLite cannot tell).
/// </summary>
public class SqliteStartFailuresTests
{
    [Theory]
    [InlineData("damaged", "sound", "database")]
    [InlineData("damaged", "missing", "database")]
    [InlineData("sound", "damaged", "inbox")]
    [InlineData("missing", "damaged", "inbox")]
    [InlineData("damaged", "damaged", "either")]
    [InlineData("sound", "sound", "either")] // SQLite said damaged, yet both check sound now
    [InlineData("missing", "missing", "either")]
    public void ADamagedFileIsNamedWhenOnlyOneOfTheTwoIsDamaged(string database, string inbox, string named)
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(folder.Path);
        var databasePath = Path.Combine(folder.Path, "twabot.db");
        var inboxPath = WebhookInboxFile.PathBeside(databasePath);
        Arrange(databasePath, database);
        Arrange(inboxPath, inbox);

        foreach (var code in new[] { 11 /* SQLITE_CORRUPT */, 26 /* SQLITE_NOTADB */ })
        {
            var line = SqliteStartFailures.Describe(new SqliteException("SQLite Error: damaged.\nMore lines.", code), databasePath);

            var file = named switch
            {
                "database" => databasePath,
                "inbox" => inboxPath,
                _ => $"{databasePath} or {inboxPath}",
            };
            Assert.Equal($"TwaBot server cannot start: the database file {file} is damaged (SQLite Error: damaged.). "
                + "Restore both database files from the latest backup (docs/operations.md, Restoring); "
                + "sqlite3 FILE \"PRAGMA integrity_check\" shows the damage.", line);
        }
    }

    [Theory]
    [InlineData(13, "TwaBot server cannot start: the disk holding the database {0} is full (database or disk is full). Free space on it and start the server again.")]
    [InlineData(1, "TwaBot server cannot start: SQLite failed on the database {0} (database or disk is full).")]
    [InlineData(14, "TwaBot server cannot start: SQLite failed on the database {0} (database or disk is full).")]
    public void AFullDiskAndOtherFailuresSayWhatHappened(int code, string said)
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-missing-{Guid.NewGuid():N}.db");

        var line = SqliteStartFailures.Describe(new SqliteException("database or disk is full  \nat the second line", code), databasePath);

        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, said, databasePath), line);
    }

    [Fact]
    public void OnlySqlitesErrorsAreStartFailuresOfItsOwn()
    {
        Assert.True(SqliteStartFailures.IsOne(new SqliteException("SQLite Error", 11)));
        Assert.False(SqliteStartFailures.IsOne(new IOException("disk")));
        Assert.False(SqliteStartFailures.IsOne(null));
    }

    /// <summary>Leaves no file, a sound SQLite file, or a file of the same size that is no database.</summary>
    private static void Arrange(string path, string state)
    {
        switch (state)
        {
            case "sound":
                using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
                {
                    connection.Open();
                    using var command = connection.CreateCommand();
                    command.CommandText = "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);";
                    command.ExecuteNonQuery();
                }

                break;
            case "damaged":
                File.WriteAllBytes(path, [.. Enumerable.Repeat((byte)'Z', 8192)]); // no SQLite header: not a database
                break;
        }
    }
}
