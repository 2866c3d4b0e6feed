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

        if (opensWindow)
        {
            HoldWindow(held, message.SentAt, message.ProfileName);
        }

        // As for a contact: the latest keyword by its own time decides, and the latest preference.
        if (optOut || optIn)
        {
            HoldKeyword(held, optOut, message.SentAt);
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

    private static void HoldWindow(HeldUserEvent held, DateTime at, string? name)
    {
        if (held.LastInboundAt is null || at > held.LastInboundAt)
        {
            held.LastInboundAt = at;
            held.Name = name ?? held.Name;
        }
    }

    private static void HoldKeyword(HeldUserEvent held, bool optedOut, DateTime at)
    {
        if (!(held.OptKeywordAt is { } latest && at < latest))
        {
            held.OptedOut = optedOut;
            held.OptKeywordAt = at;
        }
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
                // Once per business and batch: a business is full only under a flood of new BSUIDs, one line each would flood the log too.
                if (_reportedUnpairedUserIds.Add((businessId, null, false)))
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
    /// applied on arrival: the window never moves back, a keyword or preference counts only when newer than the contact's, and
    /// a START lifts only the opt-outs entered before it was written.
    /// Called when a pair is written (a new one, or another wa_id; a pair already kept means nothing can be held for it) or held
    /// events are moved to the BSUID, and looks only in a business that holds something, so the statuses that repeat a pair cost nothing more.
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
        await RememberWrittenNumberAsync(businessId, waId, cancellationToken);
        var contact = await ContactAsync(businessId, waId, null, cancellationToken);
        contact.Name ??= held.Name;
        if (held.LastInboundAt is { } inboundAt)
        {
            OpenWindow(contact, inboundAt, null); // held events keep no number: the window is the business's
        }

        if (held.OptedOut is { } optedOut && held.OptKeywordAt is { } keywordAt)
        {
            // A START held for days must not lift an opt-out entered since it was written (an operator's, on the customer's
            // word): that one is the later, as a STOP written after it would be.
            await ApplyOptKeywordAsync(businessId, contact, optedOut, keywordAt, cancellationToken, enteredBy: keywordAt);
        }

        if (held.MarketingStopped is { } stopped && held.MarketingPreferenceAt is { } preferenceAt)
        {
            await SetMarketingAsync(businessId, contact, stopped, preferenceAt, cancellationToken);
        }

        await SaveAsync(cancellationToken);
        LogHeldApplied(logger, userId, businessId, held.LastInboundAt, held.OptedOut switch { true => "STOP", false => "START", null => "none" },
            held.MarketingStopped switch { true => "stop", false => "resume", null => "none" });
    }

    /// <summary>
    /// Events held for <paramref name="previousUserId"/> now wait for <paramref name="userId"/>, which names the same customer
    /// (<c>user_changed_user_id</c>): left under the previous one, they would wait for a pair no webhook shows any more, and a
    /// STOP would be dropped. Merged by their own times into the new one's row, if it has one; true when anything was held.
    /// </summary>
    private async Task<bool> MoveHeldAsync(long businessId, string previousUserId, string userId, CancellationToken cancellationToken)
    {
        await heldCounts.LoadAsync(db, cancellationToken);
        if (!heldCounts.MayHave(businessId)
            || await db.HeldUserEvents.FirstOrDefaultAsync(h => h.BusinessId == businessId && h.UserId == previousUserId, cancellationToken) is not { } previous)
        {
            return false;
        }

        if (await db.HeldUserEvents.FirstOrDefaultAsync(h => h.BusinessId == businessId && h.UserId == userId, cancellationToken) is not { } current)
        {
            previous.UserId = userId;
        }
        else
        {
            if (previous.LastInboundAt is { } inboundAt)
            {
                HoldWindow(current, inboundAt, previous.Name);
            }

            if (previous.OptedOut is { } optedOut && previous.OptKeywordAt is { } keywordAt)
            {
                HoldKeyword(current, optedOut, keywordAt);
            }

            if (previous.MarketingStopped is { } stopped && previous.MarketingPreferenceAt is { } preferenceAt)
            {
                HoldMarketing(current, stopped, preferenceAt);
            }

            current.ReceivedAt = previous.ReceivedAt > current.ReceivedAt ? previous.ReceivedAt : current.ReceivedAt;
            db.HeldUserEvents.Remove(previous);
            heldCounts.Changed(businessId);
        }

        await SaveAsync(cancellationToken);
        LogHeldMoved(logger, previousUserId, userId, businessId);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Business-scoped user id {PreviousUserId} became {UserId} at business {BusinessId} before any webhook paired it with a phone number; its held events now wait for the new one")]
    private static partial void LogHeldMoved(ILogger logger, string previousUserId, string userId, long businessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Customer message {Wamid} names only business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number yet; its 24-hour window and any STOP / START are held until one does (7 days at most)")]
    private static partial void LogHeldMessage(ILogger logger, string wamid, string? userId, long businessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Marketing preference {Value} names only business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number yet; held until one does (7 days at most)")]
    private static partial void LogHeldPreference(ILogger logger, string value, string? userId, long businessId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An event names business-scoped user id {UserId}, which no webhook to business {BusinessId} has paired with a phone number, and cannot be held (no user id, or the business already holds events for {Max} user ids); not applied (logged once per business and batch)")]
    private static partial void LogNotHeld(ILogger logger, string? userId, long businessId, int max);

    [LoggerMessage(Level = LogLevel.Information, Message = "Business-scoped user id {UserId} is now paired with a phone number at business {BusinessId}; its held events were applied (latest message {LastInboundAt}, keyword {Keyword}, marketing {Marketing})")]
    private static partial void LogHeldApplied(ILogger logger, string userId, long businessId, DateTime? lastInboundAt, string keyword, string marketing);
}
