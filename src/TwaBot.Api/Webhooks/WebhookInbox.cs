using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// The durable inbox: verified webhook bodies are group-committed here before Meta gets its 200;
/// a body already stored (same SHA-256: a redelivery or a replay) is skipped.
/// </summary>
public sealed class WebhookInbox(SqliteConnections connections, SqliteWriteGate gate, WebhookProcessor processor, ILogger<WebhookInbox> logger)
    : GroupCommitWriter<InboxRow>(connections, gate, logger)
{
    protected override async Task WriteBatchAsync(
        SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<InboxRow> rows, CancellationToken cancellationToken)
    {
        await using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO webhook_events (received_at, body_sha256, body, attempts)
            VALUES ($received_at, $body_sha256, $body, 0)
            ON CONFLICT (body_sha256) DO NOTHING;
            """;
        var receivedAt = insert.Parameters.Add("$received_at", SqliteType.Text);
        var hash = insert.Parameters.Add("$body_sha256", SqliteType.Blob);
        var body = insert.Parameters.Add("$body", SqliteType.Blob);
        foreach (var row in rows)
        {
            receivedAt.Value = PreparedCommands.Text(row.ReceivedAt);
            hash.Value = row.BodySha256;
            body.Value = row.Body;
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    protected override void OnCommitted(IReadOnlyList<InboxRow> rows) => processor.Wake();
}

public sealed record InboxRow(byte[] Body, byte[] BodySha256, DateTime ReceivedAt);
