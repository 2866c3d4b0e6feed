using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Resources;

namespace TwaBot.Api.Metrics;

public static class TwaBotMetricsExtensions
{
    /// <summary>Meters whose instruments are exported: ours, and the framework's for requests, connections, calls out and the runtime.</summary>
    internal static readonly string[] ExportedMeters =
        [TwaBotMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    /// <summary>
    /// The <c>TwaBot</c> meter, and its export with the framework's meters over OTLP when the standard
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>) is set; the exporter reads the
    /// other <c>OTEL_*</c> settings itself (protocol, headers, interval). Without an endpoint nothing is exported: an
    /// exporter would try localhost and log a failure at every interval.
    /// </summary>
    public static IServiceCollection AddTwaBotMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddTwaBotMetricsInstruments();
        if (IsOtlpExportConfigured(configuration))
        {
            services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "twabot"))
                .WithMetrics(metrics => metrics.AddMeter(ExportedMeters))
                .UseOtlpExporter();
            services.AddHostedService<OtlpExportAnnouncement>();
        }

        return services;
    }

    /// <summary>The instruments alone (and the meter factory they come from), for hosts that export nothing.</summary>
    public static IServiceCollection AddTwaBotMetricsInstruments(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<TwaBotMetrics>();
        return services;
    }

    internal static bool IsOtlpExportConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]);
}
