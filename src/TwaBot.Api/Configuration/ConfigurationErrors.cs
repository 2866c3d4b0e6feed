using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

/// <summary>Start-up failures caused by configuration, reported as one readable message.</summary>
public static class ConfigurationErrors
{
    public static bool IsConfigurationError(Exception error) => error switch
    {
        OptionsValidationException => true,
        // The binder's message names the setting: "Failed to convert configuration value at 'TwaBot:…'".
        InvalidOperationException e => e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal),
        AggregateException e => e.InnerExceptions.All(IsConfigurationError),
        _ => false,
    };

    /// <summary>
    /// Binds and validates the options and the database setting now; returns the readable report of
    /// what is wrong, or null. The database file is opened (created when missing) last, once the
    /// settings are known to be sound, so a path the server cannot use is reported here too, not as a
    /// host failure with a stack trace.
    /// </summary>
    public static string? Check(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var problems = new List<string>();
        try
        {
            _ = services.GetRequiredService<IOptions<TwaBotOptions>>().Value;
        }
        catch (Exception error) when (IsConfigurationError(error))
        {
            problems.AddRange(Messages(error));
        }

        if (services.GetService<IConfiguration>() is { } configuration
            && Data.DataExtensions.ConnectionStringProblem(configuration.GetConnectionString(Data.DataExtensions.ConnectionStringName)) is { } badSetting)
        {
            problems.Add(badSetting);
        }

        if (problems.Count == 0 && services.GetService<Data.SqliteConnections>() is { } database
            && Data.DataExtensions.DatabaseFileProblem(database) is { } badFile)
        {
            problems.Add(badFile);
        }

        return problems.Count == 0 ? null : Report(problems);
    }

    /// <summary>True under WebApplicationFactory, whose in-memory server must see start-up failures itself.</summary>
    public static bool IsTestHost(WebApplication app) =>
        app?.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.GetType().Assembly.GetName().Name
            == "Microsoft.AspNetCore.TestHost";

    public static string Describe(Exception error) => Report(Messages(error));

    private static IEnumerable<string> Messages(Exception error) => error switch
    {
        OptionsValidationException e => e.Failures,
        AggregateException e => e.InnerExceptions.SelectMany(Messages),
        _ => [error.Message],
    };

    private static string Report(IEnumerable<string> messages) =>
        "TwaBot server cannot start; fix the configuration:" + Environment.NewLine
        + string.Join(Environment.NewLine, messages.Select(m => "  - " + m));
}
