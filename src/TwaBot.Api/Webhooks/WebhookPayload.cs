using System.Globalization;
using System.Text;
using System.Text.Json;
using static TwaBot.Api.Meta.MetaJson;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// What one Meta webhook delivery says, flattened: a delivery batches entries, each with changes,
/// each with any number of statuses, messages and preferences, and every one of them is read.
/// </summary>
public sealed partial record WebhookPayload(
    IReadOnlyList<StatusUpdate> Statuses,
    IReadOnlyList<InboundMessageUpdate> Messages,
    IReadOnlyList<PreferenceUpdate> Preferences,
    IReadOnlyList<TemplateUpdate> TemplateUpdates)
{
    /// <summary>
    /// Unix seconds of the earliest timestamp the delivery states for a status, message or preference, as
    /// stated (a future one too); 0 when it states none. Never the time of receipt, so every redelivery of
    /// the same bytes gives the same value.
    /// </summary>
    public long EarliestEventTime { get; private init; }

    /// <summary>
    /// Meta's errors about the number or the app rather than one message (<c>value.errors</c> of a messages change,
    /// such as a throughput limit or a payment problem): nothing to apply, but an operator must hear of them.
    /// </summary>
    public IReadOnlyList<WebhookError> Errors { get; private init; } = [];

    /// <summary>
    /// Every pair of a business-scoped user id and a wa_id the delivery shows together (<c>contacts[]</c>, a status's
    /// recipient, a message's sender, a changed number), so a later event that names only the BSUID finds the number.
    /// </summary>
    public IReadOnlyList<UserIdLinkUpdate> UserIdLinks { get; private init; } = [];

    /// <summary>Meta's notices that a customer's BSUID changed while their number was not shared (<c>user_changed_user_id</c>).</summary>
    public IReadOnlyList<UserIdChange> UserIdChanges { get; private init; } = [];

    /// <summary>
    /// Reads a delivery received at <paramref name="receivedAt"/>; throws <see cref="JsonException"/> when it
    /// is not JSON. An event whose timestamp is missing, unreadable, beyond any calendar or in the future
    /// counts as happening when it was received: the delivery's other events are not lost with it, and a
    /// far-future time cannot hold a window open or outrank every later STOP and START.
    /// </summary>
    public static WebhookPayload Parse(ReadOnlySpan<byte> body, DateTime receivedAt)
    {
        // A byte-order mark is signed with the body but is no JSON: read past it (as the sends do), or the
        // delivery, already answered 200 and so never sent again, would be kept unread.
        var reader = new Utf8JsonReader(body.StartsWith(Encoding.UTF8.Preamble) ? body[Encoding.UTF8.Preamble.Length..] : body);
        var times = new EventTimes(receivedAt);
        using var document = JsonDocument.ParseValue(ref reader);
        var statuses = new List<StatusUpdate>();
        var messages = new List<InboundMessageUpdate>();
        var preferences = new List<PreferenceUpdate>();
        var templates = new List<TemplateUpdate>();
        var errors = new List<WebhookError>();
        var links = new List<UserIdLinkUpdate>();
        var userIdChanges = new List<UserIdChange>();
        foreach (var entry in Array(document.RootElement, "entry"))
        {
            var wabaId = Str(entry, "id");
            foreach (var change in Array(entry, "changes"))
            {
                if (!Has(change, "value", out var value) || value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var phoneNumberId = Has(value, "metadata", out var metadata) ? Str(metadata, "phone_number_id") : null;
                switch (Str(change, "field"))
                {
                    case "messages":
                    {
                        var seen = new ChangeLinks(phoneNumberId, value);
                        foreach (var status in Array(value, "statuses"))
                        {
                            if (ReadStatus(phoneNumberId, status, times) is { } update)
                            {
                                statuses.Add(update);
                                seen.Pair(status, "recipient_user_id", "recipient_parent_user_id", update.RecipientId, update.OccurredAt);
                            }
                        }

                        errors.AddRange(Array(value, "errors").Where(e => e.ValueKind == JsonValueKind.Object).Select(e => new WebhookError(
                            phoneNumberId, WholeNumber(e, "code"), Str(e, "title") ?? Str(e, "message"),
                            Has(e, "error_data", out var data) ? Str(data, "details") : null)));
                        foreach (var message in Array(value, "messages"))
                        {
                            if (ReadMessage(phoneNumberId, message, seen, times) is { } inbound)
                            {
                                messages.Add(inbound);
                                ReadUserIdNotice(phoneNumberId, message, inbound, seen, userIdChanges);
                            }

                            if (ReadSystemPreference(phoneNumberId, message, times) is { } preference)
                            {
                                preferences.Add(preference);
                            }
                        }

                        links.AddRange(seen.All(times));
                        break;
                    }

                    case "user_preferences":
                    {
                        var seen = new ChangeLinks(phoneNumberId, value);
                        foreach (var item in Array(value, "user_preferences"))
                        {
                            if (ReadPreference(phoneNumberId, item, times) is { } preference)
                            {
                                preferences.Add(preference);
                                seen.Pair(item, "user_id", "parent_user_id", preference.WaId, preference.At);
                            }
                        }

                        links.AddRange(seen.All(times));
                        break;
                    }
                    case "message_template_status_update" when wabaId is not null:
                        templates.Add(TemplateEvent(wabaId, entry, value, times, Str(value, "event") ?? "", Str(value, "message_template_category"))
                            with { Reason = StatusReason(value) });
                        break;
                    case "template_category_update" when wabaId is not null:
                        // new_category is the category now, both when Meta announces a change and when it made one.
                        templates.Add(TemplateEvent(wabaId, entry, value, times, "", Str(value, "new_category")));
                        break;
                    case "message_template_components_update" when wabaId is not null:
                        templates.Add(TemplateEvent(wabaId, entry, value, times, "", null) with { Components = ReadComponents(value) });
                        break;
                    case "message_template_quality_update" when wabaId is not null:
                        templates.Add(TemplateEvent(wabaId, entry, value, times, "", null)
                            with { QualityScore = Templates.Template.KnownQualityScore(Str(value, "new_quality_score")) });
                        break;
                }
            }
        }

        return new WebhookPayload(statuses, messages, preferences, templates)
        {
            EarliestEventTime = times.EarliestStated, Errors = errors, UserIdLinks = links, UserIdChanges = userIdChanges,
        };
    }

    /// <summary>
    /// A template event of the WABA <paramref name="wabaId"/>, about the template the change names (Meta's id, name and
    /// language), at the entry's time; <paramref name="statusEvent"/> is "" for an event that sets no status.
    /// </summary>
    private static TemplateUpdate TemplateEvent(
        string wabaId, JsonElement entry, JsonElement value, EventTimes times, string statusEvent, string? category) => new(
        wabaId, statusEvent, IdString(value, "message_template_id"), Str(value, "message_template_name"),
        Str(value, "message_template_language"), times.TriggerOf(entry), category);

    /// <summary>
    /// Meta's reason for a template's status (a rejection's code; NONE on an approval), the notice it may add
    /// (<c>other_info</c>, such as a pause's length) and, on a rejection for INVALID_FORMAT, its <c>rejection_info</c>: what
    /// is wrong and what to change, as one text an admin reads; null when it gives none of them.
    /// </summary>
    private static string? StatusReason(JsonElement value)
    {
        var reason = Said(Str(value, "reason"));
        var notice = Has(value, "other_info", out var info) ? Said(Str(info, "description")) : null;
        // Meta adds rejection_info to a rejection only (one for INVALID_FORMAT); on any other status it would say nothing true.
        // The event is read as its status is (WebhookApplier.StatusAfter): in any case, padding aside.
        var rejection = string.Equals(Str(value, "event")?.Trim(), "REJECTED", StringComparison.OrdinalIgnoreCase)
            && Has(value, "rejection_info", out var given) ? given : default;
        var wrong = Said(Str(rejection, "reason"));
        var recommendation = Said(Str(rejection, "recommendation"));
        var text = string.Join(": ", new[] { string.Equals(reason, "NONE", StringComparison.OrdinalIgnoreCase) ? null : reason, notice, wrong }
            .OfType<string>().Distinct(StringComparer.Ordinal));
        if (!string.IsNullOrEmpty(recommendation))
        {
            // Meta's reason is a sentence, usually closed: the recommendation follows as one more.
            var close = text.Length == 0 ? "" : text[^1] is '.' or '!' or '?' ? " " : ". ";
            text = $"{text}{close}Meta recommends: {recommendation}";
        }

        return text.Length == 0 ? null : Unicode.TextCut.Prefix(text, MaxStatusReasonLength).ToString();
    }

    /// <summary>
    /// One of Meta's texts as a status reason keeps it: on one line, since the admin API and send hints show it; null when blank.
    /// </summary>
    private static string? Said(string? text) => text is null ? null
        : Unicode.ControlCharacters.AsSpaces(text).Trim() is { Length: > 0 } said ? said : null;

    /// <summary>
    /// An edited template's texts and buttons as Meta's components event states them, or null without a body (blank
    /// is none: it would leave sends checked against an empty template). Meta
    /// leaves out a header that is not text, a missing footer, and every button but links and phone numbers.
    /// </summary>
    private static TemplateComponents? ReadComponents(JsonElement value) =>
        Str(value, "message_template_element") is not { } body || string.IsNullOrWhiteSpace(body) ? null // every template has a body
        : new TemplateComponents(body, Str(value, "message_template_title"), Str(value, "message_template_footer"),
            Has(value, "message_template_buttons", out var buttons) && buttons.ValueKind == JsonValueKind.Array
                ? [.. Array(value, "message_template_buttons").Select(b => Templates.TemplateButtons.Of(
                    Str(b, "message_template_button_type"), Str(b, "message_template_button_url")))]
                : null)
        {
            ButtonTexts = [.. Array(value, "message_template_buttons").Select(b => Str(b, "message_template_button_text") ?? "")],
            ButtonUrls = [.. Array(value, "message_template_buttons").Select(b => Str(b, "message_template_button_url") ?? "")],
        };

    private static StatusUpdate? ReadStatus(string? phoneNumberId, JsonElement status, EventTimes times)
    {
        var wamid = Str(status, "id");
        var name = Str(status, "status");
        // A payment's progress (India's WhatsApp payments: type "payment", status captured, pending or failed) shares
        // the array, but says nothing about delivering a message: its "failed" is the payment's.
        if (phoneNumberId is null || wamid is null || name is null || Str(status, "type") == "payment")
        {
            return null;
        }

        var error = Array(status, "errors").Cast<JsonElement?>().FirstOrDefault();
        return new StatusUpdate(
            phoneNumberId, wamid, name, times.Of(status), PhoneWaId(status, "recipient_id"),
            Str(status, "biz_opaque_callback_data"),
            error is { } e ? WholeNumber(e, "code") : null,
            error is { } t ? Str(t, "title") ?? Str(t, "message") : null,
            error is { } d && Has(d, "error_data", out var data) ? Str(data, "details") : null);
    }

    /// <summary>
    /// A customer's message. A customer with a username may have no <c>from</c> (their number withheld), only
    /// <c>from_user_id</c>: the applier then finds the number a pair in this delivery or an earlier one gave the BSUID.
    /// </summary>
    private static InboundMessageUpdate? ReadMessage(string? phoneNumberId, JsonElement message, ChangeLinks seen, EventTimes times)
    {
        var (from, userId) = Sender(message);
        var wamid = Str(message, "id");
        if (phoneNumberId is null || (from is null && userId is null) || wamid is null)
        {
            return null;
        }

        var sentAt = times.Of(message);
        var type = Str(message, "type") ?? "unknown";
        if (type != "system")
        {
            // A notice's ids are about a change (ReadUserIdNotice), not plainly its sender's.
            seen.Pair(message, "from_user_id", "from_parent_user_id", from, sentAt);
        }

        var text = type switch
        {
            "text" when Has(message, "text", out var body) => Str(body, "body"),
            "button" when Has(message, "button", out var button) => Str(button, "text"),
            "interactive" when Has(message, "interactive", out var interactive) => ReplyTitle(interactive),
            _ => null,
        };
        return new InboundMessageUpdate(phoneNumberId, wamid, from, type, text, sentAt, seen.NameOf(from ?? userId), from is null ? null : NewWaId(message, from))
        {
            GroupId = Str(message, "group_id") is { Length: > 0 } group ? group : null,
            UserId = userId,
        };
    }

    /// <summary>
    /// The customer's new wa_id in Meta's <c>user_changed_number</c> notice (sent from the old one): <c>system.wa_id</c>,
    /// or <c>new_wa_id</c> in webhooks of Graph versions before v12.0. Meta's older reference names the type
    /// <c>customer_changed_number</c>. A BSUID in its place names no number: no contact or STOP is keyed by it.
    /// </summary>
    private static string? NewWaId(JsonElement message, string from) =>
        Str(message, "type") == "system" && Has(message, "system", out var system)
        && Str(system, "type") is "user_changed_number" or "customer_changed_number"
        && (PhoneWaId(system, "wa_id") ?? PhoneWaId(system, "new_wa_id")) is { Length: > 0 } newWaId && newWaId != from
            ? newWaId
            : null;

    /// <summary>
    /// The label of the reply button or list row the customer tapped: like a template's quick-reply button
    /// (<c>button.text</c>), what the customer chose to say, so a tap on "Stop" is a STOP.
    /// </summary>
    private static string? ReplyTitle(JsonElement interactive) =>
        Str(interactive, "type") is "button_reply" or "list_reply" && Has(interactive, Str(interactive, "type")!, out var reply)
            ? Str(reply, "title")
            : null;

    /// <summary>The older shape of a marketing preference: a <c>system</c> message of type <c>user_preference_changed</c>.</summary>
    private static PreferenceUpdate? ReadSystemPreference(string? phoneNumberId, JsonElement message, EventTimes times) =>
        phoneNumberId is not null && Str(message, "type") == "system" && Sender(message) is var (from, userId) && (from ?? userId) is not null
        && Has(message, "system", out var system) && Str(system, "type") == "user_preference_changed" && Str(system, "marketing") is { } marketing
            ? new PreferenceUpdate(phoneNumberId, from, "marketing_messages", marketing, times.Of(message)) { UserId = userId }
            : null;

    /// <summary>A <c>user_preferences</c> entry, which names the customer by <c>wa_id</c>, by <c>user_id</c> (BSUID), or both.</summary>
    private static PreferenceUpdate? ReadPreference(string? phoneNumberId, JsonElement preference, EventTimes times)
    {
        var waId = PhoneWaId(preference, "wa_id");
        var userId = UserIdOf(preference, "user_id") ?? UserIdOf(preference, "parent_user_id");
        return phoneNumberId is null || (waId is null && userId is null)
            ? null
            : new PreferenceUpdate(phoneNumberId, waId, Str(preference, "category") ?? "", Str(preference, "value") ?? "", times.Of(preference))
            {
                UserId = userId,
            };
    }

    /// <summary>
    /// A customer's wa_id as the key their window, STOP and sends share. Meta writes a string of digits; a <c>+</c> or
    /// separators around them, or the digits as a JSON number, name the same number. Anything else (a business-scoped
    /// user id) is kept as written, less the spaces around it: a BSUID among them is still seen to be one, and not read as a
    /// customer's number (a contact and a STOP keyed by it), nor held under an id no pair would ever name.
    /// </summary>
    private static string? WaId(JsonElement element, string name) =>
        IdString(element, name) is not { } value ? null : Phones.WaIdForms.DigitsOf(value) ?? value.Trim();

    /// <summary>The events' times in one delivery, and the earliest of those it states.</summary>
    private sealed class EventTimes(DateTime receivedAt)
    {
        private DateTime? _earliestStated;

        public DateTime ReceivedAt => receivedAt;

        public long EarliestStated => _earliestStated is { } at ? new DateTimeOffset(at, TimeSpan.Zero).ToUnixTimeSeconds() : 0;

        /// <summary>An event's <c>timestamp</c>, or when it was received if that time cannot be right (see <see cref="Parse"/>).</summary>
        public DateTime Of(JsonElement element)
        {
            var stated = UnixTime(element, "timestamp");
            if (stated is { } time && (_earliestStated is null || time < _earliestStated))
            {
                _earliestStated = time;
            }

            return stated is { } at && at <= receivedAt + ClockSkewAllowed ? at : receivedAt;
        }

        /// <summary>
        /// When Meta triggered an entry (its <c>time</c>), or null when it has none Meta would write. Only template
        /// events are ordered by it, so an odd value makes them apply in arrival order instead; one in the future
        /// counts as the time of receipt, or it would outrank every later event and sync of the template.
        /// </summary>
        public DateTime? TriggerOf(JsonElement entry) =>
            UnixTime(entry, "time") is { } at ? (at <= receivedAt + ClockSkewAllowed ? at : receivedAt) : null;
    }

    /// <summary>How far Meta's clock may run ahead of ours before an event's time counts as wrong.</summary>
    private static readonly TimeSpan ClockSkewAllowed = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Meta's timestamps: Unix seconds, as a string in messages and statuses, a number in preferences; null when
    /// missing, unreadable, or a time no calendar holds.
    /// </summary>
    private static DateTime? UnixTime(JsonElement element, string name)
    {
        long seconds = 0;
        var read = Has(element, name, out var value) && value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt64(out seconds),
            JsonValueKind.String => long.TryParse(Text(value), NumberStyles.None, CultureInfo.InvariantCulture, out seconds),
            _ => false,
        };
        return read && seconds >= MinUnixSeconds && seconds <= MaxUnixSeconds ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime : null;
    }

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>A template status's reason is shown in answers: a sentence or two, so an outsized one is cut.</summary>
    private const int MaxStatusReasonLength = 1000;
}

