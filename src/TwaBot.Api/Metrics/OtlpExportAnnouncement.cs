namespace TwaBot.Api.Metrics;

/// <summary>
/// Says once, at start, where metrics go: the exporter itself reports failures only to OpenTelemetry's own
/// diagnostics, so without this line an operator could not tell that export is on, or where to.
/// </summary>
internal sealed partial class OtlpExportAnnouncement(IConfiguration configuration, ILogger<OtlpExportAnnouncement> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var endpoint = configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] is { Length: > 0 } metrics ? metrics : configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var address = WithoutUserInfo(endpoint);
        LogExporting(logger, address, configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "grpc", configuration["OTEL_METRIC_EXPORT_INTERVAL"] ?? "60000");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The address without a user name or password, which would otherwise reach the log.</summary>
    internal static string WithoutUserInfo(string? endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
            ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
            : "(an address that is not a URL)";

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting metrics over OTLP to {Endpoint} ({Protocol}, every {IntervalMilliseconds} ms)")]
    private static partial void LogExporting(ILogger logger, string endpoint, string protocol, string intervalMilliseconds);
}
