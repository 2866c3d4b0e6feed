using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Applies one Meta delivery to the database: statuses to messages, customer messages to contacts
/// (the 24-hour window and STOP/START), marketing preferences, and template reviews. Events are
/// routed to the business whose WhatsApp number (<c>phone_number_id</c>) or account (WABA) they name.
/// </summary>
public sealed partial class WebhookApplier(
    TwaBotDbContext db, MessageStatusWriter statuses, HeldUserEventCounts heldCounts, TimeProvider time, ILogger<WebhookApplier> logger)
{
    private readonly Dictionary<string, long> _businesses = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reportedUnknownNumbers = new(StringComparer.Ordinal);

    /// <summary>The payloads' numbers no business has now, each routed to the business that let it go last.</summary>
    private readonly HashSet<string> _letGoNumbers = new(StringComparer.Ordinal);
    private readonly HashSet<(long BusinessId, string? UserId, bool Preference)> _reportedUnpairedUserIds = [];

    public async Task ApplyAsync(WebhookPayload payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        foreach (var error in payload.Errors)
        {
            LogMetaError(logger, error.Code, error.Title, error.PhoneNumberId, error.Details ?? "Meta gave no details");
        }

        var businesses = await BusinessesByPhoneNumberIdAsync(payload, cancellationToken);

        // The pairs first: a message in the same delivery may name its sender by BSUID alone.
        await ApplyUserIdsAsync(payload, businesses, cancellationToken);

        foreach (var status in payload.Statuses)
        {
            if (Route(businesses, status.PhoneNumberId) is { } businessId)
            {
                await ApplyStatusAsync(businessId, status, cancellationToken);
            }
        }

        foreach (var message in payload.Messages)
        {
            if (Route(businesses, message.PhoneNumberId) is { } businessId)
            {
                await ApplyInboundAsync(businessId, message, cancellationToken);
            }
        }

        foreach (var preference in payload.Preferences)
        {
            if (Route(businesses, preference.PhoneNumberId) is { } businessId && preference.Category == "marketing_messages")
            {
                await ApplyMarketingPreferenceAsync(businessId, preference, cancellationToken);
            }
        }

        foreach (var update in payload.TemplateUpdates)
        {
            await ApplyTemplateUpdateAsync(update, cancellationToken);
        }
    }

    private async Task ApplyStatusAsync(long businessId, StatusUpdate status, CancellationToken cancellationToken)
    {
        // The message's business: after its number moved to another business, still the one that sent it.
        var sender = await statuses.ApplyAsync(businessId, status, cancellationToken) ?? businessId;
        if (status.ErrorCode == MetaErrorCodes.MarketingStopped && await MarketingRecipientAsync(sender, status, cancellationToken) is { } recipient)
        {
            // Meta refused a marketing template because the customer stopped marketing messages: the same fact
            // as a user_preferences stop, as of the refusal (a later resume still lifts it), and like one from such a
            // wa_id it names the number as written (a send whose answer was lost, or another system's, left no pair).
            await RememberWrittenNumberAsync(sender, recipient, cancellationToken);
            SetMarketing(await ContactAsync(sender, recipient, null, cancellationToken), stopped: true, status.OccurredAt);
            await SaveAsync(cancellationToken);
        }
    }

    private async Task ApplyMarketingPreferenceAsync(long businessId, PreferenceUpdate preference, CancellationToken cancellationToken)
    {
        if (preference.Value is "stop" or "resume")
        {
            if ((preference.WaId ?? await WaIdOfUserAsync(businessId, preference.UserId, cancellationToken)) is not { } waId)
            {
                await HoldPreferenceAsync(businessId, preference, cancellationToken);
                return;
            }

            await RememberWrittenNumberAsync(businessId, waId, cancellationToken);
            await SetMarketingAsync(businessId, await ContactAsync(businessId, waId, null, cancellationToken), preference.Value == "stop", preference.At, cancellationToken);
        }

        await SaveAsync(cancellationToken);
    }

    private async Task ApplyInboundAsync(long businessId, InboundMessageUpdate message, CancellationToken cancellationToken)
    {
        if (await db.InboundMessages.AnyAsync(m => m.Wamid == message.Wamid, cancellationToken))
        {
            return; // a redelivery
        }

        // A customer with a username may be named by BSUID alone: their number is the one an earlier webhook paired it with.
        if ((message.From ?? await WaIdOfUserAsync(businessId, message.UserId, cancellationToken)) is not { } from)
        {
            await HoldMessageAsync(businessId, message, cancellationToken);
            return;
        }

        db.InboundMessages.Add(new InboundMessage
        {
            BusinessId = businessId,
            Wamid = message.Wamid,
            From = from,
            Type = message.Type,
            Text = message.Text,
            SentAt = message.SentAt,
        });

        await RememberWrittenNumberAsync(businessId, from, cancellationToken);
        var contact = await ContactAsync(businessId, from, message.ProfileName, cancellationToken);
        if (message.Type == "system")
        {
            // Meta's notices (a changed number, a changed preference) are not the customer writing: they open
            // no window and carry no keyword. A preference among them is applied as one (WebhookPayload).
            if (message.NewWaId is { } newWaId)
            {
                await ApplyNumberChangeAsync(businessId, contact, newWaId, message.SentAt, cancellationToken);
            }

            await SaveAsync(cancellationToken);
            return;
        }

        // The window counts from the customer's own message time, and late deliveries never shorten it. A message in a
        // group opens Meta's window with the group, not with the customer alone, so a free-form send to them would fail.
        if (message.GroupId is null)
        {
            OpenWindow(contact, message.SentAt, message.PhoneNumberId, _letGoNumbers.Contains(message.PhoneNumberId), time.GetUtcNow().UtcDateTime);
        }

        // A keyword in a group still counts: whoever wrote it, a STOP is honoured rather than guessed to be meant for the others.
        var optOut = OptOutKeywords.IsOptOut(message.Text);
        if (optOut || OptOutKeywords.IsOptIn(message.Text))
        {
            await ApplyOptKeywordAsync(businessId, contact, optOut, message.SentAt, cancellationToken);
        }

        // "Stop promotions" (the opt-out button Meta offers on marketing templates, or the words typed) stops marketing
        // templates only, as the customer's marketing preference in WhatsApp does, ordered with it by time.
        var marketingStop = OptOutKeywords.IsMarketingStop(message.Text);
        if (marketingStop || OptOutKeywords.IsMarketingResume(message.Text))
        {
            await SetMarketingAsync(businessId, contact, marketingStop, message.SentAt, cancellationToken);
        }

        await SaveAsync(cancellationToken);
    }

    /// <summary>
    /// Meta gives many Brazilian, Mexican and Argentine mobiles a wa_id other than the number as written (WaIdForms), and
    /// the customer writes from it. A send learns the pair from Meta's answer (MessageLog), but a customer who writes, or
    /// sends STOP, before any send to the number would be found under neither: their window closed and their STOP ignored
    /// for the number. So the number is also remembered from such a wa_id, unless a send's answer already named one.
    /// </summary>
    private async Task RememberWrittenNumberAsync(long businessId, string waId, CancellationToken cancellationToken)
    {
        if (Phones.WaIdForms.WrittenNumberOf(waId) is { } phone && !await db.RecipientWaIds.AnyAsync(r => r.BusinessId == businessId && r.Phone == phone, cancellationToken))
        {
            db.RecipientWaIds.Add(new RecipientWaId { BusinessId = businessId, Phone = phone, WaId = waId, UpdatedAt = time.GetUtcNow().UtcDateTime });
        }
    }

    /// <summary>
    /// A STOP (<paramref name="optOut"/>) or START keyword the customer wrote at <paramref name="at"/>: an opt-out, or the
    /// lifting of one. With <paramref name="enteredBy"/>, a START lifts only the opt-outs entered by then.
    /// </summary>
    private async Task ApplyOptKeywordAsync(
        long businessId, Contact contact, bool optOut, DateTime at, CancellationToken cancellationToken, DateTime? enteredBy = null)
    {
        // Meta keeps no order and redelivers for days: the customer's latest keyword decides, not the last to arrive.
        if (contact.OptKeywordAt is { } latest && at < latest)
        {
            return;
        }

        contact.OptKeywordAt = at;
        if (optOut)
        {
            await OptOutAsync(businessId, contact.Phone, "Customer sent STOP", cancellationToken);
            await FollowNumberChangeAsync(businessId, contact, at, optedOut: true, marketingStopped: false, cancellationToken);
        }
        else
        {
            // The customer writes from the wa_id Meta gave the number; an opt-out kept under the number itself
            // (entered through the admin API) is the same customer's, and a send checks both (SuppressionLookup).
            var optedOut = await OptedOutUnderAsync(businessId, contact.Phone, cancellationToken);
            await (enteredBy is { } by ? optedOut.Where(s => s.CreatedAt <= by) : optedOut).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Meta's notice that the customer changed their number to <paramref name="newWaId"/>: the latest change is remembered,
    /// and the opt-outs of the old number go with them (<see cref="CarryOptOutsAsync"/>).
    /// </summary>
    private async Task ApplyNumberChangeAsync(long businessId, Contact contact, string newWaId, DateTime changedAt, CancellationToken cancellationToken)
    {
        if (contact.NumberChangedAt is not { } known || changedAt >= known)
        {
            (contact.NumberChangedTo, contact.NumberChangedAt) = (newWaId, changedAt);
        }

        // Only what the customer said by the change goes with them: a STOP or marketing stop written to the old number after it
        // (delivered before the notice; Meta keeps no order) is the old number's, as FollowNumberChangeAsync has it. One of the
        // same second is taken as the customer's (Meta's times are whole seconds): an opt-out is not dropped on a guess.
        var optedOut = !(contact.OptKeywordAt > changedAt)
            && await (await OptedOutUnderAsync(businessId, contact.Phone, cancellationToken)).AnyAsync(cancellationToken);
        await CarryOptOutsAsync(businessId, contact.Phone, newWaId, changedAt, optedOut, contact.MarketingOptOutAt <= changedAt, cancellationToken);
    }

    /// <summary>
    /// A customer who changed their number (Meta's <c>user_changed_number</c>, from the old one) keeps the opt-outs given
    /// under the old one: their STOP, and Meta's marketing stop, count for the new number too, unless the customer has said
    /// otherwise from it since. The old number keeps its own (it may pass to someone who never opted in), and so do a block
    /// and the 24-hour window (a notice is not the customer writing).
    /// </summary>
    private async Task CarryOptOutsAsync(
        long businessId, string formerPhone, string newWaId, DateTime changedAt, bool optedOut, bool marketingStopped, CancellationToken cancellationToken)
    {
        if (!optedOut && !marketingStopped)
        {
            return;
        }

        // The new number's wa_id may be a Brazilian, Mexican or Argentine mobile's, which sends name as written: as for a
        // customer who writes first, the pair is remembered, or the first send to the new number would find no opt-out.
        await RememberWrittenNumberAsync(businessId, newWaId, cancellationToken);
        var current = await ContactAsync(businessId, newWaId, null, cancellationToken);
        if (optedOut && (current.OptKeywordAt is not { } latest || latest < changedAt))
        {
            current.OptKeywordAt = changedAt;
            await OptOutAsync(businessId, newWaId, $"Customer sent STOP before changing their number from {formerPhone}", cancellationToken);
        }

        if (marketingStopped)
        {
            SetMarketing(current, stopped: true, changedAt);
        }
    }

    /// <summary>
    /// A STOP or marketing stop the customer wrote before changing their number (or in the same second), applied to the old one after Meta's
    /// notice of the change (Meta keeps no order): it follows them to the new number, as it would have had it come first.
    /// </summary>
    private Task FollowNumberChangeAsync(
        long businessId, Contact contact, DateTime at, bool optedOut, bool marketingStopped, CancellationToken cancellationToken) =>
        contact is { NumberChangedTo: { } newWaId, NumberChangedAt: { } changedAt } && at <= changedAt
            ? CarryOptOutsAsync(businessId, contact.Phone, newWaId, changedAt, optedOut, marketingStopped, cancellationToken)
            : Task.CompletedTask;

    /// <summary>
    /// The customer's own marketing stop or resume (a preference, the words, or either held for a BSUID), which a stop
    /// carries to a number they changed to since.
    /// </summary>
    private async Task SetMarketingAsync(long businessId, Contact contact, bool stopped, DateTime at, CancellationToken cancellationToken)
    {
        SetMarketing(contact, stopped, at);
        if (stopped && contact.MarketingPreferenceAt == at)
        {
            await FollowNumberChangeAsync(businessId, contact, at, optedOut: false, marketingStopped: true, cancellationToken);
        }
    }

    /// <summary>
    /// The customer a 131050 refusal is about: Meta's <c>recipient_id</c>, or, in a report without one, the number
    /// the refused message went to (sends check both the number and its wa_id); null when neither is known.
    /// </summary>
    private async Task<string?> MarketingRecipientAsync(long businessId, StatusUpdate status, CancellationToken cancellationToken) =>
        !string.IsNullOrWhiteSpace(status.RecipientId)
            ? status.RecipientId
            : await db.Messages.AsNoTracking().Where(m => m.BusinessId == businessId && m.Wamid == status.Wamid)
                .Select(m => m.To).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// The 24-hour window counts from the customer's latest message, with the business number it was written to (null
    /// when not known): one delivered late never shortens it. A message to a number the business let go
    /// (<paramref name="toLetGoNumber"/>) opens no window it can send in, so it never replaces one still open then with
    /// another number (the one the business sends from now, or one not known). Likewise a message to the number the business
    /// sends from now, delivered after a later one to another number, opens its window while that is open (at
    /// <paramref name="now"/>): sends can use only that one, and Meta keeps it open whatever was written to the other.
    /// </summary>
    private static void OpenWindow(Contact contact, DateTime at, string? phoneNumberId, bool toLetGoNumber = false, DateTime? now = null)
    {
        if (toLetGoNumber && contact.LastInboundAt is { } last && contact.LastInboundPhoneNumberId != phoneNumberId
            && Sending.Steps.SessionWindowIsOpen.IsOpen(last, at))
        {
            return;
        }

        var replacesAnotherNumbers = !toLetGoNumber && phoneNumberId is not null && now is { } current
            && contact.LastInboundPhoneNumberId is { } writtenTo && writtenTo != phoneNumberId
            && Sending.Steps.SessionWindowIsOpen.IsOpen(at, current);
        if (contact.LastInboundAt is null || at > contact.LastInboundAt || replacesAnotherNumbers)
        {
            contact.LastInboundAt = at;
            contact.LastInboundPhoneNumberId = phoneNumberId;
        }
    }

    /// <summary>
    /// A marketing stop or resume as of <paramref name="at"/>, unless the contact already has a later one (one of the same
    /// second applies: the order they came in is all that tells them apart).
    /// </summary>
    private static void SetMarketing(Contact contact, bool stopped, DateTime at)
    {
        if (contact.MarketingPreferenceAt is { } latest && at < latest)
        {
            return;
        }

        contact.MarketingPreferenceAt = at;
        contact.MarketingOptOutAt = stopped ? at : null;
    }

    /// <summary>
    /// The business's opted_out entries for the customer writing from <paramref name="waId"/>: under the wa_id, or under
    /// the numbers Meta gave it (an entry made through the admin API; a send checks both, SuppressionLookup). The numbers
    /// are read first, so each entry is one probe of the (business_id, phone) index: with an OR around a subquery, SQLite
    /// read every suppression of the business, holding the write gate.
    /// </summary>
    private async Task<IQueryable<Suppression>> OptedOutUnderAsync(long businessId, string waId, CancellationToken cancellationToken)
    {
        var phones = await NumbersWithWaId(db, businessId, waId).ToListAsync(cancellationToken);
        phones.Add(waId);

        // The number such a wa_id is commonly written as (WaIdForms) is the same phone, paired or not: the pair a first
        // message records is not saved yet when its START is applied, and an operator may have entered the number so.
        if (Phones.WaIdForms.WrittenNumberOf(waId) is { } written && !phones.Contains(written))
        {
            phones.Add(written);
        }

        return OptedOutAmong(db, businessId, phones);
    }

    internal static IQueryable<string> NumbersWithWaId(TwaBotDbContext db, long businessId, string waId) =>
        db.RecipientWaIds.Where(r => r.BusinessId == businessId && r.WaId == waId).Select(r => r.Phone);

    internal static IQueryable<Suppression> OptedOutAmong(TwaBotDbContext db, long businessId, List<string> phones) =>
        db.Suppressions.Where(s => s.BusinessId == businessId && s.State == SuppressionStates.OptedOut && phones.Contains(s.Phone));

    private async Task OptOutAsync(long businessId, string phone, string reason, CancellationToken cancellationToken)
    {
        var existing = await db.Suppressions.SingleOrDefaultAsync(s => s.BusinessId == businessId && s.Phone == phone, cancellationToken);
        if (existing is null)
        {
            db.Suppressions.Add(new Suppression
            {
                BusinessId = businessId,
                Phone = phone,
                State = SuppressionStates.OptedOut,
                Reason = reason,
                CreatedAt = time.GetUtcNow().UtcDateTime,
            });
        }
        else if (existing.State != SuppressionStates.Blocked)
        {
            existing.State = SuppressionStates.OptedOut;
            existing.Reason = reason;
        }
    }

    private async Task ApplyTemplateUpdateAsync(TemplateUpdate update, CancellationToken cancellationToken)
    {
        var status = StatusAfter(update.Event);
        var category = string.IsNullOrWhiteSpace(update.Category) ? null : update.Category.Trim().ToUpperInvariant();
        var quality = string.IsNullOrWhiteSpace(update.QualityScore) ? null : update.QualityScore;
        if (status is null && category is null && update.Components is null && quality is null)
        {
            return;
        }

        var businessIds = await db.WhatsAppConnections.Where(w => w.WabaId == update.WabaId).Select(w => w.BusinessId).ToListAsync(cancellationToken);
        // Meta's template id names one template. A name and language may also name a deleted predecessor, so they
        // serve only for an event without an id, or for a row whose id is not known yet (a create awaiting Meta's answer).
        var templates = await db.Templates
            .Where(t => businessIds.Contains(t.BusinessId)
                && (update.MetaTemplateId != null
                    ? t.MetaTemplateId == update.MetaTemplateId || (t.MetaTemplateId == null && t.Name == update.Name && t.Language == update.Language)
                    : t.Name == update.Name && t.Language == update.Language))
            .ToListAsync(cancellationToken);
        if (templates.Count == 0)
        {
            LogUnknownTemplate(logger, update.Name, update.Language, update.MetaTemplateId, update.WabaId);
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        foreach (var template in templates)
        {
            // Meta keeps no order and redelivers for days: a status event older (by the entry's time) than the last
            // one applied, or than the create or sync that last read the status from Meta, is stale; so is a category
            // older than the last category or status applied or read (Meta's status events carry the category of
            // their time). Events without a time apply as they come.
            if (status is not null && !IsStale(update.At, template.StatusEventAt))
            {
                template.Status = status;
                template.StatusReason = update.Reason;
                template.StatusEventAt = update.At ?? template.StatusEventAt;
                template.UpdatedAt = now;
            }

            if (category is not null && !IsStale(update.At, template.CategoryEventAt) && !IsStale(update.At, template.StatusEventAt))
            {
                template.Category = category;
                template.CategoryEventAt = update.At ?? template.CategoryEventAt;
                template.UpdatedAt = now;
            }

            // An edit at Meta: sends check the new texts from now on (the save drops SendLookups' copy).
            if (update.Components is { } components && !IsStale(update.At, template.ComponentsEventAt))
            {
                ApplyComponents(template, components);
                template.ComponentsEventAt = update.At ?? template.ComponentsEventAt;
                template.UpdatedAt = now;
            }

            if (quality is not null && !IsStale(update.At, template.QualityEventAt))
            {
                template.QualityScore = quality;
                template.QualityEventAt = update.At ?? template.QualityEventAt;
                template.UpdatedAt = now;
            }
        }

        await SaveAsync(cancellationToken);
    }

    /// <summary>
    /// Copies an edit's texts. Meta names only a text header, and only link and phone-number buttons: a header that
    /// is no longer named was text and is gone, or is media (which a sync tells); the buttons are replaced only when
    /// Meta named as many as are stored, as otherwise which ones are quick replies or copy codes is not known.
    /// </summary>
    private void ApplyComponents(Templates.Template template, TemplateComponents components)
    {
        template.Content = components.Body;
        if (components.HeaderText is { } header)
        {
            template.HeaderType = "text";
            template.HeaderText = header;
        }
        else if (template.HeaderType is null or "text")
        {
            template.HeaderType = null;
            template.HeaderText = null;
        }

        template.FooterText = components.FooterText;
        var buttons = components.Buttons ?? [];
        if (!template.IsAuthentication && buttons.Count == template.Buttons.Count)
        {
            template.Buttons = [.. buttons];
            template.ButtonTexts = [.. components.ButtonTexts];
            template.ButtonUrls = [.. components.ButtonUrls];
        }
        else if (!template.IsAuthentication
            && buttons.Count(b => b == Templates.TemplateButtons.UrlSuffix) != template.Buttons.Count(b => b == Templates.TemplateButtons.UrlSuffix))
        {
            LogButtonsNotKnown(logger, template.Name, template.Language);
        }

        // Names given at creation stay while they still fit; otherwise the placeholders' own names.
        if (template.Variables.Count != Templates.Template.CountPlaceholders(template.Content))
        {
            template.Variables = [.. Templates.Template.PlaceholderNames(template.Content)];
        }
    }

    private static bool IsStale(DateTime? at, DateTime? latest) => at is { } time && latest is { } last && time < last;

    /// <summary>
    /// The status a template event leaves: the event's own name for Meta's statuses; APPROVED for REINSTATED and
    /// UNARCHIVED, after which it may be sent again. None for FLAGGED (negative feedback, still sendable),
    /// LOCKED and UNLOCKED (about editing it), LIMIT_EXCEEDED (about the account's template count), a category
    /// change alone, or an event this server does not know (logged).
    /// </summary>
    private string? StatusAfter(string templateEvent)
    {
        var name = templateEvent.Trim().ToUpperInvariant();
        switch (name)
        {
            case "APPROVED" or "PENDING" or "REJECTED" or "PAUSED" or "DISABLED" or "IN_APPEAL" or "PENDING_DELETION" or "DELETED" or "ARCHIVED":
                return name;
            case "REINSTATED" or "UNARCHIVED":
                return Templates.Template.Approved;
            case "" or "FLAGGED" or "LOCKED" or "UNLOCKED" or "LIMIT_EXCEEDED":
                return null;
            default:
                LogUnknownTemplateEvent(logger, templateEvent);
                return null;
        }
    }

    /// <summary>
    /// Saves, then lets go of what was saved. One delivery can carry thousands of messages; an EF context
    /// that kept tracking every one would scan them all again at each save (quadratic time, all of it
    /// inside the processor's transaction, which sends wait behind).
    /// </summary>
    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();
    }

    private async Task<Contact> ContactAsync(long businessId, string phone, string? name, CancellationToken cancellationToken)
    {
        var contact = await db.Contacts.SingleOrDefaultAsync(c => c.BusinessId == businessId && c.Phone == phone, cancellationToken);
        if (contact is null)
        {
            contact = new Contact { BusinessId = businessId, Phone = phone };
            db.Contacts.Add(contact);
        }

        contact.Name = name ?? contact.Name;
        return contact;
    }

    /// <summary>The businesses of the payload's numbers; remembered for the applier's batch, which repeats them.</summary>
    private async Task<Dictionary<string, long>> BusinessesByPhoneNumberIdAsync(WebhookPayload payload, CancellationToken cancellationToken)
    {
        var unknown = payload.Statuses.Select(s => s.PhoneNumberId)
            .Concat(payload.Messages.Select(m => m.PhoneNumberId))
            .Concat(payload.Preferences.Select(p => p.PhoneNumberId))
            .Concat(payload.UserIdLinks.Select(l => l.PhoneNumberId))
            .Concat(payload.UserIdChanges.Select(c => c.PhoneNumberId))
            .Where(id => !_businesses.ContainsKey(id))
            .Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            foreach (var (phoneNumberId, businessId) in await db.WhatsAppConnections.Where(w => unknown.Contains(w.PhoneNumberId))
                .Select(w => new { w.PhoneNumberId, w.BusinessId }).ToDictionaryAsync(w => w.PhoneNumberId, w => w.BusinessId, cancellationToken))
            {
                _businesses[phoneNumberId] = businessId;
            }

            // A number no business has now: the business that let it go last (its messages' statuses, its customers' STOP).
            var former = await db.Businesses.Where(b => b.FormerPhoneNumberId != null && unknown.Contains(b.FormerPhoneNumberId))
                .Select(b => new { b.FormerPhoneNumberId, b.Id, b.DisconnectedAt }).ToListAsync(cancellationToken);
            foreach (var business in former.OrderByDescending(b => b.DisconnectedAt))
            {
                if (_businesses.TryAdd(business.FormerPhoneNumberId!, business.Id))
                {
                    _letGoNumbers.Add(business.FormerPhoneNumberId!);
                }
            }
        }

        return _businesses;
    }

    private long? Route(Dictionary<string, long> businesses, string phoneNumberId)
    {
        if (businesses.TryGetValue(phoneNumberId, out var businessId))
        {
            return businessId;
        }

        if (_reportedUnknownNumbers.Add(phoneNumberId))
        {
            LogUnknownNumber(logger, phoneNumberId); // once per number and batch, not once per status
        }

        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Template event for {Name} ({Language}, Meta id {MetaTemplateId}) of WABA {WabaId}, a template this server has no copy of; ignored (sync templates to copy it)")]
    private static partial void LogUnknownTemplate(ILogger logger, string? name, string? language, string? metaTemplateId, string wabaId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Template {Name} ({Language}) was edited at Meta and its buttons may have changed in a way Meta's event does not tell; its texts are updated, its buttons kept (sync templates to read them)")]
    private static partial void LogButtonsNotKnown(ILogger logger, string name, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Template event {Event} is not one this server knows; the template's status is left as it was")]
    private static partial void LogUnknownTemplateEvent(ILogger logger, string @event);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta reported error {Code} ({Title}) for phone_number_id {PhoneNumberId}, not about one message: {Details}")]
    private static partial void LogMetaError(ILogger logger, int? code, string? title, string? phoneNumberId, string details);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook event for phone_number_id {PhoneNumberId}, which no business is connected to; ignored")]
    private static partial void LogUnknownNumber(ILogger logger, string phoneNumberId);
}
