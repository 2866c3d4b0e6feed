using System.Globalization;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Messages;

/// <summary>
/// Applies Meta's status reports to messages: each one into the history (once), and into the
/// current status only forward (<see cref="DeliveryStatuses"/>), in one conditional UPDATE so
/// concurrent writers cannot move a status back. A report for a message we cannot find yet is parked.
/// </summary>
public sealed class MessageStatusWriter(TwaBotDbContext db, TimeProvider time)
{
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
        var parked = await db.ParkedStatuses
            .Where(p => p.BusinessId == businessId && (p.Wamid == wamid || p.MessageId == messageId))
            .OrderBy(p => p.Id)
            .ToListAsync(cancellationToken);
        foreach (var report in parked)
        {
            await ApplyToMessageAsync(messageId, new StatusUpdate(
                "", report.Wamid, report.Status, report.OccurredAt, null, null, report.ErrorCode, report.ErrorTitle, report.ErrorDetails),
                cancellationToken);
        }

        db.ParkedStatuses.RemoveRange(parked);
        await db.SaveChangesAsync(cancellationToken);
        return parked.Count;
    }

    private async Task ApplyToMessageAsync(long messageId, StatusUpdate status, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;

        // A report proves Meta accepted the message, even when our send never heard back (timeout).
        await db.Messages.Where(m => m.Id == messageId && m.Wamid == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(m => m.Wamid, status.Wamid)
                .SetProperty(m => m.ApiStatus, ApiStatuses.Success)
                .SetProperty(m => m.SentAt, m => m.SentAt ?? status.OccurredAt)
                .SetProperty(m => m.UpdatedAt, now), cancellationToken);

        var isNew = !await db.MessageStatusEvents.AnyAsync(
            e => e.MessageId == messageId && e.Status == status.Status && e.OccurredAt == status.OccurredAt, cancellationToken);
        if (isNew)
        {
            db.MessageStatusEvents.Add(new MessageStatusEvent
            {
                MessageId = messageId,
                Status = status.Status,
                OccurredAt = status.OccurredAt,
                ErrorCode = status.ErrorCode,
                ErrorTitle = status.ErrorTitle,
                ReceivedAt = now,
            });
            await db.SaveChangesAsync(cancellationToken);
        }

        if (!DeliveryStatuses.IsTracked(status.Status))
        {
            return;
        }

        var rank = DeliveryStatuses.Rank(status.Status);
        var failed = status.Status == DeliveryStatuses.Failed;
        var reason = failed ? FailureReasons.For(status.ErrorCode, status.ErrorTitle) : null;
        await db.Messages.Where(m => m.Id == messageId && m.StatusRank < rank)
            .ExecuteUpdateAsync(set => set
                .SetProperty(m => m.DeliveryStatus, status.Status)
                .SetProperty(m => m.StatusRank, rank)
                .SetProperty(m => m.FailureCode, failed ? status.ErrorCode : null)
                .SetProperty(m => m.FailureReason, reason)
                .SetProperty(m => m.UpdatedAt, now), cancellationToken);
    }

    private async Task<long?> FindMessageAsync(long businessId, string wamid, long? callbackMessageId, CancellationToken cancellationToken)
    {
        if (callbackMessageId is { } id
            && await db.Messages.AnyAsync(m => m.Id == id && m.BusinessId == businessId, cancellationToken))
        {
            return id;
        }

        return await db.Messages.Where(m => m.BusinessId == businessId && m.Wamid == wamid)
            .Select(m => (long?)m.Id).SingleOrDefaultAsync(cancellationToken);
    }

    private static long? CallbackMessageId(string? callbackData) =>
        callbackData is not null && callbackData.StartsWith(CallbackPrefix, StringComparison.Ordinal)
        && long.TryParse(callbackData.AsSpan(CallbackPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            ? id
            : null;
}