public sealed record StatusUpdate(
    string PhoneNumberId, string Wamid, string Status, DateTime OccurredAt, string? RecipientId, string? CallbackData,
    int? ErrorCode, string? ErrorTitle, string? ErrorDetails);

/// <summary>
/// A customer's message; <paramref name="From"/> is their wa_id, null when Meta withheld it and the delivery does not pair
/// their BSUID with one; <paramref name="NewWaId"/> is the number they moved to, for Meta's notice that they changed it.
/// </summary>
public sealed record InboundMessageUpdate(
    string PhoneNumberId, string Wamid, string? From, string Type, string? Text, DateTime SentAt, string? ProfileName, string? NewWaId = null)
{
    /// <summary>The group (Meta's Groups API) the customer wrote in, or null for a message to the business alone.</summary>
    public string? GroupId { get; init; }

    /// <summary>The sender's business-scoped user id (<c>from_user_id</c>), when Meta gives one.</summary>
    public string? UserId { get; init; }
}

/// <summary>An error Meta reported for a number (or the app) rather than for one message.</summary>
public sealed record WebhookError(string? PhoneNumberId, int? Code, string? Title, string? Details);

/// <summary>A marketing preference; <paramref name="WaId"/> is null when it names the customer by BSUID alone (<see cref="UserId"/>).</summary>
public sealed record PreferenceUpdate(string PhoneNumberId, string? WaId, string Category, string Value, DateTime At)
{
    public string? UserId { get; init; }
}

