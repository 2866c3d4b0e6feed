namespace TwaBot.Api.Conversations;

/// <summary>
/// The WhatsApp id Meta gave a number the business sends to, when the two differ (Meta: a user's
/// <c>wa_id</c> "may not always match" the number sent to; Brazilian mobiles often lose their ninth
/// digit, Mexican and Argentine ones gain one: <see cref="Phones.WaIdForms"/>). The customer's messages, STOP included, come from the wa_id, so a send to the number also
/// checks the suppression and the 24-hour window kept under it.
/// </summary>
public sealed class RecipientWaId
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    /// <summary>The number as sends give it, normalized.</summary>
    public required string Phone { get; set; }

    /// <summary>Meta's <c>contacts[0].wa_id</c> from the latest accepted send to <see cref="Phone"/>.</summary>
    public required string WaId { get; set; }

    public DateTime UpdatedAt { get; set; }
}
