namespace TwaBot.Api.Webhooks;

/// <summary>A customer's message, kept by Meta's id so a redelivered one is applied once.</summary>
public sealed class InboundMessage
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    public required string Wamid { get; set; }

    public required string From { get; set; }

    public required string Type { get; set; }

    public string? Text { get; set; }

    public DateTime SentAt { get; set; }
}
