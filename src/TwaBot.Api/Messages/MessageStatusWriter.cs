using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using TwaBot.Api.Data;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Messages;

/// <summary>
/// Applies Meta's status reports to messages: each one into the history (once), and into the
/// current status only forward (<see cref="DeliveryStatuses"/>), in one conditional UPDATE so
/// concurrent writers cannot move a status back. A report for a message we cannot find yet is parked.
/// Meta sends three or more reports per message, so the lookups and writes are prepared SQLite
/// statements on the context's own connection and transaction, not EF queries.
/// </summary>
public sealed class MessageStatusWriter(TwaBotDbContext db, ParkedStatusSignal parked, TimeProvider time) : IAsyncDisposable
{
    private PreparedCommands? _commands;

    public const string CallbackPrefix = "twb:";

    /// <summary>The <c>biz_opaque_callback_data</c> a send carries: our message id.</summary>
    public static string CallbackData(long messageId) => CallbackPrefix + messageId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Applies the report, or parks it; returns true when it found its message.</summary>
    public async Task<bool> ApplyAsync(long businessId, StatusUpdate status, CancellationToken cancellationToken)
    {
        var messageId = await FindMessageAsync(businessId, status.Wamid, CallbackMessageId(status.CallbackData), cancellationToken);
        if (messageId is null)
        {
            db.ParkedStatuses.Add(new ParkedStatus
            {
                BusinessId = businessId,
                Wamid = status.Wamid,
                MessageId = CallbackMessageId(status.CallbackData),
                Status = status.Status,
                OccurredAt = status.OccurredAt,
                ErrorCode = status.ErrorCode,
                ErrorTitle = status.ErrorTitle,
                ErrorDetails = status.ErrorDetails,
                ReceivedAt = time.GetUtcNow().UtcDateTime,
            });
            await db.SaveChangesAsync(cancellationToken);
            parked.Parked();
            return false;
        }

        await ApplyToMessageAsync(messageId.Value, status, cancellationToken);
        return true;
    }

    /// <summary>
    /// Applies the parked reports of a message that now has its row and Meta id. Called by the send
    /// pipeline right after Meta accepted, and by the webhook processor for any left behind.
    /// </summary>
    public async Task<int> ApplyParkedAsync(long businessId, long messageId, string wamid, CancellationToken cancellationToken)
    {
        if (!parked.MayExist)
        {
            return 0;
        }

        var reports = await db.ParkedStatuses
            .Where(p => p.BusinessId == businessId && (p.Wamid == wamid || p.MessageId == messageId))
            .OrderBy(p => p.Id)
            .ToListAsync(cancellationToken);
        foreach (var report in reports)
        {
            await ApplyToMessageAsync(messageId, new StatusUpdate(
                "", report.Wamid, report.Status, report.OccurredAt, null, null, report.ErrorCode, report.ErrorTitle, report.ErrorDetails),
                cancellationToken);
        }

        db.ParkedStatuses.RemoveRange(reports);
        await db.SaveChangesAsync(cancellationToken);
        return reports.Count;
    }

    private async Task ApplyToMessageAsync(long messageId, StatusUpdate status, CancellationToken cancellationToken)
    {
        var commands = await CommandsAsync(cancellationToken);
        var now = PreparedCommands.Text(time.GetUtcNow().UtcDateTime);

        // A report proves Meta accepted the message, even when our send never heard back (timeout).
        await commands.Bind("""
            UPDATE messages SET wamid = $wamid, api_status = 'success', sent_at = COALESCE(sent_at, $occurred_at), updated_at = $now
            WHERE id = $id AND wamid IS NULL
            """, ("$id", messageId), ("$wamid", status.Wamid), ("$occurred_at", PreparedCommands.Text(status.OccurredAt)), ("$now", now))
            .ExecuteNonQueryAsync(cancellationToken);

        // The history keeps every report once: a redelivery hits the unique (message, status, time) index.
        await commands.Bind("""
            INSERT INTO message_status_events (message_id, status, occurred_at, error_code, error_title, received_at)
            VALUES ($message_id, $status, $occurred_at, $error_code, $error_title, $now)
            ON CONFLICT (message_id, status, occurred_at) DO NOTHING
            """, ("$message_id", messageId), ("$status", status.Status), ("$occurred_at", PreparedCommands.Text(status.OccurredAt)),
            ("$error_code", status.ErrorCode), ("$error_title", status.ErrorTitle), ("$now", now))
            .ExecuteNonQueryAsync(cancellationToken);

        if (!DeliveryStatuses.IsTracked(status.Status))
        {
            return;
        }

        var failed = status.Status == DeliveryStatuses.Failed;
        await commands.Bind("""
            UPDATE messages SET delivery_status = $status, status_rank = $rank, failure_code = $failure_code,
                                failure_reason = $failure_reason, updated_at = $now
            WHERE id = $id AND status_rank < $rank
            """, ("$id", messageId), ("$status", status.Status), ("$rank", DeliveryStatuses.Rank(status.Status)),
            ("$failure_code", failed ? status.ErrorCode : null),
            ("$failure_reason", failed ? FailureReasons.For(status.ErrorCode, status.ErrorTitle) : null), ("$now", now))
            .ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<long?> FindMessageAsync(long businessId, string wamid, long? callbackMessageId, CancellationToken cancellationToken)
    {
        var commands = await CommandsAsync(cancellationToken);
        if (callbackMessageId is { } id
            && await commands.Bind("SELECT id FROM messages WHERE id = $id AND business_id = $business_id",
                ("$id", id), ("$business_id", businessId)).ExecuteScalarAsync(cancellationToken) is long byCallback)
        {
            return byCallback;
        }

        return await commands.Bind("SELECT id FROM messages WHERE wamid = $wamid AND business_id = $business_id",
            ("$wamid", wamid), ("$business_id", businessId)).ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>The statements, on EF's connection and in its current transaction (if any).</summary>
    private async Task<PreparedCommands> CommandsAsync(CancellationToken cancellationToken)
    {
        if (_commands is null)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            _commands = new PreparedCommands((SqliteConnection)db.Database.GetDbConnection());
        }

        _commands.Transaction = (SqliteTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        return _commands;
    }

    public async ValueTask DisposeAsync()
    {
        if (_commands is not null)
        {
            await _commands.DisposeAsync();
            await db.Database.CloseConnectionAsync();
            _commands = null;
        }
    }

    private static long? CallbackMessageId(string? callbackData) =>
        callbackData is not null && callbackData.StartsWith(CallbackPrefix, StringComparison.Ordinal)
        && long.TryParse(callbackData.AsSpan(CallbackPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;
}
