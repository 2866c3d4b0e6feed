using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TwaBot.Api.Metrics;

/// <summary>
/// The server's own instruments, on the <c>TwaBot</c> meter: what became of each send and of each call to Meta, the
/// WhatsApp numbers whose calls are paused, and the database's passing faults.
/// Read them with <c>dotnet-counters monitor --counters TwaBot</c>, or export them (<see cref="TwaBotMetricsExtensions"/>).
/// Tag values come from small fixed sets (endpoints, error codes, outcomes), never from callers' data.
/// </summary>
public sealed class TwaBotMetrics
{
    public const string MeterName = "TwaBot";

    private readonly Counter<long> _sends;
    private readonly Counter<long> _metaCalls;
    private readonly Counter<long> _storageFaults;

    // The numbers whose circuit breaker is open or half-open: counted, never exported by number (one series per business).
    private readonly ConcurrentDictionary<string, byte> _openBreakers = new(StringComparer.Ordinal);

    public TwaBotMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _sends = meter.CreateCounter<long>("twabot.sends", "{send}",
            "Send requests answered by the send pipeline, by endpoint and result (accepted, replayed, or the error_code answered)");
        _metaCalls = meter.CreateCounter<long>("twabot.meta.calls", "{call}",
            "Calls to Meta's Graph API, by operation and outcome (ok, rejected, unavailable, circuit_open), with Meta's error code when it gave one");
        _storageFaults = meter.CreateCounter<long>("twabot.storage.faults", "{fault}",
            "Database operations that failed because the database could not be written at the moment (locked, read-only, full, I/O error), by source");
        meter.CreateObservableGauge("twabot.meta.breakers.open", () => (long)_openBreakers.Count, "{number}",
            "WhatsApp numbers whose calls to Meta are paused by their circuit breaker (open, or half-open until a call succeeds)");
    }

    /// <summary>A storage fault, from <c>request</c> (answered 503 STORAGE_UNAVAILABLE) or the <c>webhooks</c> processor.</summary>
    public void StorageFault(string source) => _storageFaults.Add(1, new KeyValuePair<string, object?>("twabot.storage.source", source));

    public void BreakerOpened(string number) => _openBreakers.TryAdd(number, 0);

    public void BreakerClosed(string number) => _openBreakers.TryRemove(number, out _);

    /// <summary>A send answered: <paramref name="result"/> is <c>accepted</c>, <c>replayed</c> or the answer's error_code.</summary>
    public void SendAnswered(string endpoint, string result) =>
        _sends.Add(1, new KeyValuePair<string, object?>("twabot.endpoint", endpoint), new KeyValuePair<string, object?>("twabot.result", result));

    public void MetaCalled(string operation, string outcome, int? metaErrorCode)
    {
        var tags = new TagList { { "twabot.meta.operation", operation }, { "twabot.meta.outcome", outcome } };
        if (metaErrorCode is { } code)
        {
            tags.Add("twabot.meta.error_code", code);
        }

        _metaCalls.Add(1, tags);
    }
}
