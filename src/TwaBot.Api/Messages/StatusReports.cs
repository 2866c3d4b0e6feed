using TwaBot.Api.Data;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Messages;

/// <summary>
/// Meta's status reports applied to messages with prepared SQLite statements, on whichever connection
/// and transaction the caller holds (through <see cref="MessageStatusWriter"/>: the webhook processor's
/// EF connection, or the send path's).
/// Each report goes into the history once, and into the current status only forward
/// (<see cref="DeliveryStatuses"/>), in one conditional UPDATE so concurrent writers cannot move a
/// status back. A report whose message cannot be found yet is parked. Meta sends three or more reports
/// per message, so these are plain statements, not EF queries.
/// </summary>
public static class StatusReports
{
    /// <summary>
    /// Applies the report to its message, or parks it under <paramref name="businessId"/> (the business its number is
    /// routed to); returns the business of the message it found, or null when it parked the report.
    /// </summary>
    public static async Task<long?> ApplyAsync(
        PreparedCommands commands, ParkedStatusSignal parked, long businessId, StatusUpdate status, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        var reference = MessageReferences.IsReference(status.CallbackData) ? status.CallbackData : null;
        if (await FindMessageAsync(commands, businessId, status.Wamid, reference, status.RecipientId, cancellationToken) is { } found)
        {
            await ApplyToMessageAsync(commands, found.Id, status, found.HasWamid, now, cancellationToken);
            return found.BusinessId;
        }

        // Signalled before the row is visible, so a send that commits after it looks for it.
        parked.Parked();
        await commands.Bind("""
            INSERT INTO parked_statuses (business_id, wamid, message_id, status, occurred_at, error_code, error_title, error_details, received_at)
            VALUES ($business_id, $wamid, (SELECT id FROM messages WHERE reference = $reference AND business_id = $business_id), $status, $occurred_at, $error_code,
                    $error_title, $error_details, $now)
            """, ("$business_id", businessId), ("$wamid", status.Wamid), ("$reference", reference), ("$status", status.Status),
            ("$occurred_at", PreparedCommands.Text(status.OccurredAt)), ("$error_code", status.ErrorCode), ("$error_title", status.ErrorTitle),
            ("$error_details", status.ErrorDetails), ("$now", PreparedCommands.Text(now)))
            .ExecuteNonQueryAsync(cancellationToken);
        return null;
    }

    /// <summary>
    /// Applies a report to a message known to exist. <paramref name="wamidStored"/>: the message
    /// already has its wamid, so it already records Meta's acceptance.
    /// </summary>
    public static async Task ApplyToMessageAsync(
        PreparedCommands commands, long messageId, StatusUpdate status, bool wamidStored, DateTime now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commands);
        ArgumentNullException.ThrowIfNull(status);
        var nowText = PreparedCommands.Text(now);
        var occurredAt = PreparedCommands.Text(status.OccurredAt);

        // A report proves Meta accepted the message, even when our send never heard back (timeout): the message
        // is at least sent, and a reason stored while the outcome was unknown no longer holds.
        if (!wamidStored)
        {
            await commands.Bind("""
                UPDATE messages SET wamid = $wamid, api_status = 'success', sent_at = COALESCE(sent_at, $occurred_at),
                    delivery_status = CASE WHEN status_rank < $sent_rank THEN 'sent' ELSE delivery_status END,
                    status_rank = MAX(status_rank, $sent_rank), failure_code = NULL, failure_reason = NULL, updated_at = $now
                WHERE id = $id AND wamid IS NULL
                """, ("$id", messageId), ("$wamid", status.Wamid), ("$occurred_at", occurredAt), ("$now", nowText),
                ("$sent_rank", DeliveryStatuses.Rank(DeliveryStatuses.Sent)))
                .ExecuteNonQueryAsync(cancellationToken);
        }

        // The history keeps every report once: a redelivery hits the unique (message, status, time) index.
        await commands.Bind("""
            INSERT INTO message_status_events (message_id, status, occurred_at, error_code, error_title, received_at)
            VALUES ($message_id, $status, $occurred_at, $error_code, $error_title, $now)
            ON CONFLICT (message_id, status, occurred_at) DO NOTHING
            """, ("$message_id", messageId), ("$status", status.Status), ("$occurred_at", occurredAt),
            ("$error_code", status.ErrorCode), ("$error_title", status.ErrorTitle), ("$now", nowText))
            .ExecuteNonQueryAsync(cancellationToken);

