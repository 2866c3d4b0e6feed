using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;
using TwaBot.Api.Metrics;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// The webhook backlog as gauges on the <c>TwaBot</c> meter (docs/operations.md, Metrics): deliveries acknowledged
/// to Meta and still waiting in the inbox file, and stored events not applied (waiting for a retry, or given up
/// after their last attempt). Counted when a metrics reader asks (at each export, or each refresh of
/// dotnet-counters), so nothing on the webhook path keeps them up to date.
/// </summary>
public sealed class WebhookBacklog : IHostedService
{
    public WebhookBacklog(IMeterFactory meters, WebhookInboxFile inbox, SqliteConnections database)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(inbox);
        var meter = meters.Create(TwaBotMetrics.MeterName);
        meter.CreateObservableGauge("twabot.webhooks.waiting", () => Count(inbox.Connections, "SELECT count(*) FROM webhook_inbox"),
            "{delivery}", "Webhook deliveries acknowledged to Meta and not yet moved into the database");
        meter.CreateObservableGauge("twabot.webhooks.unapplied", () => Count(database, "SELECT count(*) FROM webhook_events WHERE applied_at IS NULL"),
            "{delivery}", "Stored webhook deliveries not applied: waiting for a retry, or given up after their last attempt (logged)");
    }

    /// <summary>The count, or no measurement when the file cannot be read at the moment.</summary>
    internal static IEnumerable<Measurement<long>> Count(SqliteConnections connections, string sql)
    {
        try
        {
            using var connection = new SqliteConnection(connections.ConnectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return [new Measurement<long>((long)command.ExecuteScalar()!)];
        }
        catch (SqliteException)
        {
            return [];
        }
    }

    // A hosted service only so that the gauges exist from the start, before anything else asks for this.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
