namespace TwaBot.Api.Messages;

/// <summary>Every status Meta reported for a message, in the order received: its history.</summary>
public sealed class MessageStatusEvent
{
    public long Id { get; set; }

    public long MessageId { get; set; }

    public required string Status { get; set; }

    /// <summary>Meta's timestamp of the event.</summary>
    public DateTime OccurredAt { get; set; }

    public int? ErrorCode { get; set; }

    public string? ErrorTitle { get; set; }

    public DateTime ReceivedAt { get; set; }
}
