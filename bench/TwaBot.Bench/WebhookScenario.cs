using System.Text.Json;

namespace TwaBot.Bench;

/// <summary>The webhook receiver next to a bare POST, and what became of the posts it acknowledged.</summary>
/// <remarks><paramref name="Stored"/> counts the events the measured run added to the inbox (its warm-up included).</remarks>
public sealed record WebhookComparison(LoadResult Bare, LoadResult Receiver, long Stored, InboxCounts Inbox, TimeSpan? Drain)
{
    public const int Connections = 64;
    public const double MinRateRatio = 0.5;

    /// <summary>"Within seconds": the bench's reading of the drain target.</summary>
    public static readonly TimeSpan MaxDrain = TimeSpan.FromSeconds(10);

    public double RateRatio => Receiver.PerSecond / Bare.PerSecond;

    /// <summary>Acknowledged posts not in the inbox. Every body is unique, so each one must be stored once.</summary>
    public long Lost => Math.Max(0, Receiver.Acknowledged - Stored);

    public bool Passed => RateRatio >= MinRateRatio && Lost == 0 && Stored == Receiver.Acknowledged
        && Receiver.Failed == 0 && Bare.Failed == 0 && Drain is { } drain && drain <= MaxDrain && Inbox.WithError == 0;
}

/// <summary>
/// Issue 3 item 6: signed status webhooks at 64 connections next to a bare POST that only answers 200,
/// on a fresh server (the emulator's own status webhooks off), for statuses of messages it really sent.
/// </summary>
public static class WebhookScenario
{
    public const string BarePath = "/sandbox/v1/reference/ok";
    public const string WebhookPath = "/webhooks/meta";
    private const int MessagesToSend = 2000;

    public static async Task<WebhookComparison> RunAsync(string repositoryRoot, RunLength length, TextWriter progress)
    {
        await using var server = await ServerProcess.StartAsync(repositoryRoot, statusWebhooks: false);
        progress.WriteLine($"webhooks: server pid {server.ProcessId} at {server.Address}");
        var messages = await SendMessagesAsync(server, progress);
        var webhooks = new StatusWebhooks(await server.SandboxNumberAsync(), messages, server.AppSecret);
        var inbox = new InboxProbe(server.DatabasePath);

        var bareAddress = new Uri(server.Address, BarePath);
        var signedAddress = new Uri(server.Address, WebhookPath);
        await ServerWarmUp.RunAsync(server, inbox, length, progress,
            ("bare POST", () => webhooks.Create(bareAddress)), ("signed webhooks", () => webhooks.Create(signedAddress)));

        var bare = await LoadRun.RunAsync("bare POST", WebhookComparison.Connections, length, server.ProcessId, () => webhooks.Create(bareAddress));
        progress.WriteLine(Report.Line(bare));

        var before = await inbox.CountAsync();
        var signed = await LoadRun.RunAsync("signed webhooks", WebhookComparison.Connections, length, server.ProcessId, () => webhooks.Create(signedAddress));
        progress.WriteLine(Report.Line(signed));

        var drain = await inbox.WaitUntilAppliedAsync(TimeSpan.FromSeconds(300));
        var counts = await inbox.CountAsync();
        var stored = counts.Stored - before.Stored;
        progress.WriteLine($"  inbox: {stored} stored for {signed.Acknowledged} acknowledged, {counts.Unapplied} unapplied, " +
            $"{counts.WithError} with an error; drained {(drain is { } d ? $"{d.TotalSeconds:0.0} s" : "not within 300 s")} after the load stopped");
        return new WebhookComparison(bare, signed, stored, counts, drain);
    }

    /// <summary>Real sends first, so the statuses posted afterwards find their messages.</summary>
    internal static async Task<IReadOnlyList<SentMessage>> SendMessagesAsync(ServerProcess server, TextWriter progress)
    {
        using var client = server.CreateClient();
        var address = new Uri(server.Address, SendRequests.FullPath);
        var sent = new SentMessage[MessagesToSend];
        await Parallel.ForEachAsync(Enumerable.Range(0, MessagesToSend), new ParallelOptions { MaxDegreeOfParallelism = WebhookComparison.Connections },
            async (i, cancellationToken) =>
            {
                var phone = SendRequests.RandomPhone();
                using var request = SendRequests.Create(address, server.ApiKey, phone);
                using var response = await client.SendAsync(request, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"A set-up send failed with HTTP {(int)response.StatusCode}: {body}");
                }

                using var answer = JsonDocument.Parse(body);
                sent[i] = new SentMessage(answer.RootElement.GetProperty("message_id").GetString()!, phone);
            });
        progress.WriteLine($"  sent {MessagesToSend} messages to report statuses on");
        return sent;
    }
}
