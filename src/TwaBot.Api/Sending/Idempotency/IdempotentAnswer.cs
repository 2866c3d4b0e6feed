namespace TwaBot.Api.Sending.Idempotency;

/// <summary>
/// The answer to a send made with an <c>Idempotency-Key</c>, kept for <see cref="IdempotencyKeys.KeptFor"/>
/// once Meta accepted the message or may have: the same key with the same request gets this answer
/// again instead of sending a second message.
/// </summary>
public sealed class IdempotentAnswer
{
    public long Id { get; set; }

    public long ApiKeyId { get; set; }

    /// <summary>The key as the client gave it (unique per API key).</summary>
    public required string Key { get; set; }

    /// <summary>SHA-256 of the request the key came with (see <see cref="IdempotencyRequest"/>), encrypted (<see cref="IdempotencyProtector"/>).</summary>
    public required byte[] ProtectedRequestSha256 { get; set; }

    public int StatusCode { get; set; }

    /// <summary>The answer's JSON body, byte for byte, encrypted: send-otp's holds the code.</summary>
    public required byte[] ProtectedBody { get; set; }

    public DateTime CreatedAt { get; set; }
}
