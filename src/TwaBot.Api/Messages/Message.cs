namespace TwaBot.Api.Messages;

/// <summary>
/// One message a business sent through the API. Written before Meta is called (so a crash or a
/// timeout leaves a trace), completed with Meta's id, then moved along by delivery webhooks.
/// </summary>
public sealed class Message
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    public long ApiKeyId { get; set; }

    /// <summary>Meta's id (<c>wamid.…</c>), the public <c>message_id</c>; null until Meta accepts.</summary>
    public string? Wamid { get; set; }

    /// <summary>
    /// Our own id (<see cref="MessageReferences"/>): the callback data Meta echoes in its status reports, and the
    /// <c>message_id</c> of a send whose outcome is unknown until Meta's reports give the wamid.
    /// </summary>
    public required string Reference { get; set; }

    /// <summary>The recipient, normalized.</summary>
    public required string To { get; set; }

    /// <summary><see cref="MessageKinds"/>.</summary>
    public required string Kind { get; set; }

    public string? TemplateName { get; set; }

    /// <summary><see cref="ApiStatuses"/>: our side of the send.</summary>
    public required string ApiStatus { get; set; }

    /// <summary>sent, delivered, read or failed; null before Meta accepted.</summary>
    public string? DeliveryStatus { get; set; }

    /// <summary>Order of <see cref="DeliveryStatus"/> for forward-only updates (<see cref="DeliveryStatuses.Rank"/>).</summary>
    public int StatusRank { get; set; }

    public int? FailureCode { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>The sending key's daily-cap day (the business's local date) this message counts in, unless it failed.</summary>
    public DateOnly QuotaDay { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>When Meta accepted the message.</summary>
    public DateTime? SentAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>
    /// The <c>Idempotency-Key</c> the send came with, written with the row before Meta is called: a retry with
    /// it finds the send even when its answer was never kept (the server stopped, or could not write).
    /// </summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>
    /// SHA-256 of the request the key came with (see <see cref="Sending.Idempotency.IdempotencyRequest"/>), encrypted
    /// (<see cref="Sending.Idempotency.IdempotencyProtector"/>).
    /// </summary>
    public byte[]? ProtectedIdempotencyRequestSha256 { get; set; }
}

public static class MessageKinds
{
    public const string Template = "template";
    public const string Text = "text";
    public const string Media = "media";

    /// <summary>A send through an AUTHENTICATION template: send-otp's, and send-template's or quick-send's to one.</summary>
    public const string Otp = "otp";
}

/// <summary><c>api_status</c>: whether we accepted the send and Meta took it.</summary>
public static class ApiStatuses
{
    /// <summary>Written, Meta not yet answered (or the answer was lost: a webhook settles it).</summary>
    public const string Pending = "pending";

    public const string Success = "success";

    /// <summary>Refused by Meta or never sent: it does not count against the daily cap.</summary>
    public const string Failed = "failed";

    /// <summary>
    /// Left pending past any plausible answer (the server stopped mid-send, or Meta never answered and
    /// no webhook came): Meta may have sent it, so it keeps counting against the daily cap.
    /// </summary>
    public const string Unknown = "unknown";
}
