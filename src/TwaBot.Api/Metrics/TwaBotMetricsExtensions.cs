using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace TwaBot.Api.Metrics;

public static class TwaBotMetricsExtensions
{
    /// <summary>Meters whose instruments are exported: ours, and the framework's for requests, connections, calls out and the runtime.</summary>
    internal static readonly string[] ExportedMeters =
        [TwaBotMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    /// <summary>
    /// The <c>TwaBot</c> meter, and the export over OTLP of its metrics with the framework's meters when the standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>) is set, and of traces when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) is; the exporter reads the
    /// other <c>OTEL_*</c> settings itself (protocol, headers, interval). A signal without an endpoint is not
    /// collected at all: an exporter would try localhost and log a failure at every interval.
    /// </summary>
    public static IServiceCollection AddTwaBotMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddTwaBotMetricsInstruments();
        var metrics = IsOtlpExportConfigured(configuration);
        var traces = IsTraceExportConfigured(configuration);
        if (metrics || traces)
        {
            var telemetry = services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService(ServiceName(configuration)));
            if (metrics)
            {
                telemetry.WithMetrics(meters => meters.AddMeter(ExportedMeters));
            }

            if (traces)
            {
                var redaction = new Logging.SecretRedaction(Logging.LoggingExtensions.ConfiguredSecrets(configuration));
                telemetry.WithTracing(tracing => AddTwaBotTraces(tracing, redaction));
            }

            telemetry.UseOtlpExporter();
            services.AddHostedService<OtlpExportAnnouncement>();
        }

        return services;
    }

    /// <summary>
    /// Requests in, calls out (to Meta, and in the sandbox to the emulator and from it), and our own spans. The
    /// instrumentations replace query values by <c>Redacted</c>, unless an <c>OTEL_DOTNET_EXPERIMENTAL_…_DISABLE_URL_QUERY_REDACTION</c>
    /// says not to; secrets are taken out of what they record even then (quick-send's <c>apikey</c>, the webhook check's
    /// <c>hub.verify_token</c>), as from the logs, and so is the text of the configured admin key and app secret wherever in
    /// the URL it was pasted (the path is never redacted by the instrumentations). Headers are not recorded (the
    /// instrumentations record none unless told to).
    /// </summary>
    private static void AddTwaBotTraces(TracerProviderBuilder tracing, Logging.SecretRedaction redaction) => tracing
        .AddSource(TwaBotTracing.SourceName)
        .AddAspNetCoreInstrumentation(options => options.EnrichWithHttpRequest = (span, _) => RedactUrl(span, redaction))
        .AddHttpClientInstrumentation(options => options.EnrichWithHttpRequestMessage = (span, _) => RedactUrl(span, redaction));

    /// <summary>The URL tags as the instrumentations set them, without secrets.</summary>
    private static void RedactUrl(System.Diagnostics.Activity span, Logging.SecretRedaction redaction)
    {
        foreach (var tag in (ReadOnlySpan<string>)["url.path", "url.query", "url.full"])
        {
            if (span.GetTagItem(tag) is string value && redaction.RedactText(value) is var redacted && !ReferenceEquals(redacted, value))
            {
                span.SetTag(tag, redacted);
            }
        }
    }

    /// <summary>The instruments alone (and the meter factory they come from), for hosts that export nothing.</summary>
    public static IServiceCollection AddTwaBotMetricsInstruments(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<TwaBotMetrics>();
        return services;
    }

    /// <summary>OTEL_SERVICE_NAME, or twabot when it is unset or blank (the exporter refuses an empty name, and the server would not start).</summary>
    private static string ServiceName(IConfiguration configuration) =>
        configuration["OTEL_SERVICE_NAME"] is { } name && !string.IsNullOrWhiteSpace(name) ? name : "twabot";

    internal static bool IsOtlpExportConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);

    internal static bool IsTraceExportConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
}
