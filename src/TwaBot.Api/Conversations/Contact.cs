namespace TwaBot.Api.Conversations;

/// <summary>A customer who wrote to the business: when they last did (the 24-hour window) and their preferences.</summary>
public sealed class Contact
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    /// <summary>Normalized digits (Meta's wa_id).</summary>
    public required string Phone { get; set; }

    public string? Name { get; set; }

    /// <summary>
    /// The timestamp of their latest message; never moves backwards, but for a message to the number the business sends
    /// from now, delivered after a later one to another number, whose window is still open (WebhookApplier.OpenWindow).
    /// </summary>
    public DateTime? LastInboundAt { get; set; }

    /// <summary>
    /// The business's WhatsApp number (phone_number_id) that latest message was written to: Meta's window is the
    /// customer's with that number, so a business that sends from another one since has no open window. Null when not
    /// known (a message applied before this was kept, or held under a business-scoped user id): the window is the
    /// business's whatever its number.
    /// </summary>
    public string? LastInboundPhoneNumberId { get; set; }

    /// <summary>
    /// The wa_id Meta's latest notice says this customer changed their number to (<c>user_changed_number</c>), and the
    /// notice's time: a STOP or marketing stop they wrote before it, which Meta delivered after it, follows them there too.
    /// </summary>
    public string? NumberChangedTo { get; set; }

    public DateTime? NumberChangedAt { get; set; }

    /// <summary>Set when Meta reports the user stopped marketing messages (user_preferences), cleared on resume.</summary>
    public DateTime? MarketingOptOutAt { get; set; }

    /// <summary>
    /// The timestamp of the latest marketing preference (stop or resume) applied. Meta does not keep
    /// webhooks in order and redelivers failed ones for days, so an older preference arriving later changes nothing.
    /// </summary>
    public DateTime? MarketingPreferenceAt { get; set; }

    /// <summary>
    /// The timestamp of the latest STOP / START-type message applied; an older one arriving later
    /// (out of order, or redelivered) does not undo it.
    /// </summary>
    public DateTime? OptKeywordAt { get; set; }
}
