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

    // The numbers whose circuit breaker is open, each with the end of its pause (a Stopwatch timestamp, the real clock the
    // breaker keeps): counted, never exported by number (one series per business). Polly turns a breaker half-open only at
    // the next call, so a number nobody sends from would otherwise be counted as paused for ever.
    private readonly ConcurrentDictionary<string, long> _openBreakers = new(StringComparer.Ordinal);

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
        meter.CreateObservableGauge("twabot.meta.breakers.open", CountOpenBreakers, "{number}",
            "WhatsApp numbers whose calls to Meta are paused by their circuit breaker (open, until its pause ends)");
    }

    /// <summary>A storage fault, from <c>request</c> (answered 503 STORAGE_UNAVAILABLE) or the <c>webhooks</c> processor.</summary>
    public void StorageFault(string source) => _storageFaults.Add(1, new KeyValuePair<string, object?>("twabot.storage.source", source));

    /// <summary>The number's breaker opened, pausing its calls for <paramref name="pause"/>.</summary>
    public void BreakerOpened(string number, TimeSpan pause) =>
        _openBreakers[number] = Stopwatch.GetTimestamp() + (long)Math.Min(pause.TotalSeconds * Stopwatch.Frequency, long.MaxValue / 2);

    /// <summary>The number's breaker closed: its pause is over (the gauge also stops counting it when the pause's time is up).</summary>
    public void BreakerPauseEnded(string number) => _openBreakers.TryRemove(number, out _);

    /// <summary>The breakers whose pause has not ended; those past it are forgotten (unless reopened meanwhile).</summary>
    private long CountOpenBreakers()
    {
        var now = Stopwatch.GetTimestamp();
        long open = 0;
        foreach (var breaker in _openBreakers)
        {
            if (breaker.Value > now)
            {
                open++;
            }
            else
            {
                _openBreakers.TryRemove(breaker); // only this pause's entry: a breaker reopened since keeps its new one
            }
        }

        return open;
    }

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