/// <summary>A business-scoped user id seen with a wa_id, as of <paramref name="At"/>.</summary>
public sealed record UserIdLinkUpdate(string PhoneNumberId, string UserId, string WaId, DateTime At);

/// <summary>Meta's notice that a customer's BSUID changed from <paramref name="PreviousUserId"/> to <paramref name="UserId"/>.</summary>
public sealed record UserIdChange(string PhoneNumberId, string PreviousUserId, string UserId, DateTime At);

/// <summary>
/// A template's review or lifecycle event (<paramref name="Event"/> empty for a category change alone);
/// <paramref name="At"/> is the entry's <c>time</c>, when Meta gave one; <paramref name="Category"/> the category Meta now gives it.
/// </summary>
public sealed record TemplateUpdate(
    string WabaId, string Event, string? MetaTemplateId, string? Name, string? Language, DateTime? At, string? Category)
{
    /// <summary>Why Meta gave the status the event sets (<see cref="WebhookPayload"/>), or null.</summary>
    public string? Reason { get; init; }

    /// <summary>The template's texts and buttons after an edit at Meta, or null for an event that changes none.</summary>
    public TemplateComponents? Components { get; init; }

    /// <summary>The quality score Meta now gives the template (GREEN, YELLOW, RED, UNKNOWN), or null for an event about something else.</summary>
    public string? QualityScore { get; init; }
}

/// <summary>
/// A template's texts after an edit; <paramref name="Buttons"/> are the link and phone-number buttons only (what a
/// send gives each, <see cref="Templates.TemplateButtons"/>), or null when Meta listed none.
/// </summary>
public sealed record TemplateComponents(string Body, string? HeaderText, string? FooterText, IReadOnlyList<string>? Buttons)
{
    /// <summary>The labels of <see cref="Buttons"/>, in the same order ("" where Meta gave none).</summary>
    public IReadOnlyList<string> ButtonTexts { get; init; } = [];

    /// <summary>The links of <see cref="Buttons"/>, in the same order ("" for a phone-number button).</summary>
    public IReadOnlyList<string> ButtonUrls { get; init; } = [];
}
