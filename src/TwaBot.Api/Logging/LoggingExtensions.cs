using Serilog;
using Serilog.Events;

namespace TwaBot.Api.Logging;

public static class LoggingExtensions
{
    /// <summary>
    /// Serilog from the <c>Serilog</c> configuration section, console output, secret redaction, and
    /// any <see cref="Serilog.Core.ILogEventSink"/> registered in services (tests capture logs that way).
    /// </summary>
    public static WebApplicationBuilder AddTwaBotLogging(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IConfiguration configuration = builder.Configuration;
        builder.Services.AddSerilog((services, logger) => logger
            .MinimumLevel.Information()
            // The framework's request-start/finish lines would duplicate ours (and print query strings).
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            // Data Protection warns, at each key it adds to the token key ring, that the key is kept unencrypted on
            // disk: our documented choice (docs/operations.md, Backups). Its errors still show.
            .MinimumLevel.Override("Microsoft.AspNetCore.DataProtection", LogEventLevel.Error)
            .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
            // Polly reports handled attempts as warnings (a throttled one as an error); our Meta client logs the outcome once.
            .MinimumLevel.Override("Polly", LogEventLevel.Fatal)
            // The authentication handlers' "was not authenticated" and "was challenged" lines would make a refused
            // request two more lines; the request's own line has its 401.
            .MinimumLevel.Override(typeof(ApiKeys.ApiKeyAuthenticationHandler).FullName!, LogEventLevel.Warning)
            .MinimumLevel.Override(typeof(Admin.AdminKeyAuthenticationHandler).FullName!, LogEventLevel.Warning)
            .ReadSettings(configuration)
            // Pinned after the configuration, so that no setting brings them back, even one naming these
            // categories: Kestrel puts the raw request line or header (an apikey= value, an X-Admin-Key) into
            // the exception of its bad-request lines, and exceptions are not redacted; the framework's
            // "Request starting" lines print query strings.
            .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogEventLevel.Warning)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .Enrich.With(new SecretRedaction(ConfiguredSecrets(configuration)))
            .Enrich.With<ControlCharacterEscaping>()
            .Enrich.With<LongPathShortening>() // after both: it cuts the text as written, secrets already out
            // A stop during start-up cancels it, and an address Kestrel cannot open or a database this server
            // must not use (a newer version's, another server's) stops it; the host reports each as "Hosting
            // failed to start" with a stack trace, and Program says it in one line instead.
            // So is a SQLite error at start (a damaged file, a full disk), but only the start's: a writer failing later is logged.
            .Filter.ByExcluding(e => (e.Exception is OperationCanceledException or Data.DatabaseUnusableException
                    || Http.ListenFailures.IsOne(e.Exception)
                    || (Data.SqliteStartFailures.IsOne(e.Exception) && e.MessageTemplate.Text == "Hosting failed to start"))
                && e.Properties.TryGetValue("SourceContext", out var source) && source.ToString() == "\"Microsoft.Extensions.Hosting.Internal.Host\"")
            // EF's "Failed executing DbCommand" (its one Error there, logged without the exception, which goes on up) stood
            // above Program's line with the query's SQL; the start's failure is told by that line or the host's. Once the
            // server has started, a failing statement is logged as ever.
            .Filter.ByExcluding(e => e.Level == LogEventLevel.Error
                && !services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.IsCancellationRequested
                && e.Properties.TryGetValue("SourceContext", out var source) && source.ToString() == "\"Microsoft.EntityFrameworkCore.Database.Command\"")
            // Data Protection's Verbose line about a key it cannot read (a date mistyped while ending it by hand) prints the
            // whole <key> element, its master key in plain text: the key that decrypts the Meta access tokens. Its Error line
            // names the key and the failure without it.
            .Filter.ByExcluding(e => e.Level == LogEventLevel.Verbose && e.Properties.TryGetValue("SourceContext", out var source)
                && source.ToString() == $"\"{typeof(Microsoft.AspNetCore.DataProtection.KeyManagement.XmlKeyManager).FullName}\"")
            .WriteToConsoleUnlessConfigured(configuration),
            // Each host keeps its own logger (several run side by side in the tests).
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// The secrets set in configuration whose text the logs must never show, whatever its shape: ours, and the values of the
    /// headers the OTLP exporter sends (a telemetry backend's key, as <c>api-key=…</c> or <c>x-honeycomb-team=…</c>), which
    /// the HTTP client's header lines carry as properties when <c>System.Net.Http.HttpClient</c> logs at Verbose.
    /// </summary>
    internal static string?[] ConfiguredSecrets(IConfiguration configuration) =>
        [configuration["TwaBot:AdminKey"], configuration["TwaBot:PreviousAdminKey"], configuration["TwaBot:Meta:AppSecret"], configuration["TwaBot:Meta:VerifyToken"],
            .. OtlpHeaderSettings.SelectMany(setting => OtlpHeaderValues(configuration[setting]))];

    private static readonly string[] OtlpHeaderSettings =
        ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"];

    /// <summary>The values of a <c>name=value,name=value</c> header list, as written and percent-decoded (as the exporter sends them).</summary>
    private static IEnumerable<string> OtlpHeaderValues(string? headers) =>
        (headers ?? "").Split(',').Select(pair => pair.Split('=', 2)).Where(pair => pair.Length == 2).Select(pair => pair[1].Trim())
            .SelectMany(value => new[] { value, Uri.UnescapeDataString(value) });

    /// <summary>The Serilog section; a value it cannot read stops the server as a configuration error, in one line.</summary>
    private static LoggerConfiguration ReadSettings(this LoggerConfiguration logger, IConfiguration configuration)
    {
        try
        {
            return logger.ReadFrom.Configuration(configuration);
        }
        catch (Exception error) when (error is InvalidOperationException or FormatException or ArgumentException or InvalidCastException
            or System.Reflection.TargetInvocationException or IOException) // IOException: an assembly named in Serilog:Using is missing
        {
            throw new Configuration.ConfigurationErrorException($"Serilog: {error.Message}", error);
        }
    }

    /// <summary>
    /// Plain text on the console, unless the Serilog section names a console sink of its own (JSON, say):
    /// both would print every line twice. Any other sink is added beside it, so a misspelt or missing one
    /// (which Serilog skips without a word) never leaves the server with no output at all.
    /// </summary>
    private static LoggerConfiguration WriteToConsoleUnlessConfigured(this LoggerConfiguration logger, IConfiguration configuration) =>
        configuration.GetSection("Serilog:WriteTo").GetChildren()
            .Any(sink => string.Equals(sink["Name"], "Console", StringComparison.Ordinal)) // as Serilog finds it: "console" is no sink
            ? logger
            : logger.WriteTo.Console(formatProvider: System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One line per request: method, path (never the query string), status, time, key and business.</summary>
    public static WebApplication UseTwaBotRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.Services.GetRequiredService<Serilog.ILogger>();
            options.IncludeQueryInRequestPath = false;
            options.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            // A container's health probe every 30 s would be most of an idle server's log: a healthy answer
            // is logged at Debug; errors at Error, as for every path.
            options.GetLevel = (context, _, error) =>
                error is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Request.Path.Equals(Health.LivenessChecks.Path, StringComparison.OrdinalIgnoreCase) ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        return app;
    }
}
