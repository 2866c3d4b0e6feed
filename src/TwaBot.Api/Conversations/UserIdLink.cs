namespace TwaBot.Api.Conversations;

/// <summary>
/// The wa_id a business-scoped user id (BSUID, <c>US.13491208655302741918</c>) was last seen with, per business. Meta
/// withholds the phone number of a customer who adopted a WhatsApp username, and names them by BSUID alone; their
/// window, STOP and marketing preference are still kept under the number, which is what sends use.
/// </summary>
public sealed class UserIdLink
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    /// <summary>Meta's BSUID (or parent BSUID), as written: it is scoped to the business's portfolio.</summary>
    public required string UserId { get; set; }

    /// <summary>The customer's wa_id, the key of their contact row.</summary>
    public required string WaId { get; set; }

    /// <summary>The time of the event that first showed this pair; an older one with another wa_id, arriving later, does not move it back.</summary>
    public DateTime LinkedAt { get; set; }
}
