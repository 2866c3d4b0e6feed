using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TwaBot.Bench;

/// <summary>
/// The overload drill (docs/operations.md, Overload): on one server with status webhooks on, the sustainable rate at
/// 64 connections, then (a) 1,000 connections of sends, (b) 500 of signed status webhooks, (c) both at once. A sampler
/// writes the server's memory, threads, open files, webhook backlog and the latency of <c>/healthz</c> and an admin GET
/// every second to a file. After each phase: how long until a single send is back to normal, and whether every
/// acknowledged send and webhook is in the database.
/// </summary>
public static class OverloadScenario
{
    private const int SendConnections = 1000;
    private const int WebhookConnections = 500;
    private const int SingleSendsAtRest = 20;
    private static readonly TimeSpan RecoveryLimit = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string repositoryRoot, TimeSpan phaseLength, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        await using var server = await ServerProcess.StartAsync(repositoryRoot, statusWebhooks: true);
        progress.WriteLine($"overload: server pid {server.ProcessId} at {server.Address}");
        var inbox = new InboxProbe(server.DatabasePath);
        var sendAddress = new Uri(server.Address, SendRequests.FullPath);
        HttpRequestMessage Send() => SendRequests.Create(sendAddress, server.ApiKey);

        var samples = Path.Combine(Path.GetTempPath(), $"twabot-overload-{server.ProcessId}.tsv");
        progress.WriteLine($"  samples every second in {samples}");
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(() => SampleAsync(server, inbox, samples, stopSampling.Token));

        await ServerWarmUp.RunAsync(server, inbox, new RunLength(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(10)), progress, ("sends", Send));
        var webhooks = new StatusWebhooks(await server.SandboxNumberAsync(), await WebhookScenario.SendMessagesAsync(server, progress), server.AppSecret);
        var webhookAddress = new Uri(server.Address, WebhookScenario.WebhookPath);
        HttpRequestMessage Webhook() => webhooks.Create(webhookAddress);
        await inbox.SettleAsync(progress);

        var sustainable = await LoadRun.RunAsync("sends (sustainable)", 64, new RunLength(TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(15), TimeSpan.Zero), server.ProcessId, Send);
        Print(progress, sustainable);
        await inbox.SettleAsync(progress);
        using var probe = server.CreateClient();
        var atRest = new List<double>();
        for (var i = 0; i < SingleSendsAtRest; i++)
        {
            atRest.Add(await TimeSendAsync(probe, Send));
        }

        var normal = atRest.Order().ElementAt(SingleSendsAtRest / 2);
        progress.WriteLine($"  a single send at rest: median {normal:0.0} ms");

        var length = new RunLength(TimeSpan.Zero, phaseLength, TimeSpan.Zero);
        foreach (var (phase, sends, posts) in new[] { ("a", true, false), ("b", false, true), ("c", true, true) })
        {
            var rowsBefore = await CountAsync(server, "SELECT count(*) FROM messages");
            var storedBefore = (await inbox.CountAsync()).Stored;
            progress.WriteLine($"===== phase {phase} from {DateTime.UtcNow:HH:mm:ss} UTC");
            var sendRun = sends ? LoadRun.RunAsync($"sends x{SendConnections}", SendConnections, length, server.ProcessId, Send) : null;
            var webhookRun = posts ? LoadRun.RunAsync($"webhooks x{WebhookConnections}", WebhookConnections, length, server.ProcessId, Webhook) : null;
            var sendResult = sendRun is null ? null : await sendRun;
            var webhookResult = webhookRun is null ? null : await webhookRun;
            progress.WriteLine($"===== phase {phase} load ended {DateTime.UtcNow:HH:mm:ss} UTC");
            Print(progress, sendResult);
            Print(progress, webhookResult);

            progress.WriteLine($"  a single send back within twice its median at rest after {await RecoveryAsync(probe, Send, normal, progress)}");
            var drain = await inbox.WaitUntilAppliedAsync(TimeSpan.FromSeconds(300));
            progress.WriteLine($"  webhook backlog applied {(drain is { } d ? $"{d.TotalSeconds:0.0} s" : "NOT within 300 s")} after that");
            await inbox.SettleAsync(progress);
            var rowsAdded = await CountAsync(server, "SELECT count(*) FROM messages") - rowsBefore;
            var counts = await inbox.CountAsync();
            progress.WriteLine($"  messages rows added: {rowsAdded} (the single sends included) for {sendResult?.Acknowledged ?? 0} acknowledged sends; " +
                $"still pending: {await CountAsync(server, "SELECT count(*) FROM messages WHERE api_status = 'pending'")}");
            progress.WriteLine($"  webhook deliveries stored: {counts.Stored - storedBefore} (the emulator's own included) for {webhookResult?.Acknowledged ?? 0} acknowledged; " +
                $"unapplied {counts.Unapplied}, with an error {counts.WithError}");
        }

