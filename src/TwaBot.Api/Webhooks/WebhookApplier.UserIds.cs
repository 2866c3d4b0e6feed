using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Business-scoped user ids (BSUIDs): Meta names a customer who adopted a WhatsApp username by a BSUID, and may withhold
/// their number. Sends go by number, so each pair a webhook shows is kept per business (<c>user_id_links</c>), and an event
/// that names only the BSUID is applied to the number it was last paired with.
/// </summary>
public sealed partial class WebhookApplier
{
    private async Task ApplyUserIdsAsync(WebhookPayload payload, Dictionary<string, long> businesses, CancellationToken cancellationToken)
    {
        // A delivery repeats a pair (contacts[], then each message and status); the latest sighting of each is enough.
        foreach (var link in payload.UserIdLinks.GroupBy(l => (l.PhoneNumberId, l.UserId, l.WaId)).Select(g => g.MaxBy(l => l.At)!))
        {
            if (Route(businesses, link.PhoneNumberId) is { } businessId)
            {
                await LinkAsync(businessId, link.UserId, link.WaId, link.At, cancellationToken);
            }
        }

        foreach (var change in payload.UserIdChanges)
        {
            if (Route(businesses, change.PhoneNumberId) is { } businessId)
            {
                // The new BSUID names whoever the previous one did. The previous pair stays: a late delivery may still name it.
                if (await WaIdOfUserAsync(businessId, change.PreviousUserId, cancellationToken) is { } waId)
                {
                    await LinkAsync(businessId, change.UserId, waId, change.At, cancellationToken);
                }
                else
                {
                    LogUnpairedUserIdChange(logger, change.PreviousUserId, change.UserId, businessId);
                }
            }
        }
    }

    /// <summary>
    /// Pairs <paramref name="userId"/> with <paramref name="waId"/>, unless an event later than <paramref name="at"/> paired it
    /// with another. Every status and message repeats its pair, so a pair already kept costs a read, not a write.
    /// </summary>
    private async Task LinkAsync(long businessId, string userId, string waId, DateTime at, CancellationToken cancellationToken)
    {
        var link = await LinkOf(db, businessId, userId).SingleOrDefaultAsync(cancellationToken);
        if (link is null)
        {
            db.UserIdLinks.Add(new UserIdLink { BusinessId = businessId, UserId = userId, WaId = waId, LinkedAt = at });
        }
        else if (link.WaId != waId && at >= link.LinkedAt)
        {
            link.WaId = waId;
            link.LinkedAt = at;
        }
        else
        {
            return;
        }

        await SaveAsync(cancellationToken);
    }

    /// <summary>The wa_id the business's webhooks last paired <paramref name="userId"/> with, or null.</summary>
    private async Task<string?> WaIdOfUserAsync(long businessId, string? userId, CancellationToken cancellationToken) =>
        userId is null ? null : await LinkOf(db, businessId, userId).AsNoTracking().Select(l => l.WaId).FirstOrDefaultAsync(cancellationToken);

    internal static IQueryable<UserIdLink> LinkOf(TwaBotDbContext db, long businessId, string userId) =>
        db.UserIdLinks.Where(l => l.BusinessId == businessId && l.UserId == userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Customer message {Wamid} names only business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number; its 24-hour window and any STOP / START were not applied")]
    private static partial void LogUnpairedMessage(ILogger logger, string wamid, string? userId, long businessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Marketing preference {Value} names only business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number; not applied")]
    private static partial void LogUnpairedPreference(ILogger logger, string value, string? userId, long businessId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Business-scoped user id {PreviousUserId} became {UserId} at business {BusinessId}, but no webhook had paired the previous one with a phone number; nothing to move")]
    private static partial void LogUnpairedUserIdChange(ILogger logger, string previousUserId, string userId, long businessId);
}
