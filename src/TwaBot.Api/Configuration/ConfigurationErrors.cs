using System.Reflection;
using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

/// <summary>Start-up failures caused by configuration, reported as one readable message.</summary>
public static partial class ConfigurationErrors
{
    public static bool IsConfigurationError(Exception error) => error switch
    {
        OptionsValidationException or ConfigurationErrorException => true,
        // The binder's message names the setting: "Failed to convert configuration value at 'TwaBot:…'".
        InvalidOperationException e => e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal),
        AggregateException e => e.InnerExceptions.All(IsConfigurationError),
        _ => false,
    };

    /// <summary>
    /// Checks the setting names, binds and validates the options and the database setting now; returns the
    /// readable report of what is wrong, or null. The database file is opened (created when missing) last, once the
    /// settings are known to be sound, so a path the server cannot use is reported here too, not as a
    /// host failure with a stack trace.
    /// </summary>
    public static string? Check(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var configuration = services.GetService<IConfiguration>();
        var problems = SectionProblems(configuration, () => _ = services.GetRequiredService<IOptions<TwaBotOptions>>().Value);

        if (configuration is not null
            && Data.DataExtensions.ConnectionStringProblem(configuration.GetConnectionString(Data.DataExtensions.ConnectionStringName)) is { } badSetting)
        {
            problems.Add(badSetting);
        }

        if (configuration is not null)
        {
            problems.AddRange(PortsProblems(configuration));
            problems.AddRange(Metrics.OtlpSettingsCheck.Problems(configuration));
        }

        if (problems.Count == 0 && services.GetService<Data.SqliteConnections>() is { } database
            && Data.DataExtensions.DatabaseFileProblem(database) is { } badFile)
        {
            problems.Add(badFile);
        }

        if (problems.Count == 0 && services.GetService<Businesses.KeyRing>()?.Problem() is { } badKeyRing)
        {
            problems.Add(badKeyRing);
        }

        return problems.Count == 0 ? null : Report(problems);
    }

    private static readonly string[] PortSettings = ["http_ports", "https_ports"];

    /// <summary>
    /// ASPNETCORE_HTTP_PORTS or ASPNETCORE_HTTPS_PORTS (when no URLs or endpoints replace them) with an entry that is no
    /// port: Kestrel splits them at ';' only and takes such an entry ("8080,8081") for the default port (80 for http), where it listened
    /// as root and failed with "Permission denied" as the Docker image's user. Both are named when both are wrong, so that
    /// one restart is enough.
    /// </summary>
    internal static IEnumerable<string> PortsProblems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (!string.IsNullOrEmpty(configuration["urls"]) || configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            return [];
        }

        return PortSettings
            .Select(name => (Variable: $"ASPNETCORE_{name.ToUpperInvariant()}", Value: configuration[name]))
            .Where(setting => !string.IsNullOrEmpty(setting.Value) && setting.Value
                .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(port => !ushort.TryParse(port, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
            .Select(setting => $"{setting.Variable} must be port numbers separated by ';' (got \"{setting.Value}\").")
            .ToList();
    }

    /// <summary>
    /// What is wrong with the TwaBot section: its names that are no setting, else what <paramref name="bind"/> (binding
    /// and validating the options) refuses; empty when the section is sound.
    /// </summary>
    internal static List<string> SectionProblems(IConfiguration? configuration, Action bind)
    {
        ArgumentNullException.ThrowIfNull(bind);
        // Unknown names first: a child below a value (TwaBot:AdminKey:x) makes the binder itself throw.
        var problems = configuration is null ? [] : UnknownSettings(configuration.GetSection(TwaBotOptions.SectionName), typeof(TwaBotOptions))
            .Select(setting => $"{setting} is not a setting (misspelt? README, 'Configuration', lists them all).")
            .ToList();
        if (problems.Count == 0)
        {
            try
            {
                bind();
            }
            catch (Exception error) when (IsConfigurationError(error))
            {
                problems.AddRange(Messages(error));
            }
        }

        return problems;
    }

    /// <summary>
    /// Keys under the TwaBot section that no option reads: a misspelt one would leave its option at the
    /// default without a word. (The binder's ErrorOnUnknownConfiguration names the options class, not the
    /// setting's path, and stops at the first class.) Names match as the binder matches them, ignoring case;
    /// a value setting (text, number, switch, list) has no settings below it.
    /// </summary>
    private static IEnumerable<string> UnknownSettings(IConfigurationSection section, Type options) =>
        section.GetChildren().SelectMany(child =>
            options.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase) switch
            {
                null => [child.Path],
                { PropertyType: var type } when IsList(type) => [], // its items are numbered children
                { PropertyType: var type } when IsValue(type) => child.GetChildren().Select(below => below.Path),
                { PropertyType: var type } => UnknownSettings(child, type),
            });

    private static bool IsList(Type type) => type != typeof(string) && type.IsAssignableTo(typeof(System.Collections.IEnumerable));

    private static bool IsValue(Type type) => !type.IsClass || type == typeof(string);

    /// <summary>True under WebApplicationFactory, whose in-memory server must see start-up failures itself.</summary>
    public static bool IsTestHost(WebApplication app) =>
        app?.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.GetType().Assembly.GetName().Name
            == "Microsoft.AspNetCore.TestHost";

    /// <summary>
    /// The report of a start-up failure in building the host: a misspelt setting of the TwaBot section first, as
    /// <see cref="Check"/> does: the options are read while the host is built, so their refusal came first, and a
    /// misspelt TwaBot:AdminKey was reported as missing without a word about the name written.
    /// </summary>
    public static string Describe(Exception error, IConfiguration configuration) =>
        Report(SectionProblems(configuration, () => System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error)));

    private static IEnumerable<string> Messages(Exception error) => error switch
    {
        OptionsValidationException e => e.Failures,
        AggregateException e => e.InnerExceptions.SelectMany(Messages),
        _ => [InOperatorsWords(error.Message)],
    };

    /// <summary>
    /// The binder's "Failed to convert configuration value 'abc' at 'TwaBot:…' to type 'System.Int32'." in an
    /// operator's words: the setting first, and the kind of value it takes rather than a .NET type name.
    /// </summary>
    private static string InOperatorsWords(string message)
    {
        var binder = BinderConversionFailure().Match(message);
        if (!binder.Success)
        {
            return message;
        }

        var kind = binder.Groups["type"].Value switch
        {
            "System.Int32" or "System.Int64" => "a whole number, such as 60",
            "System.Double" => "a number, such as 8 or 0.5",
            "System.Boolean" => "true or false",
            var type => type,
        };
        var value = binder.Groups["value"].Value;
        return $"{binder.Groups["setting"].Value} must be {kind} (got {(value.Length == 0 ? "an empty value" : $"'{value}'")}).";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<setting>[^']+)' to type '(?<type>[^']+)'\.$", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex BinderConversionFailure();

    private static string Report(IEnumerable<string> messages) =>
        "TwaBot server cannot start; fix the configuration:" + Environment.NewLine
        + string.Join(Environment.NewLine, messages.Select(m => "  - " + m));
}

/// <summary>A setting outside the TwaBot section that the server cannot use, such as a logging level it cannot read.</summary>
public sealed class ConfigurationErrorException(string message, Exception inner) : Exception(message, inner);