        await stopSampling.CancelAsync();
        await sampler;
        return 0;
    }

    private static void Print(TextWriter progress, LoadResult? result)
    {
        if (result is null)
        {
            return;
        }

        progress.WriteLine(Report.Line(result));
        progress.WriteLine($"  {result.Name}: acknowledged {result.Acknowledged}, failed {result.Failed}");
        foreach (var (kind, count) in result.FailureKinds ?? new Dictionary<string, long>())
        {
            progress.WriteLine($"    {count} x {kind}");
        }
    }

    /// <summary>Milliseconds for one send, or infinity when it was not accepted.</summary>
    private static async Task<double> TimeSendAsync(HttpClient client, Func<HttpRequestMessage> send)
    {
        var began = Stopwatch.GetTimestamp();
        using var request = send();
        using var response = await client.SendAsync(request);
        await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? Stopwatch.GetElapsedTime(began).TotalMilliseconds : double.PositiveInfinity;
    }

    /// <summary>Single sends, one after another, until three in a row take at most twice the median at rest.</summary>
    private static async Task<string> RecoveryAsync(HttpClient client, Func<HttpRequestMessage> send, double normal, TextWriter progress)
    {
        var since = Stopwatch.StartNew();
        var inARow = 0;
        var seen = new List<string>();
        while (since.Elapsed < RecoveryLimit)
        {
            var took = await TimeSendAsync(client, send);
            seen.Add(double.IsInfinity(took) ? "refused" : took.ToString("0", CultureInfo.InvariantCulture));
            inARow = took <= 2 * normal ? inARow + 1 : 0;
            if (inARow == 3)
            {
                progress.WriteLine($"  single sends after the load (ms): {string.Join(' ', seen)}");
                return $"{since.Elapsed.TotalSeconds:0.0} s";
            }

            await Task.Delay(100);
        }

        progress.WriteLine($"  single sends after the load (ms): {string.Join(' ', seen)}");
        return $"NOT within {RecoveryLimit.TotalSeconds:0} s";
    }

    private static async Task<long> CountAsync(ServerProcess server, string sql)
    {
        var readOnly = new SqliteConnectionStringBuilder { DataSource = server.DatabasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 30 };
        await using var connection = new SqliteConnection(readOnly.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task SampleAsync(ServerProcess server, InboxProbe inbox, string file, CancellationToken stop)
    {
        // Clients of their own: the load's pools are full, and an operator's probe comes on a connection of its own too.
        using var health = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(10) };
        using var admin = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(10) };
        admin.DefaultRequestHeaders.Add("X-Admin-Key", server.AdminKey);
        await using var output = new StreamWriter(file) { AutoFlush = true };
        await output.WriteLineAsync("utc\trss_mb\tthreads\topen_files\thealthz_ms\tadmin_get_ms\twebhooks_unapplied");
        while (!stop.IsCancellationRequested)
        {
            var nextSecond = Task.Delay(1000, CancellationToken.None);
            var status = await File.ReadAllLinesAsync($"/proc/{server.ProcessId}/status", CancellationToken.None);
            string Field(string name) => status.First(l => l.StartsWith(name + ":", StringComparison.Ordinal)).Split(':')[1].Trim().Split(' ')[0];
            var openFiles = Directory.GetFiles($"/proc/{server.ProcessId}/fd").Length;
            var healthz = TimeGetAsync(health, "/healthz");
            var adminGet = TimeGetAsync(admin, "/admin/v1/businesses/1");
            var unapplied = (await inbox.CountAsync()).Unapplied;
            var rssMegabytes = long.Parse(Field("VmRSS"), CultureInfo.InvariantCulture) / 1024;
            await output.WriteLineAsync(string.Join('\t', $"{DateTime.UtcNow:HH:mm:ss}", rssMegabytes, Field("Threads"), openFiles, await healthz, await adminGet, unapplied));
            await nextSecond;
        }
    }

    /// <summary>Milliseconds, with the status when it is not 200 or the exception when there was no answer.</summary>
    private static async Task<string> TimeGetAsync(HttpClient client, string path)
    {
        var began = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            await response.Content.ReadAsStringAsync();
            var took = Stopwatch.GetElapsedTime(began).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);
            return response.StatusCode == System.Net.HttpStatusCode.OK ? took : $"{took}/{(int)response.StatusCode}";
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return $"{Stopwatch.GetElapsedTime(began).TotalMilliseconds:0}/{error.GetType().Name}";
        }
    }
}
