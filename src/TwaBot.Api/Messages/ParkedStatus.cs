namespace TwaBot.Api.Messages;

/// <summary>
/// A status whose message is not known yet. Meta (and the sandbox) can report <c>sent</c> before our
/// send has stored Meta's id; the status waits here and is applied when the message appears.
/// </summary>
public sealed class ParkedStatus
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    public required string Wamid { get; set; }

    /// <summary>
    /// Our message id from <c>biz_opaque_callback_data</c>, when Meta echoed it; kept for diagnosis only:
    /// a parked report is applied to the message with its wamid, since callback data can name another's.
    /// </summary>
    public long? MessageId { get; set; }

    public required string Status { get; set; }

    public DateTime OccurredAt { get; set; }

    public int? ErrorCode { get; set; }

    public string? ErrorTitle { get; set; }

    public string? ErrorDetails { get; set; }

    public DateTime ReceivedAt { get; set; }

    /// <summary>
    /// A message with this wamid has appeared since the report was parked: set by triggers on <c>messages</c>
    /// (whoever writes the wamid), so the processor re-tries these rows only, not every parked one.
    /// </summary>
    public bool MessageFound { get; set; }
}
