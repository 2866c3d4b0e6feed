using TwaBot.Api.ApiKeys;

namespace TwaBot.Api.Businesses;

/// <summary>A TwaBot customer: the tenant every key, template, contact and message belongs to.</summary>
public sealed class Business
{
    public long Id { get; set; }

    public required string Name { get; set; }

    public Plan Plan { get; set; }

    /// <summary>IANA zone; daily limits reset at midnight here.</summary>
    public required string TimeZone { get; set; }

    public DateTime CreatedAt { get; set; }

    public WhatsAppConnection? WhatsApp { get; set; }

    /// <summary>
    /// The WhatsApp number (phone_number_id) the business last let go, and when. Meta still sends webhooks for
    /// it: late statuses of its messages, a customer's STOP. While no business has the number they are applied here (and
    /// the statuses of its messages after another business connects it too: <see cref="Messages.StatusReports"/>).
    /// </summary>
    public string? FormerPhoneNumberId { get; set; }

    public DateTime? DisconnectedAt { get; set; }

    public List<ApiKey> ApiKeys { get; set; } = [];
}
