namespace TwaBot.Api.Webhooks;

/// <summary>
/// A webhook delivery from Meta exactly as received, moved here from the <see cref="WebhookInboxFile"/>
/// and applied. (<see cref="EventTime"/>, <see cref="BodySha256"/>) is unique, so a redelivery or replay
/// of the same bytes is stored and applied once.
/// </summary>
public sealed class WebhookEvent
{
    public long Id { get; set; }

    public DateTime ReceivedAt { get; set; }

    /// <summary>
    /// The body's <see cref="WebhookPayload.EarliestEventTime"/>. It is read from the body, so the same
    /// bytes always give the same key; it leads the key so that new keys go to the end of the unique
    /// index (Meta reports events soon after they happen) instead of each to a random page of it.
    /// </summary>
    public long EventTime { get; set; }

    public required byte[] BodySha256 { get; set; }

    /// <summary>Empty once the delivery was applied long ago (<see cref="WebhookBodyPruner"/>).</summary>
    public required byte[] Body { get; set; }

    public DateTime? AppliedAt { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }
}
