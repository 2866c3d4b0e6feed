using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Business-scoped user ids (BSUIDs): Meta names a customer who adopted a WhatsApp username by a BSUID, and may withhold
/// their number. Sends go by number, so each pair a webhook shows is kept per business (<c>user_id_links</c>), and an event
/// that names only the BSUID is applied to the number it was last paired with (or held until one is: WebhookApplier.HeldUserEvents.cs).
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
                if (await LinkAsync(businessId, link.UserId, link.WaId, link.At, cancellationToken))
                {
                    await ApplyHeldAsync(businessId, link.UserId, cancellationToken);
                }
            }
        }

        foreach (var change in payload.UserIdChanges)
        {
            if (Route(businesses, change.PhoneNumberId) is { } businessId)
            {
                // The new BSUID names whoever the previous one did. The previous pair stays: a late delivery may still name it.
                if (await WaIdOfUserAsync(businessId, change.PreviousUserId, cancellationToken) is { } waId)
                {
                    if (await LinkAsync(businessId, change.UserId, waId, change.At, cancellationToken))
                    {
                        await ApplyHeldAsync(businessId, change.UserId, cancellationToken);
                    }
                }
                else if (await MoveHeldAsync(businessId, change.PreviousUserId, change.UserId, cancellationToken))
                {
                    await ApplyHeldAsync(businessId, change.UserId, cancellationToken); // when the new one is paired already
                }
                else
                {
                    LogUnpairedUserIdChange(logger, change.PreviousUserId, change.UserId, businessId);
                }
            }
        }
    }

    // Meta repeats a customer's pair on every status and message (three or more a send), so a pair already kept must cost
    // little: one prepared statement, no read first and no EF change tracking (a read and an EF save per delivery made
    // applying statuses 2-4 times slower). It changes the row for a later sighting (a pair's time is its latest, whichever
    // delivery showed it, so that how Meta batched the events does not decide) or for another wa_id of the same second.
    private const string LinkSql = """
        INSERT INTO user_id_links (business_id, user_id, wa_id, linked_at) VALUES ($business_id, $user_id, $wa_id, $at)
        ON CONFLICT (business_id, user_id) DO UPDATE SET wa_id = excluded.wa_id, linked_at = excluded.linked_at
        WHERE excluded.linked_at > user_id_links.linked_at
            OR (excluded.linked_at = user_id_links.linked_at AND excluded.wa_id <> user_id_links.wa_id)
        """;

    /// <summary>
    /// Pairs <paramref name="userId"/> with <paramref name="waId"/>, unless an event later than <paramref name="at"/> paired it
    /// with another; true when it wrote the pair (a new one, another wa_id, or a later sighting), false for one already kept.
    /// </summary>
    private async Task<bool> LinkAsync(long businessId, string userId, string waId, DateTime at, CancellationToken cancellationToken)
    {
        var commands = await statuses.CommandsAsync(cancellationToken);
        return await commands.Bind(LinkSql, ("$business_id", businessId), ("$user_id", userId), ("$wa_id", waId), ("$at", PreparedCommands.Text(at)))
            .ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    /// <summary>The wa_id the business's webhooks last paired <paramref name="userId"/> with, or null.</summary>
    private async Task<string?> WaIdOfUserAsync(long businessId, string? userId, CancellationToken cancellationToken) =>
        userId is null ? null : await LinkOf(db, businessId, userId).AsNoTracking().Select(l => l.WaId).FirstOrDefaultAsync(cancellationToken);

    internal static IQueryable<UserIdLink> LinkOf(TwaBotDbContext db, long businessId, string userId) =>
        db.UserIdLinks.Where(l => l.BusinessId == businessId && l.UserId == userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Business-scoped user id {PreviousUserId} became {UserId} at business {BusinessId}, but no webhook had paired the previous one with a phone number; nothing to move")]
    private static partial void LogUnpairedUserIdChange(ILogger logger, string previousUserId, string userId, long businessId);
}
