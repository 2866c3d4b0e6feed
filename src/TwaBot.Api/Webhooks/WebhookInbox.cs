using System.Threading.Channels;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// The durable inbox: verified webhook bodies are group-committed to <see cref="WebhookInboxFile"/>
/// before Meta gets its 200. The inbox has a file of its own, so the disk sync that each
/// 200 waits for covers a few small pages and never waits behind the main database's writers. The
/// <see cref="WebhookProcessor"/> moves what it stores into <c>webhook_events</c> and applies it.
/// <para>
/// It is the file's only writer: it also forgets what the processor has moved, in the same commits as
/// the new deliveries, so forgetting costs no disk sync of its own and never holds up a 200.
/// </para>
/// </summary>
public sealed class WebhookInbox(WebhookInboxFile file, ILogger<WebhookInbox> logger)
    : GroupCommitWriter<InboxRow>(file.Connections, gate: null, logger)
{
    private readonly Channel<bool> _arrivals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _forgetThrough; // the ids the processor has moved, and so asked to forget
    private long _forgotten;     // writer thread only: committed as forgotten
    private long _forgetting;    // writer thread only: deleted in the batch being committed

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await file.EnsureCreatedAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    /// <summary>Completes when deliveries have been committed since the last call returned.</summary>
    public ValueTask<bool> WaitForArrivalsAsync(CancellationToken cancellationToken) => _arrivals.Reader.ReadAsync(cancellationToken);

    /// <summary>
    /// Forgets the deliveries up to <paramref name="throughId"/>, which the main database now holds
    /// durably, with the next commit; the task completes once that commit is done.
    /// </summary>
    public Task ForgetThroughAsync(long throughId)
    {
        long seen;
        while ((seen = Volatile.Read(ref _forgetThrough)) < throughId
            && Interlocked.CompareExchange(ref _forgetThrough, throughId, seen) != seen)
        {
        }

        return CommitAsync();
    }

    protected override async Task WriteBatchAsync(PreparedCommands commands, IReadOnlyList<InboxRow> rows, CancellationToken cancellationToken)
    {
        _forgetting = Volatile.Read(ref _forgetThrough);
        if (_forgetting > _forgotten)
        {
            await commands.Bind("DELETE FROM webhook_inbox WHERE id <= $through", ("$through", _forgetting))
                .ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var row in rows)
        {
            await commands.Bind(
                "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ($received_at, $body_sha256, $body)",
                ("$received_at", PreparedCommands.Text(row.ReceivedAt)), ("$body_sha256", row.BodySha256), ("$body", row.Body))
                .ExecuteNonQueryAsync(cancellationToken);
        }
    }

    protected override void OnCommitted(IReadOnlyList<InboxRow> rows)
    {
        _forgotten = Math.Max(_forgotten, _forgetting);
        if (rows.Count > 0)
        {
            _arrivals.Writer.TryWrite(true);
        }
    }
}

/// <summary>A verified delivery: its bytes exactly as received, their SHA-256, and when it arrived.</summary>
public sealed record InboxRow(byte[] Body, byte[] BodySha256, DateTime ReceivedAt);
