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
