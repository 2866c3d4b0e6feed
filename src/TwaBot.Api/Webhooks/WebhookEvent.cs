namespace TwaBot.Api.Webhooks;

/// <summary>
/// A webhook delivery from Meta exactly as received (the durable inbox). Stored before the 200
/// leaves, applied afterwards in the background. The body's hash is unique, so a redelivery or
/// replay of the same bytes is stored once.
/// </summary>
public sealed class WebhookEvent
{
    public long Id { get; set; }

    public DateTime ReceivedAt { get; set; }

    public required byte[] BodySha256 { get; set; }

    public required byte[] Body { get; set; }

    public DateTime? AppliedAt { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }
}