        if (!DeliveryStatuses.IsTracked(status.Status))
        {
            return;
        }

        // A template (or OTP) refused is not advised to send a template instead, as at send time (FailureReasons).
        var failed = status.Status == DeliveryStatuses.Failed;
        await commands.Bind("""
            UPDATE messages SET delivery_status = $status, status_rank = $rank, failure_code = $failure_code,
                                failure_reason = CASE WHEN kind IN ($template, $otp) THEN $template_reason ELSE $failure_reason END,
                                updated_at = $now
            WHERE id = $id AND status_rank < $rank
            """, ("$id", messageId), ("$status", status.Status), ("$rank", DeliveryStatuses.Rank(status.Status)),
            ("$failure_code", failed ? status.ErrorCode : null),
            ("$failure_reason", failed ? FailureReasons.For(status.ErrorCode, status.ErrorTitle, details: status.ErrorDetails) : null),
            ("$template_reason", failed ? FailureReasons.For(status.ErrorCode, status.ErrorTitle, template: true, status.ErrorDetails) : null),
            ("$template", MessageKinds.Template), ("$otp", MessageKinds.Otp), ("$now", nowText))
            .ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<(long Id, bool HasWamid, long BusinessId)?> FindMessageAsync(
        PreparedCommands commands, long businessId, string wamid, string? reference, string? recipient, CancellationToken cancellationToken)
    {
        // By our id (the callback data) first, for a row whose send never heard Meta's answer; the answer
        // says whether the row has its wamid yet. A row with another wamid is another message, and so is one
        // Meta refused (it heard Meta's answer: no message): callback data is only a hint (a copy of this database on
        // another server on the same number holds the same references), the wamid is Meta's. So a wamid another row has
        // already names that row's message, not this one (written here, it would fail the whole delivery on the unique
        // index). Nor is a row without a wamid the report's message when the report is about another customer (rows from
        // before references were random are "twb:" + their row number, which a database restored from an older backup gave
        // again to other sends). The customer is the number the row was sent to, its wa_id's other form (WaIdForms), or a
        // pair Meta gave.
        var waId = recipient is { Length: > 0 } && recipient.All(char.IsAsciiDigit) ? recipient : null; // not a BSUID
        if (reference is not null)
        {
            await using var byReference = await commands.Bind("""
                SELECT id, wamid IS NOT NULL FROM messages AS m
                WHERE reference = $reference AND business_id = $business_id
                  AND ((wamid IS NULL AND api_status <> 'failed' AND NOT EXISTS (SELECT 1 FROM messages WHERE wamid = $wamid)
                        AND ($wa_id IS NULL OR "to" = $wa_id OR "to" = $written
                             OR EXISTS (SELECT 1 FROM recipient_wa_ids AS r WHERE r.business_id = m.business_id AND r.phone = m."to" AND r.wa_id = $wa_id)))
                    OR wamid = $wamid)
                """, ("$reference", reference), ("$business_id", businessId), ("$wamid", wamid), ("$wa_id", waId),
                ("$written", waId is null ? null : Phones.WaIdForms.OtherFormOf(waId))).ExecuteReaderAsync(cancellationToken);
            if (await byReference.ReadAsync(cancellationToken))
            {
                return (byReference.GetInt64(0), byReference.GetBoolean(1), businessId);
            }
        }

        // By Meta's id: the business's own message, or one sent before the business connected this number. A number
        // moved from one business to another goes on carrying Meta's reports of the messages sent from it before (for
        // days): they are the sender's, not lost and not the new holder's (which cannot read them). A message sent
        // after the connect cannot have gone out from this number, so another business's such message stays out of reach;
        // nor can one its own business sent after connecting the number it has now (it went out from that one).
        await using var reader = await commands.Bind("""
            SELECT id, business_id FROM messages AS m
            WHERE wamid = $wamid
              AND (business_id = $business_id
                OR (created_at < (SELECT connected_at FROM whatsapp_connections WHERE business_id = $business_id)
                  AND NOT EXISTS (SELECT 1 FROM whatsapp_connections AS own WHERE own.business_id = m.business_id AND own.connected_at <= m.created_at)))
            """, ("$wamid", wamid), ("$business_id", businessId))
            .ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), true, reader.GetInt64(1)) : null;
    }
}
