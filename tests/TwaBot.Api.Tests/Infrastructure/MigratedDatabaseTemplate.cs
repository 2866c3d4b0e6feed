using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// An empty database file every migration has been applied to, made once per test run: a server started for a test
/// that is not about migrating starts on a copy of it instead of migrating a new file from nothing (every migration,
/// at each of some 250 starts). The copy holds no rows, so the sandbox still seeds its business at the first start,
/// and the server still runs its migration check on it (nothing pending) and puts it in WAL mode.
/// </summary>
internal static class MigratedDatabaseTemplate
{
    private static readonly Lazy<string> Template = new(Migrate, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Writes a copy of the template to <paramref name="databasePath"/>, which must not exist yet.</summary>
    public static void CopyTo(string databasePath) => File.Copy(Template.Value, databasePath);

    /// <summary>Migrates a new file the way a server's first start does: made readable by its user only, empty, then migrated.</summary>
    private static string Migrate()
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-template-{Guid.NewGuid():N}.db");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DatabaseFiles.Delete(path);
        using (File.Create(path))
        {
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        using (var db = new TwaBotDbContext(UnpooledOptions(path)))
        {
            db.Database.Migrate();
        }

        // A file EF did not create stays in rollback-journal mode, so it is whole in itself: nothing in a -wal file to miss.
        if (File.Exists(path + "-wal") || File.Exists(path + "-journal"))
        {
            throw new InvalidOperationException($"The migrated template {path} left a journal beside it; a copy would miss its contents");
        }

        return path;
    }

    /// <summary>The server's own SQLite settings for <paramref name="path"/>, without pooling: no connection stays open on the file after use.</summary>
    internal static DbContextOptions<TwaBotDbContext> UnpooledOptions(string path)
    {
        var connectionString = new SqliteConnectionStringBuilder(DataExtensions.BuildConnectionString($"Data Source={path}", Path.GetTempPath()))
        {
            Pooling = false,
        }.ToString();
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, connectionString);
        return options.Options;
    }
}
