using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace TwaBot.Api.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "TwaBot";
    public const string DefaultConnectionString = "Data Source=twabot.db";

    /// <summary>EF Core on SQLite, and the start-up step that migrates the database.</summary>
    public static IServiceCollection AddTwaBotData(this IServiceCollection services)
    {
        services.AddSingleton<SqliteWriteGate>();
        services.AddSingleton<DatabaseOwnership>();
        services.AddSingleton<Sending.SendLookups>();
        services.AddSingleton<Sending.SendLookupsInvalidation>();
        // Resolved from services, so configuration added by hosts and tests after start-up code ran counts.
        services.AddSingleton(provider => new SqliteConnections(BuildConnectionString(
            provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName),
            provider.GetRequiredService<IHostEnvironment>().ContentRootPath)));
        services.AddDbContextPool<TwaBotDbContext>((provider, options) =>
        {
            Configure(options, provider.GetRequiredService<SqliteConnections>().ConnectionString);
            options.AddInterceptors(provider.GetRequiredService<Sending.SendLookupsInvalidation>());
        });
        services.AddHostedService<DatabaseInitializer>();
        return services;
    }

    internal static void Configure(DbContextOptionsBuilder options, string connectionString) => options
        .UseSqlite(connectionString)
        .UseSnakeCaseNamingConvention()
        .AddInterceptors(new PlainEfConnections(), new SqliteDurability());

    /// <summary>What is wrong with the configured connection string, or null when the server can use it.</summary>
    internal static string? ConnectionStringProblem(string? configured)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(BuildConnectionString(configured, Path.GetTempPath()));
        }
        catch (Exception error) when (error is ArgumentException or FormatException or OverflowException)
        {
            return Problem(error.Message);
        }

        return builder switch
        {
            { DataSource: "" } => Problem("it names no database file"),
            { DataSource: ":memory:" } or { Mode: SqliteOpenMode.Memory } =>
                Problem("an in-memory database would lose every message at a stop, and cannot use the write-ahead log; name a file"),
            { Password.Length: > 0 } => Problem("this build of SQLite cannot encrypt; remove Password and encrypt the disk instead"),
            _ => null,
        };

        static string Problem(string why) =>
            $"ConnectionStrings:{ConnectionStringName} must be a SQLite connection string such as \"{DefaultConnectionString}\" ({why})";
    }

    /// <summary>
    /// Opens the database file and the webhook inbox file beside it, creating them and their folder when
    /// missing, and tries a write to each (rolled back); returns why that failed (a folder or file that
    /// cannot be written, such as one restored by root into a container that runs as another user, or a
    /// file that is not a database), or null.
    /// </summary>
    internal static string? DatabaseFileProblem(SqliteConnections database)
    {
        var builder = new SqliteConnectionStringBuilder(database.ConnectionString);
        var main = builder.DataSource; // a file: ConnectionStringProblem refuses the rest
        builder.DataSource = Webhooks.WebhookInboxFile.PathBeside(main);
        return FileProblem(database.ConnectionString, main) ?? FileProblem(builder.ToString(), builder.DataSource);
    }

    private static string? FileProblem(string connectionString, string file)
    {
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            CreateOwnerOnly(file);
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version;";
            var version = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            // SQLite opens a file it may not write read-only without a word; a write says so.
            command.CommandText = $"BEGIN IMMEDIATE; PRAGMA user_version = {version}; ROLLBACK;";
            command.ExecuteNonQuery();
            return null;
        }
        catch (Exception error) when (error is SqliteException or IOException or UnauthorizedAccessException)
        {
            return $"ConnectionStrings:{ConnectionStringName}: the database file {file} cannot be opened, created or written ({error.Message}); "
                + "the server's user must be able to write it, the files beside it (-wal, -shm) and their folder, on a disk with free space";
        }
    }

    /// <summary>
    /// A new database file is made readable by the server's user only: it holds customers' numbers and what they
    /// wrote, which other local users have no business reading (SQLite gives its -wal and -shm files the database
    /// file's mode). An existing file keeps the mode the operator gave it.
    /// </summary>
    private static void CreateOwnerOnly(string file)
    {
        if (OperatingSystem.IsWindows() || File.Exists(file))
        {
            return;
        }

        try
        {
            // An empty file is a new database to SQLite.
            using var created = new FileStream(file, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(file))
        {
            // Made in between by another process: left as it was made.
        }
    }

    /// <summary>
    /// Adds the settings we rely on to whatever the operator configured. A relative file name is
    /// taken from the content root, so the database does not move with the shell's directory.
    /// </summary>
    internal static string BuildConnectionString(string? configured, string contentRoot)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(configured) ? DefaultConnectionString : configured)
        {
            ForeignKeys = true,
            Pooling = true,
        };
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && !Path.IsPathRooted(file))
        {
            builder.DataSource = Path.Combine(contentRoot, file);
        }

        // Seconds a statement waits for the single SQLite writer before failing (busy timeout).
        if (builder.DefaultTimeout < 30)
        {
            builder.DefaultTimeout = 30;
        }

        return builder.ToString();
    }

    /// <summary>
    /// A transaction kept whole or undone whole, without EF's savepoint before each save in it: nothing goes on after a
    /// failed save, and under a cancelled token (a stop, a caller gone) EF's roll-back to that savepoint failed and was
    /// logged as an Error ("An error occurred using a transaction.") for what was no error.
    /// </summary>
    public static async Task<IDbContextTransaction> BeginAllOrNothingAsync(this DatabaseFacade database, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(database);
        var transaction = await database.BeginTransactionAsync(cancellationToken);
        database.AutoSavepointsEnabled = false; // until the context goes back to the pool, which sets it again
        return transaction;
    }
}
