using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;
using TwaBot.Api.Metrics;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// The webhook backlog as gauges on the <c>TwaBot</c> meter (docs/operations.md, Metrics): deliveries acknowledged
/// to Meta and still waiting in the inbox file, stored events not applied (waiting for a retry, or given up
/// after their last attempt), and the age of the oldest delivery still to be applied. Counted when a metrics reader
/// asks (at each export, or each refresh of dotnet-counters), so nothing on the webhook path keeps them up to date.
/// </summary>
public sealed class WebhookBacklog : IHostedService
{
    public WebhookBacklog(IMeterFactory meters, WebhookInboxFile inbox, SqliteConnections database, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(inbox);
        ArgumentNullException.ThrowIfNull(time);
        var meter = meters.Create(TwaBotMetrics.MeterName);
        meter.CreateObservableGauge("twabot.webhooks.waiting", () => Count(inbox.Connections, InboxWaitingSql),
            "{delivery}", "Webhook deliveries acknowledged to Meta and not yet moved into the database");
        meter.CreateObservableGauge("twabot.webhooks.unapplied", () => Count(database, "SELECT count(*) FROM webhook_events WHERE applied_at IS NULL"),
            "{delivery}", "Stored webhook deliveries not applied: waiting for a retry, or given up after their last attempt (logged)");
        // Given-up events are left out: they wait for a restart, and would keep an alert on lag firing for good.
        meter.CreateObservableGauge("twabot.webhooks.lag", () => Lag(time,
                Oldest(inbox.Connections, InboxOldestSql),
                Oldest(database, $"SELECT min(received_at) FROM webhook_events WHERE applied_at IS NULL AND attempts < {WebhookProcessor.MaxAttempts}")),
            "s", "Age of the oldest webhook delivery acknowledged to Meta and still to be applied (waiting or to be retried); 0 when none");
    }

    // The inbox's deliveries have consecutive ids (its one writer inserts them in whole transactions, and AUTOINCREMENT
    // never reuses one) and leave it from the first (DELETE … WHERE id <= the last one moved), so the first and last ids
    // count them, and the first is the oldest. count(*) and min(received_at) read every row, bodies included: with
    // 360,000 deliveries waiting (a redelivery after an outage), 0.3-0.5 s each, at every export or dotnet-counters
    // refresh, while the processor works through them; these read two rows (docs/performance.md, The backlog gauges).
    internal const string InboxWaitingSql =
        "SELECT coalesce((SELECT max(id) FROM webhook_inbox) - (SELECT min(id) FROM webhook_inbox) + 1, 0)";

    internal const string InboxOldestSql = "SELECT received_at FROM webhook_inbox WHERE id = (SELECT min(id) FROM webhook_inbox)";

    /// <summary>The count, or no measurement when the file cannot be read at the moment.</summary>
    internal static IEnumerable<Measurement<long>> Count(SqliteConnections connections, string sql)
    {
        try
        {
            return [new Measurement<long>((long)Scalar(connections, sql)!)];
        }
        catch (SqliteException)
        {
            return [];
        }
    }

    /// <summary>Seconds since the older of two receipt times, 0 when neither; no measurement when a file cannot be read.</summary>
    private static IEnumerable<Measurement<double>> Lag(TimeProvider time, DateTime? inbox, DateTime? stored)
    {
        if (inbox == DateTime.MaxValue || stored == DateTime.MaxValue)
        {
            return [];
        }

        var oldest = inbox is { } a && stored is { } b ? (a < b ? a : b) : inbox ?? stored;
        return [new Measurement<double>(oldest is { } since ? Math.Max(0, (time.GetUtcNow().UtcDateTime - since).TotalSeconds) : 0)];
    }

    /// <summary>The oldest receipt time, null when none, <see cref="DateTime.MaxValue"/> when it cannot be read (a gauge's callback must not throw).</summary>
    private static DateTime? Oldest(SqliteConnections connections, string sql)
    {
        try
        {
            return Scalar(connections, sql) switch
            {
                string text => DateTime.TryParseExact(text, PreparedCommands.DateTimeFormat, CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at) ? at : DateTime.MaxValue,
                _ => null,
            };
        }
        catch (SqliteException)
        {
            return DateTime.MaxValue;
        }
    }

    private static object? Scalar(SqliteConnections connections, string sql)
    {
        // Never creating the file: a reader's visit would put an empty database in the place of one deleted, and
        // /healthz, which reports it missing, would turn healthy.
        using var connection = new SqliteConnection(
            new SqliteConnectionStringBuilder(connections.ConnectionString) { Mode = SqliteOpenMode.ReadWrite }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    // A hosted service only so that the gauges exist from the start, before anything else asks for this.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
