using System.Security.Cryptography;
using System.Text;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Meta's <c>X-Hub-Signature-256</c>: <c>sha256=</c> + lowercase hex HMAC-SHA256 of the raw body
/// bytes, keyed with the app secret. The receiver verifies it; the sandbox signs with it.
/// </summary>
public static class WebhookSignature
{
    public const string HeaderName = "X-Hub-Signature-256";
    private const string Prefix = "sha256=";

    public static string Sign(ReadOnlySpan<byte> body, string appSecret) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body));

    /// <summary>Whether a header value can be a signature at all (<c>sha256=</c> and 64 hex digits), whatever the body.</summary>
    public static bool IsWellFormed(string? header) => header is not null && Digest(header, stackalloc byte[32]);

    /// <summary>Constant-time check of a header value against the body; false for anything malformed.</summary>
    public static bool IsValid(ReadOnlySpan<byte> body, string? header, string appSecret)
    {
        Span<byte> presented = stackalloc byte[32];
        if (header is null || !Digest(header, presented))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), body, expected);
        return CryptographicOperations.FixedTimeEquals(presented, expected);
    }

    private static bool Digest(string header, Span<byte> digest) =>
        header.StartsWith(Prefix, StringComparison.Ordinal) && header.Length == Prefix.Length + 64
        && Convert.FromHexString(header.AsSpan(Prefix.Length), digest, out _, out var written) == System.Buffers.OperationStatus.Done
        && written == 32;
}
