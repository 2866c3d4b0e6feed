using TwaBot.Api.Data;

namespace TwaBot.Api.Messages;

/// <summary>
/// The send path's writes to <c>messages</c>, group-committed: a send's row (before Meta is called)
/// and its outcome (before the client gets its answer) each wait for their commit, but concurrent
/// sends share one transaction and one disk sync instead of paying one each.
/// </summary>
public sealed class MessageLog(SqliteConnections connections, SqliteWriteGate gate, ILogger<MessageLog> logger)
    : GroupCommitWriter<MessageWrite>(connections, gate, logger)
{
    private static readonly int SentRank = DeliveryStatuses.Rank(DeliveryStatuses.Sent);

    /// <summary>Writes the new row and sets its <see cref="Message.Id"/>.</summary>
    public Task InsertAsync(Message message) => WriteAsync(new MessageWrite.Insert(message));

    protected override async Task WriteBatchAsync(PreparedCommands commands, IReadOnlyList<MessageWrite> rows, CancellationToken cancellationToken)
    {
        foreach (var row in rows)
        {
            switch (row)
            {
                case MessageWrite.Insert { Message: var m }:
                    m.Id = (long)(await commands.Bind(InsertSql,
                        ("$business_id", m.BusinessId), ("$api_key_id", m.ApiKeyId), ("$reference", m.Reference), ("$to", m.To), ("$kind", m.Kind),
                        ("$template_name", m.TemplateName), ("$api_status", m.ApiStatus), ("$quota_day", PreparedCommands.Text(m.QuotaDay)),
                        ("$created_at", PreparedCommands.Text(m.CreatedAt)), ("$updated_at", PreparedCommands.Text(m.UpdatedAt)),
                        ("$idempotency_key", m.IdempotencyKey), ("$protected_idempotency_request_sha256", m.ProtectedIdempotencyRequestSha256))
                        .ExecuteScalarAsync(cancellationToken))!;
                    break;
                case MessageWrite.Accepted a:
                    await commands.Bind(AcceptedSql, ("$id", a.Id), ("$wamid", a.Wamid), ("$at", PreparedCommands.Text(a.At)), ("$sent_rank", SentRank))
                        .ExecuteNonQueryAsync(cancellationToken);
                    if (a.OtherWaId is { } waId)
                    {
                        await commands.Bind(RecipientWaIdSql, ("$id", a.Id), ("$wa_id", waId), ("$at", PreparedCommands.Text(a.At)))
                            .ExecuteNonQueryAsync(cancellationToken);
                    }
                    else if (a.NumberIsItsOwnWaId)
                    {
                        await commands.Bind(NoRecipientWaIdSql, ("$id", a.Id)).ExecuteNonQueryAsync(cancellationToken);
                    }

                    break;
                case MessageWrite.Failed f:
                    await commands.Bind(FailedSql, ("$id", f.Id), ("$api_status", f.ApiStatus), ("$failure_code", f.FailureCode),
                            ("$failure_reason", f.Reason), ("$at", PreparedCommands.Text(f.At)))
                        .ExecuteNonQueryAsync(cancellationToken);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown write {row.GetType().Name}.");
            }
        }
    }

    private const string InsertSql = """
        INSERT INTO messages (business_id, api_key_id, wamid, reference, "to", kind, template_name, api_status, delivery_status,
                              status_rank, failure_code, failure_reason, quota_day, created_at, sent_at, updated_at,
                              idempotency_key, protected_idempotency_request_sha256)
        VALUES ($business_id, $api_key_id, NULL, $reference, $to, $kind, $template_name, $api_status, NULL,
                0, NULL, NULL, $quota_day, $created_at, NULL, $updated_at, $idempotency_key, $protected_idempotency_request_sha256)
        RETURNING id;
        """;

    // A status webhook may already have set a later status (and its own sent_at): sent never moves it back.
    private const string AcceptedSql = """
        UPDATE messages SET wamid = $wamid, api_status = 'success', sent_at = COALESCE(sent_at, $at), updated_at = $at,
            delivery_status = CASE WHEN status_rank < $sent_rank THEN 'sent' ELSE delivery_status END,
            status_rank = CASE WHEN status_rank < $sent_rank THEN $sent_rank ELSE status_rank END
        WHERE id = $id;
        """;

    // The number and the wa_id Meta answered for it (only written when they differ, which is rare).
    private const string RecipientWaIdSql = """
        INSERT INTO recipient_wa_ids (business_id, phone, wa_id, updated_at)
        SELECT business_id, "to", $wa_id, $at FROM messages WHERE id = $id
        ON CONFLICT (business_id, phone) DO UPDATE SET wa_id = excluded.wa_id, updated_at = excluded.updated_at;
        """;

    // Meta answered the number as its own wa_id: the account an earlier answer named is another's now, and its STOP,
    // START or message must no longer count for the number (a stale pair would suppress it, or open its window).
    private const string NoRecipientWaIdSql = """
        DELETE FROM recipient_wa_ids
        WHERE (business_id, phone) = (SELECT business_id, "to" FROM messages WHERE id = $id);
        """;

    // Only a pending row: a status webhook that proved Meta accepted it wins over a lost answer.
    private const string FailedSql = """
        UPDATE messages SET api_status = $api_status, failure_code = $failure_code, failure_reason = $failure_reason, updated_at = $at
        WHERE id = $id AND api_status = 'pending';
        """;
}

/// <summary>One write of the send path.</summary>
public abstract record MessageWrite
{
    private MessageWrite()
    {
    }

    public sealed record Insert(Message Message) : MessageWrite;

    /// <summary>
    /// Meta accepted the message and gave it this wamid; <paramref name="OtherWaId"/> is Meta's wa_id for
    /// the recipient, when it differs from the number sent to; <paramref name="NumberIsItsOwnWaId"/>, when Meta named the
    /// number itself (a pair an earlier answer gave is dropped).
    /// </summary>
    public sealed record Accepted(long Id, string Wamid, DateTime At, string? OtherWaId = null, bool NumberIsItsOwnWaId = false) : MessageWrite;

    /// <summary>Meta refused (<see cref="ApiStatuses.Failed"/>) or did not answer (stays <see cref="ApiStatuses.Pending"/>).</summary>
    public sealed record Failed(long Id, string ApiStatus, int? FailureCode, string Reason, DateTime At) : MessageWrite;
}
