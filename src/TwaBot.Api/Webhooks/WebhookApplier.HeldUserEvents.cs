using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Events that name only a BSUID no webhook has paired with a number yet are held (<c>held_user_events</c>), as a status
/// whose message is not written yet is parked, and applied to the number when a later webhook first pairs the BSUID: a
/// username customer's STOP must still count once the business learns who they are, e.g. from the statuses of a send.
/// </summary>
public sealed partial class WebhookApplier
{
    /// <summary>Holds what a customer message says for the number (window, keyword, marketing preference), each by its own time.</summary>
    private async Task HoldMessageAsync(long businessId, InboundMessageUpdate message, CancellationToken cancellationToken)
    {
        // Meta's notices are not the customer writing (they say nothing to hold), and are not reported either.
        if (message.Type == "system")
        {
            return;
        }

        var optOut = OptOutKeywords.IsOptOut(message.Text);
        var optIn = !optOut && OptOutKeywords.IsOptIn(message.Text);
        var marketingStop = OptOutKeywords.IsMarketingStop(message.Text);
        var marketingResume = !marketingStop && OptOutKeywords.IsMarketingResume(message.Text);
        var opensWindow = message.GroupId is null;
        if (!(opensWindow || optOut || optIn || marketingStop || marketingResume))
        {
            return; // a group message without a keyword: nothing it would change
        }

        if (await HeldRowAsync(businessId, message.UserId, cancellationToken) is not { } held)
        {
            return;
        }

        // Once per BSUID and batch: a username customer nobody paired may write often, as may many of them.
        if (_reportedUnpairedUserIds.Add((businessId, message.UserId, false)))
        {
            LogHeldMessage(logger, message.Wamid, message.UserId, businessId);
        }

        if (opensWindow && (held.LastInboundAt is null || message.SentAt > held.LastInboundAt))
        {
            held.LastInboundAt = message.SentAt;
            held.Name = message.ProfileName ?? held.Name;
        }

        // As for a contact: the latest keyword by its own time decides, and the latest preference.
        if ((optOut || optIn) && !(held.OptKeywordAt is { } latest && message.SentAt < latest))
        {
            held.OptedOut = optOut;
            held.OptKeywordAt = message.SentAt;
        }

        if (marketingStop || marketingResume)
        {
            HoldMarketing(held, marketingStop, message.SentAt);
        }

        await SaveAsync(cancellationToken);
    }

    private async Task HoldPreferenceAsync(long businessId, PreferenceUpdate preference, CancellationToken cancellationToken)
    {
        if (await HeldRowAsync(businessId, preference.UserId, cancellationToken) is not { } held)
        {
            return;
        }

        if (_reportedUnpairedUserIds.Add((businessId, preference.UserId, true)))
        {
            LogHeldPreference(logger, preference.Value, preference.UserId, businessId);
        }

        HoldMarketing(held, preference.Value == "stop", preference.At);
        await SaveAsync(cancellationToken);
    }

    private static void HoldMarketing(HeldUserEvent held, bool stopped, DateTime at)
    {
        if (!(held.MarketingPreferenceAt is { } latest && at < latest))
        {
            held.MarketingStopped = stopped;
            held.MarketingPreferenceAt = at;
        }
    }

    /// <summary>
    /// The BSUID's held row, made when it has none; null (logged) when there is no BSUID to hold by or the business holds
    /// as many as it may. Each event held restarts the row's wait.
    /// </summary>
    private async Task<HeldUserEvent?> HeldRowAsync(long businessId, string? userId, CancellationToken cancellationToken)
    {
        await heldCounts.LoadAsync(db, cancellationToken);
        var held = userId is null ? null : await db.HeldUserEvents.FirstOrDefaultAsync(h => h.BusinessId == businessId && h.UserId == userId, cancellationToken);
        if (held is null)
        {
            if (userId is null || heldCounts.IsFull(businessId))
            {
                if (_reportedUnpairedUserIds.Add((businessId, userId, false)))
                {
                    LogNotHeld(logger, userId, businessId, HeldUserEventCounts.MaxPerBusiness);
                }

                return null;
            }

            held = new HeldUserEvent { BusinessId = businessId, UserId = userId };
            db.HeldUserEvents.Add(held);
            heldCounts.Held(businessId);
        }

        held.ReceivedAt = time.GetUtcNow().UtcDateTime;
        return held;
    }

    /// <summary>
    /// Applies what was held for <paramref name="userId"/> to the number it is now paired with, as the events would have been
    /// applied on arrival: the window never moves back, and a keyword or preference counts only when newer than the contact's.
    /// Called when a pair is written for the first time (a pair already kept means nothing can be held for it), and only for a
    /// business that holds something, so the statuses that repeat a pair cost nothing more.
    /// </summary>
    private async Task ApplyHeldAsync(long businessId, string userId, CancellationToken cancellationToken)
    {
        await heldCounts.LoadAsync(db, cancellationToken);
        if (!heldCounts.MayHave(businessId)
            || await db.HeldUserEvents.FirstOrDefaultAsync(h => h.BusinessId == businessId && h.UserId == userId, cancellationToken) is not { } held
            || await WaIdOfUserAsync(businessId, userId, cancellationToken) is not { } waId)
        {
            return;
        }

        db.HeldUserEvents.Remove(held);
        heldCounts.Changed(businessId);
        await RememberBrazilianNumberAsync(businessId, waId, cancellationToken);
        var contact = await ContactAsync(businessId, waId, null, cancellationToken);
        contact.Name ??= held.Name;
        if (held.LastInboundAt is { } inboundAt && (contact.LastInboundAt is null || inboundAt > contact.LastInboundAt))
        {
            contact.LastInboundAt = inboundAt;
        }

        if (held.OptedOut is { } optedOut && held.OptKeywordAt is { } keywordAt)
        {
            await ApplyOptKeywordAsync(businessId, contact, optedOut, keywordAt, cancellationToken);
        }

        if (held.MarketingStopped is { } stopped && held.MarketingPreferenceAt is { } preferenceAt)
        {
            SetMarketing(contact, stopped, preferenceAt);
        }

        await SaveAsync(cancellationToken);
        LogHeldApplied(logger, userId, businessId, held.LastInboundAt, held.OptedOut switch { true => "STOP", false => "START", null => "none" },
            held.MarketingStopped switch { true => "stop", false => "resume", null => "none" });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Customer message {Wamid} names only business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number yet; its 24-hour window and any STOP / START are held until one does (7 days at most)")]
    private static partial void LogHeldMessage(ILogger logger, string wamid, string? userId, long businessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Marketing preference {Value} names only business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number yet; held until one does (7 days at most)")]
    private static partial void LogHeldPreference(ILogger logger, string value, string? userId, long businessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An event names business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number, and cannot be held (no user id, or the business already holds events for {Max} user ids); not applied")]
    private static partial void LogNotHeld(ILogger logger, string? userId, long businessId, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "Business-scoped user id {UserId} is now paired with a phone number at business {BusinessId}; its held events were applied (latest message {LastInboundAt}, keyword {Keyword}, marketing {Marketing})")]
    private static partial void LogHeldApplied(ILogger logger, string userId, long businessId, DateTime? lastInboundAt, string keyword, string marketing);
}
