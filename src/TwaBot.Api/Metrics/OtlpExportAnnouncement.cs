namespace TwaBot.Api.Metrics;

/// <summary>
/// Says once, at start, where metrics and traces go: the exporter itself reports failures only to OpenTelemetry's own
/// diagnostics, so without this line an operator could not tell that export is on, or where to.
/// </summary>
internal sealed partial class OtlpExportAnnouncement(IConfiguration configuration, ILogger<OtlpExportAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var protocol = configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "grpc";
        if (TwaBotMetricsExtensions.IsOtlpExportConfigured(configuration))
        {
            var metrics = WithoutUserInfo(SignalEndpoint("METRICS"));
            LogExporting(logger, metrics, protocol, configuration["OTEL_METRIC_EXPORT_INTERVAL"] ?? "60000");
        }

        if (TwaBotMetricsExtensions.IsTraceExportConfigured(configuration))
        {
            var traces = WithoutUserInfo(SignalEndpoint("TRACES"));
            LogExportingTraces(logger, traces, protocol);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string? SignalEndpoint(string signal) =>
        configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"] is { Length: > 0 } own ? own : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];

    /// <summary>
    /// The address without a user name or password, nor a query (a backend's key may ride there, under a name the log's
    /// redaction does not know), any of which would otherwise reach the log.
    /// </summary>
    internal static string WithoutUserInfo(string? endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            ? new UriBuilder(uri) { UserName = "", Password = "", Query = "", Fragment = "" }.Uri.ToString()
            : "(an address that is not a URL)";

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting metrics over OTLP to {Endpoint} ({Protocol}, every {IntervalMilliseconds} ms)")]
    private static partial void LogExporting(ILogger logger, string endpoint, string protocol, string intervalMilliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting traces over OTLP to {Endpoint} ({Protocol})")]
    private static partial void LogExportingTraces(ILogger logger, string endpoint, string protocol);
}
