using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// The durable inbox: verified webhook bodies are group-committed to <see cref="WebhookInboxFile"/>
/// before Meta gets its 200. The inbox only appends, in a file of its own, so the disk sync that each
/// 200 waits for covers a few small pages and never waits behind the main database's writers. The
/// <see cref="WebhookProcessor"/> moves what it stores into <c>webhook_events</c> and applies it.
/// </summary>
public sealed class WebhookInbox(WebhookInboxFile file, WebhookProcessor processor, ILogger<WebhookInbox> logger)
    : GroupCommitWriter<InboxRow>(file.Connections, file.Gate, logger)
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await file.EnsureCreatedAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task WriteBatchAsync(PreparedCommands commands, IReadOnlyList<InboxRow> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            await commands.Bind(
                "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ($received_at, $body_sha256, $body)",
                ("$received_at", PreparedCommands.Text(row.ReceivedAt)), ("$body_sha256", row.BodySha256), ("$body", row.Body))
                .ExecuteNonQueryAsync(cancellationToken);
        }
    }

    protected override void OnCommitted(IReadOnlyList<InboxRow> rows) => processor.Wake();
}

/// <summary>A verified delivery: its bytes exactly as received, their SHA-256, and when it arrived.</summary>
public sealed record InboxRow(byte[] Body, byte[] BodySha256, DateTime ReceivedAt);
