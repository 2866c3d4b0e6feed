namespace TwaBot.Api.Metrics;

/// <summary>
/// The standard OTEL_* export settings, checked at start like ours: the OpenTelemetry exporter itself ignores an endpoint
/// that is not a URL (and sends to http://localhost:4317 instead) or a protocol it does not know (and uses grpc), telling
/// only its own diagnostics, while the start's line said the export went where the setting asked.
/// </summary>
internal static class OtlpSettingsCheck
{
    private static readonly string[] Signals = ["", "METRICS_", "TRACES_"];

    /// <summary>What is wrong with the OTLP endpoints and protocols, one line each; empty when they are sound or unset.</summary>
    internal static IEnumerable<string> Problems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        foreach (var signal in Signals)
        {
            var endpoint = $"OTEL_EXPORTER_OTLP_{signal}ENDPOINT";
            if (configuration[endpoint] is { } address && !string.IsNullOrWhiteSpace(address) && !IsHttpUrl(address))
            {
                // The value is not repeated: a URL may carry a backend's credentials, and this line reaches the log.
                problems.Add($"{endpoint} must be an http:// or https:// URL, such as http://otel-collector:4317.");
            }

            var protocol = $"OTEL_EXPORTER_OTLP_{signal}PROTOCOL";
            if (configuration[protocol] is { Length: > 0 } value && value is not ("grpc" or "http/protobuf"))
            {
                problems.Add($"{protocol} must be grpc or http/protobuf, as written (got '{value}').");
            }
        }

        return problems;
    }

    /// <summary>An absolute http or https URL: "otel-collector:4317" parses as a URL whose scheme is "otel-collector".</summary>
    private static bool IsHttpUrl(string address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
