using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace TwaBot.Api.Meta;

/// <summary>
/// The WhatsApp numbers whose token Meta refused at its last call (code 190, OAuth, permissions), so that
/// <c>/api/v1/health</c> and the admin API say sends will fail before a customer's send does. A refusal holds for
/// the token Meta refused: a call with it that succeeds, or the number connected with another token, ends it.
/// Kept in memory (one entry per number at most): after a restart the next refused call records it again.
/// </summary>
public sealed class MetaTokenRefusals(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Refusal> _byNumber = new(StringComparer.Ordinal);

    /// <summary>Notes what a call's answer says about its token; <paramref name="failure"/> is null for a 2xx.</summary>
    public void Observe(MetaConnection connection, MetaFailure? failure)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (failure is { Kind: MetaFailureKind.Rejected, Error.IsAuthorization: true })
        {
            _byNumber[connection.PhoneNumberId] = new Refusal(Fingerprint(connection.AccessToken), time.GetUtcNow().UtcDateTime);
        }
        else if (failure is null && !_byNumber.IsEmpty // every send passes here: nothing to hash when nothing is refused
            && _byNumber.TryGetValue(connection.PhoneNumberId, out var refusal) && refusal.Matches(connection.AccessToken))
        {
            _byNumber.TryRemove(new KeyValuePair<string, Refusal>(connection.PhoneNumberId, refusal));
        }
    }

    /// <summary>When Meta refused this connection's token, if it did and nothing has succeeded with it since.</summary>
    public DateTime? RefusedAt(MetaConnection? connection) =>
        connection is not null && !_byNumber.IsEmpty && _byNumber.TryGetValue(connection.PhoneNumberId, out var refusal)
        && refusal.Matches(connection.AccessToken)
            ? refusal.At
            : null;

    // A hash, so that the map holds no second copy of a token.
    private static byte[] Fingerprint(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    private sealed record Refusal(byte[] TokenHash, DateTime At)
    {
        public bool Matches(string token) => CryptographicOperations.FixedTimeEquals(TokenHash, Fingerprint(token));
    }
}
