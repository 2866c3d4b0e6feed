using System.Text.Json;
using static TwaBot.Api.Meta.MetaJson;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Reading business-scoped user ids (BSUIDs, <c>US.13491208655302741918</c>). Field names: <c>contacts[].user_id</c> and
/// <c>parent_user_id</c> (wa_id optional), <c>messages[].from_user_id</c> (from optional), <c>statuses[].recipient_user_id</c>,
/// <c>user_preferences[].user_id</c>, and the <c>system</c> notices' <c>previous_user_id</c> (README, docs/architecture.md).
/// </summary>
public sealed partial record WebhookPayload
{
    /// <summary>
    /// Who wrote: the wa_id in <c>from</c> and the BSUID in <c>from_user_id</c> (or, failing that, the parent BSUID), each
    /// when given. A BSUID written in <c>from</c> is not a number, and is read as the BSUID.
    /// </summary>
    private static (string? From, string? UserId) Sender(JsonElement message)
    {
        var from = WaId(message, "from");
        var userId = UserIdOf(message, "from_user_id") ?? UserIdOf(message, "from_parent_user_id");
        return from is not null && LooksLikeUserId(from) ? (null, userId ?? (from.Length <= MaxUserIdLength ? from : null)) : (from, userId);
    }

    /// <summary>
    /// The BSUIDs a <c>system</c> notice pairs: after a changed number (<c>user_changed_number</c>) the new BSUID is the new
    /// number's and the previous one the old number's; after a changed BSUID alone (<c>user_changed_user_id</c>), the new one
    /// names whoever the previous one named. Meta's changelog (Aug 2026) names <c>system.previous_user_id</c> and
    /// <c>previous_parent_user_id</c>; the new ones are read from <c>system.user_id</c> / <c>parent_user_id</c>, or the message's own.
    /// </summary>
    private static void ReadUserIdNotice(string? phoneNumberId, JsonElement message, InboundMessageUpdate inbound, ChangeLinks seen, List<UserIdChange> changes)
    {
        if (phoneNumberId is null || inbound.Type != "system" || !Has(message, "system", out var system))
        {
            return;
        }

        var kind = Str(system, "type");
        foreach (var (current, previous) in new[] { ("user_id", "previous_user_id"), ("parent_user_id", "previous_parent_user_id") })
        {
            var now = UserIdOf(system, current) ?? (current == "user_id" ? UserIdOf(message, "from_user_id") : UserIdOf(message, "from_parent_user_id"));
            var before = UserIdOf(system, previous);
            if (kind is "user_changed_number" or "customer_changed_number")
            {
                seen.Add(now, inbound.NewWaId, inbound.SentAt);
                seen.Add(before, inbound.From, inbound.SentAt);
            }
            else if (kind == "user_changed_user_id" && now is not null)
            {
                if (inbound.From is { } waId)
                {
                    // Both ids name this number: pairing the previous one too applies what it held.
                    seen.Add(now, waId, inbound.SentAt);
                    seen.Add(before, waId, inbound.SentAt);
                }
                else if (before is not null && before != now)
                {
                    changes.Add(new UserIdChange(phoneNumberId, before, now, inbound.SentAt));
                }
            }
        }
    }

    /// <summary>
    /// A BSUID: an ISO country code, a dot, then letters and digits (<c>US.13491208655302741918</c>); Meta may change the
    /// part after the dot, so only its start is checked.
    /// </summary>
    internal static bool LooksLikeUserId(string value) =>
        value.Length > 3 && char.IsAsciiLetter(value[0]) && char.IsAsciiLetter(value[1]) && value[2] == '.';

    // Meta's are some 25 characters; a far longer one is no BSUID, and would be kept as a row and a log line each.
    private const int MaxUserIdLength = 128;

    private static string? UserIdOf(JsonElement element, string name) =>
        Str(element, name)?.Trim() is { Length: > 0 and <= MaxUserIdLength } id ? id : null;

    /// <summary>A wa_id that can be a contact's key: anything but a BSUID in its place.</summary>
    private static string? PhoneWaId(JsonElement element, string name) =>
        WaId(element, name) is { } id && !LooksLikeUserId(id) ? id : null;

    /// <summary>
    /// The BSUID–wa_id pairs one change shows, starting with its <c>contacts[]</c> (<c>user_id</c> and <c>parent_user_id</c>
    /// beside <c>wa_id</c>; a customer with a username may have no <c>wa_id</c>), and the contacts' profile names.
    /// Contacts carry no time of their own: their pairs count as of the change's latest event.
    /// </summary>
    private sealed class ChangeLinks
    {
        private readonly string? _phoneNumberId;
        private readonly List<(string UserId, string WaId, DateTime? At)> _pairs = [];
        private readonly Dictionary<string, string?> _names = new(StringComparer.Ordinal);
        private DateTime? _latest;

        public ChangeLinks(string? phoneNumberId, JsonElement value)
        {
            _phoneNumberId = phoneNumberId;
            foreach (var contact in Array(value, "contacts"))
            {
                var waId = PhoneWaId(contact, "wa_id");
                var name = Has(contact, "profile", out var profile) ? Str(profile, "name") : null;
                foreach (var key in new[] { waId, UserIdOf(contact, "user_id"), UserIdOf(contact, "parent_user_id") }.OfType<string>())
                {
                    _names.TryAdd(key, name);
                    if (waId is not null && key != waId)
                    {
                        _pairs.Add((key, waId, null));
                    }
                }
            }
        }

        public string? NameOf(string? key) => key is null ? null : _names.GetValueOrDefault(key);

        /// <summary>The BSUID and parent BSUID an event names (under its own field names) beside <paramref name="waId"/>.</summary>
        public void Pair(JsonElement element, string userIdField, string parentUserIdField, string? waId, DateTime at)
        {
            _latest = _latest is { } latest && latest > at ? latest : at;
            Add(UserIdOf(element, userIdField), waId, at);
            Add(UserIdOf(element, parentUserIdField), waId, at);
        }

        public void Add(string? userId, string? waId, DateTime at)
        {
            if (userId is not null && waId is not null && !LooksLikeUserId(waId))
            {
                _pairs.Add((userId, waId, at));
            }
        }

        public IEnumerable<UserIdLinkUpdate> All(EventTimes times) =>
            _phoneNumberId is null
                ? []
                : _pairs.Select(p => new UserIdLinkUpdate(_phoneNumberId, p.UserId, p.WaId, p.At ?? _latest ?? times.ReceivedAt));
    }
}
