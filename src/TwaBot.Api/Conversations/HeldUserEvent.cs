namespace TwaBot.Api.Conversations;

/// <summary>
/// What a customer named only by a business-scoped user id (BSUID) has said while no webhook had paired that BSUID with a
/// phone number: applied to the number when a later webhook pairs them (WebhookApplier). One row per business and BSUID,
/// keeping only what decides a contact's state, each with its own time: the latest message (the 24-hour window), the latest
/// STOP / START, the latest marketing preference. Kept for <see cref="HeldUserEventCounts.KeptFor"/> after the last event held.
/// </summary>
public sealed class HeldUserEvent
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    /// <summary>Meta's BSUID (or parent BSUID), as written.</summary>
    public required string UserId { get; set; }

    /// <summary>The profile name of the latest message held, for the contact made when applied.</summary>
    public string? Name { get; set; }

    /// <summary>The time of the latest message that opens the window (not a group's, not a notice), or null.</summary>
    public DateTime? LastInboundAt { get; set; }

    /// <summary>The latest keyword by its time: true for STOP, false for START, null for none.</summary>
    public bool? OptedOut { get; set; }

    public DateTime? OptKeywordAt { get; set; }

    /// <summary>The latest marketing preference by its time: true for a stop, false for a resume, null for none.</summary>
    public bool? MarketingStopped { get; set; }

    public DateTime? MarketingPreferenceAt { get; set; }

    /// <summary>When the last event held here was received; the row expires <see cref="HeldUserEventCounts.KeptFor"/> after it.</summary>
    public DateTime ReceivedAt { get; set; }
}
