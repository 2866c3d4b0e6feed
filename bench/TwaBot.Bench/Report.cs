using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace TwaBot.Bench;

/// <summary>Progress lines while the bench runs, and the markdown table for docs/performance.md at the end.</summary>
public static class Report
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Line(LoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var line = string.Create(Invariant,
            $"  {result.Name,-16} {result.Connections,4} connections: {result.PerSecond,8:0} req/s  p50 {result.P50Ms,7:0.0} ms  p99 {result.P99Ms,7:0.0} ms  failed {result.Failed}  cpu cores: {result.Cpu?.ToString() ?? "n/a"}");
        line += $"\n    acknowledged per second (warm-up first): {string.Join(' ', result.AcknowledgedPerSecond)}";
        return result.FirstFailure is { } first ? $"{line}\n    first failure: {first}" : line;
    }

    public static string Markdown(IReadOnlyList<SendComparison>? sends, WebhookComparison? webhooks, RunLength length)
    {
        ArgumentNullException.ThrowIfNull(length);
        var text = new StringBuilder();
        text.AppendLine(Invariant, $"Run of {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({CpuModel()}), " +
            $"{RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; load generator and server on the same machine; " +
            $"each server first loaded {length.ServerWarmUp.TotalSeconds:0} s per path unmeasured, then {length.WarmUp.TotalSeconds:0} s warm-up and " +
            $"{length.Measure.TotalSeconds:0} s measured per row; emulated Meta answers in {ServerProcess.GraphLatencyMilliseconds} ms.");
        if (sends is not null)
        {
            AppendSends(text, sends);
        }

        if (webhooks is not null)
        {
            AppendWebhooks(text, webhooks);
        }

        return text.ToString();
    }

    /// <summary>Each ratio's lowest, median and highest value over repeated runs, and how many runs passed.</summary>
    public static string Spread(IReadOnlyList<IReadOnlyList<SendComparison>> sendRuns, IReadOnlyList<WebhookComparison> webhookRuns)
    {
        ArgumentNullException.ThrowIfNull(sendRuns);
        ArgumentNullException.ThrowIfNull(webhookRuns);
        var text = new StringBuilder();
        if (sendRuns.Count > 0)
        {
            text.AppendLine("| status webhooks | connections | full / reference sends/s (min / median / max) | full / reference p99 (min / median / max) | runs passed |");
            text.AppendLine("|---|---:|---|---|---:|");
            foreach (var row in sendRuns.SelectMany(run => run).GroupBy(c => (c.StatusWebhooks, c.Connections)))
            {
                var passed = row.First().HasTarget ? string.Create(Invariant, $"{row.Count(c => c.Passed)} of {row.Count()}") : "no target";
                text.AppendLine(Invariant,
                    $"| {OnOff(row.Key.StatusWebhooks)} | {row.Key.Connections} | {MinMedianMax(row.Select(c => c.RateRatio))} | {MinMedianMax(row.Select(c => c.P99Ratio))} | {passed} |");
            }
        }

        if (webhookRuns.Count > 0)
        {
            text.AppendLine().AppendLine("| signed / bare rate (min / median / max) | bare POST requests/s (min / median / max) | longest drain | runs passed |");
            text.AppendLine("|---|---|---:|---:|");
            var longestDrain = webhookRuns.Any(w => w.Drain is null) ? "not drained"
                : string.Create(Invariant, $"{webhookRuns.Max(w => w.Drain!.Value.TotalSeconds):0.0} s");
            text.AppendLine(Invariant,
                $"| {MinMedianMax(webhookRuns.Select(w => w.RateRatio))} | {MinMedianMax(webhookRuns.Select(w => w.Bare.PerSecond), "0")} | {longestDrain} | {webhookRuns.Count(w => w.Passed)} of {webhookRuns.Count} |");
        }

        return text.ToString();
    }

    private static string MinMedianMax(IEnumerable<double> values, string format = "0.00")
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        return string.Join(" / ", new[] { sorted[0], median, sorted[^1] }.Select(v => v.ToString(format, Invariant)));
    }

    private static void AppendSends(StringBuilder text, IReadOnlyList<SendComparison> sends)
    {
        text.AppendLine().AppendLine("**Send path** (issue 4 item 9)").AppendLine();
        text.AppendLine("| status webhooks | connections | path | sends/s | p50 ms | p99 ms | failed | CPU cores: server / bench / other / idle |");
        text.AppendLine("|---|---:|---|---:|---:|---:|---:|---|");
        foreach (var comparison in sends)
        {
            foreach (var run in new[] { comparison.Reference, comparison.Full })
            {
                text.AppendLine(Invariant,
                    $"| {OnOff(comparison.StatusWebhooks)} | {run.Connections} | {run.Name} | {run.PerSecond:0} | {run.P50Ms:0.0} | {run.P99Ms:0.0} | {run.Failed} | {Cpu(run)} |");
            }
        }

        text.AppendLine().AppendLine(Invariant,
            $"| status webhooks | connections | full / reference sends/s | full / reference p99 | target (≥ {SendComparison.MinRateRatio}, ≤ {SendComparison.MaxP99Ratio}, no failure) |");
        text.AppendLine("|---|---:|---:|---:|---|");
        foreach (var comparison in sends)
        {
            var verdict = comparison.HasTarget ? (comparison.Passed ? "PASS" : "FAIL") : "no target at this count";
            text.AppendLine(Invariant,
                $"| {OnOff(comparison.StatusWebhooks)} | {comparison.Connections} | {comparison.RateRatio:0.00} | {comparison.P99Ratio:0.00} | {verdict} |");
        }
    }

    private static void AppendWebhooks(StringBuilder text, WebhookComparison webhooks)
    {
        text.AppendLine().AppendLine("**Webhook receiver** (issue 3 item 6)").AppendLine();
        text.AppendLine("| path | connections | requests/s | p50 ms | p99 ms | failed | CPU cores: server / bench / other / idle |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var run in new[] { webhooks.Bare, webhooks.Receiver })
        {
            text.AppendLine(Invariant, $"| {run.Name} | {run.Connections} | {run.PerSecond:0} | {run.P50Ms:0.0} | {run.P99Ms:0.0} | {run.Failed} | {Cpu(run)} |");
        }

        var drain = webhooks.Drain is { } d ? string.Create(Invariant, $"{d.TotalSeconds:0.0} s") : "not drained";
        text.AppendLine().AppendLine(Invariant,
            $"| signed / bare rate | acknowledged | stored | lost | applied with an error | drain after the load | target (≥ {WebhookComparison.MinRateRatio}, none lost, drain ≤ {WebhookComparison.MaxDrain.TotalSeconds:0} s) |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---|");
        text.AppendLine(Invariant,
            $"| {webhooks.RateRatio:0.00} | {webhooks.Receiver.Acknowledged} | {webhooks.Stored} | {webhooks.Lost} | {webhooks.Inbox.WithError} | {drain} | {(webhooks.Passed ? "PASS" : "FAIL")} |");
    }

    private static string OnOff(bool on) => on ? "on" : "off";

    private static string Cpu(LoadResult run) => run.Cpu is { } cpu
        ? string.Create(Invariant, $"{cpu.Server:0.00} / {cpu.Bench:0.00} / {cpu.Other:0.00} / {cpu.Idle:0.00}")
        : "n/a";

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
