using System.Diagnostics;

namespace TwaBot.Bench;

/// <summary>
/// How long a run warms up (connections open, caches settle) and how long it is measured; and how long
/// each freshly started server is loaded, unmeasured, on each of its paths first (<see cref="ServerWarmUp"/>).
/// </summary>
public sealed record RunLength(TimeSpan WarmUp, TimeSpan Measure, TimeSpan ServerWarmUp);

/// <summary>
/// What one load run saw. Rate and latencies come from the requests that completed inside the
/// measured window; failures and acknowledgements (2xx answers) count over the whole run, warm-up included.
/// </summary>
public sealed record LoadResult(
    string Name, int Connections, TimeSpan Measured, long Completed, double P50Ms, double P99Ms, long Acknowledged, long Failed, string? FirstFailure,
    CpuUsage? Cpu, IReadOnlyList<long> AcknowledgedPerSecond, IReadOnlyDictionary<string, long>? FailureKinds = null)
{
    public double PerSecond => Completed / Measured.TotalSeconds;
}

/// <summary>
/// A closed-loop load generator: N workers, each with one request in flight at a time, over one
/// shared client pooling N connections, so the server always has N requests to serve.
/// </summary>
public static class LoadRun
{
    public static async Task<LoadResult> RunAsync(string name, int connections, RunLength length, int serverPid, Func<HttpRequestMessage> nextRequest)
    {
        ArgumentNullException.ThrowIfNull(length);
        ArgumentNullException.ThrowIfNull(nextRequest);
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseCookies = false,
            UseProxy = false,
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };

        var start = Stopwatch.GetTimestamp();
        var window = new Window(start, start + Ticks(length.WarmUp), start + Ticks(length.WarmUp + length.Measure));
        var cpu = Task.Run(async () =>
        {
            await Task.Delay(length.WarmUp);
            var measuring = CpuUsage.Start(serverPid);
            await Task.Delay(length.Measure);
            return measuring();
        });
        var tallies = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(() => WorkAsync(client, window, nextRequest))));

        var latencies = tallies.SelectMany(t => t.Latencies).Order().ToArray();
        return new LoadResult(
            name, connections, length.Measure, latencies.Length, Percentile(latencies, 0.50), Percentile(latencies, 0.99),
            tallies.Sum(t => t.Acknowledged), tallies.Sum(t => t.Failed), tallies.Select(t => t.FirstFailure).FirstOrDefault(f => f is not null),
            await cpu,
            Enumerable.Range(0, tallies.Max(t => t.PerSecond.Count)).Select(second => tallies.Sum(t => t.PerSecond.ElementAtOrDefault(second))).ToArray(),
            tallies.SelectMany(t => t.FailureKinds).GroupBy(k => k.Key).ToDictionary(g => g.Key, g => g.Sum(k => k.Value)));
    }

    private static async Task<Tally> WorkAsync(HttpClient client, Window window, Func<HttpRequestMessage> nextRequest)
    {
        var tally = new Tally();
        while (true)
        {
            var began = Stopwatch.GetTimestamp();
            if (began >= window.Until)
            {
                return tally;
            }

            string? failure = null;
            string? kind = null;
            try
            {
                using var request = nextRequest();
                using var response = await client.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode)
                {
                    failure = $"HTTP {(int)response.StatusCode}: {(body.Length > 300 ? body[..300] : body)}";
                    kind = $"HTTP {(int)response.StatusCode}";
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException or IOException)
            {
                failure = $"{error.GetType().Name}: {error.Message}";
                kind = error.GetType().Name + ": " + (error.InnerException?.Message ?? error.Message);
            }

            var ended = Stopwatch.GetTimestamp();
            if (failure is not null)
            {
                tally.Failed++;
                tally.FirstFailure ??= failure;
                tally.FailureKinds[kind!] = tally.FailureKinds.GetValueOrDefault(kind!) + 1;
                continue;
            }

            tally.Acknowledged++;
            tally.CountSecond((int)Stopwatch.GetElapsedTime(window.Start, ended).TotalSeconds);
            if (ended >= window.From && ended < window.Until)
            {
                tally.Latencies.Add(Stopwatch.GetElapsedTime(began, ended).TotalMilliseconds);
            }
        }
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double fraction) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Length) - 1)];

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private sealed record Window(long Start, long From, long Until);

    /// <summary>One worker's counts: no sharing between workers while the load runs.</summary>
    private sealed class Tally
    {
        public List<double> Latencies { get; } = new(capacity: 4096);

        public long Acknowledged { get; set; }

        public long Failed { get; set; }

        public string? FirstFailure { get; set; }

        /// <summary>Failures by HTTP status or exception: under overload a 503, a timeout and a reset mean different things.</summary>
        public Dictionary<string, long> FailureKinds { get; } = [];

        /// <summary>Acknowledgements in each second since the run began: shows stalls that an average hides.</summary>
        public List<long> PerSecond { get; } = [];

        public void CountSecond(int second)
        {
            while (PerSecond.Count <= second)
            {
                PerSecond.Add(0);
            }

            PerSecond[second]++;
        }
    }
}
