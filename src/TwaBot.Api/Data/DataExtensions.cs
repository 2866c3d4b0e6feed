using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace TwaBot.Api.Data;

public static class DataExtensions
{
    public const string ConnectionStringName = "TwaBot";
    public const string DefaultConnectionString = "Data Source=twabot.db";

    /// <summary>EF Core on SQLite, and the start-up step that migrates the database.</summary>
    public static IServiceCollection AddTwaBotData(this IServiceCollection services)
    {
        // Resolved from services, so configuration added by hosts and tests after start-up code ran counts.
        services.AddSingleton<SqliteWriteGate>();
        services.AddSingleton<Sending.SendLookups>();
        services.AddSingleton<Sending.SendLookupsInvalidation>();
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
        .AddInterceptors(new SqliteDurability());

    /// <summary>What is wrong with the configured connection string, or null when SQLite can read it.</summary>
    internal static string? ConnectionStringProblem(string? configured)
    {
        try
        {
            _ = BuildConnectionString(configured, Path.GetTempPath());
            return null;
        }
        catch (ArgumentException error)
        {
            return $"ConnectionStrings:{ConnectionStringName} must be a SQLite connection string such as \"{DefaultConnectionString}\" ({error.Message})";
        }
    }

    /// <summary>
    /// Opens the database file once, creating it and its folder when missing, and reads its header;
    /// returns why that failed (a folder that cannot be written, a file that is not a database), or null.
    /// </summary>
    internal static string? DatabaseFileProblem(SqliteConnections database)
    {
        var file = new SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
        try
        {
            if (file is { Length: > 0 } and not ":memory:" && Path.GetDirectoryName(Path.GetFullPath(file)) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            using var connection = new SqliteConnection(database.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA schema_version;";
            command.ExecuteScalar();
            return null;
        }
        catch (Exception error) when (error is SqliteException or IOException or UnauthorizedAccessException)
        {
            return $"ConnectionStrings:{ConnectionStringName}: the database file {file} cannot be opened or created ({error.Message})";
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
        if (builder.DataSource is { Length: > 0 } file && file != ":memory:" && builder.Mode != SqliteOpenMode.Memory
            && !Path.IsPathRooted(file))
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
}
