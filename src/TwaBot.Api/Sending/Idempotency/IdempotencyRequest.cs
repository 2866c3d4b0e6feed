using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Idempotency;

/// <summary>
/// The <c>Idempotency-Key</c> a send came with, and what it binds: the route and the request (a JSON send's body in
/// its <see cref="CanonicalJson"/> form, so that a retry serialized with its fields in another order or other spacing
/// is the same request; quick-send's decoded parameters, so that the key's own place in the URL or the order of
/// the parameters does not matter). A key that cannot be used is kept as its <see cref="Error"/>, answered
/// in the pipeline's order.
/// </summary>
public sealed class IdempotencyRequest
{
    public const string HeaderName = "Idempotency-Key";
    public const string QueryName = "idempotency_key";
    internal const int MaxLength = 255;

    private readonly Func<ValueTask<byte[]>> _hash;
    private byte[]? _hashed;
    private byte[][] _earlierHashes = []; // what earlier versions kept for such a request: see IsThisRequest

    private IdempotencyRequest(string key, ApiError? error, Func<ValueTask<byte[]>> hash)
    {
        Key = key;
        Error = error;
        _hash = hash;
    }

    public string Key { get; }

    public ApiError? Error { get; }

    /// <summary>SHA-256 of the route and the request; reads a JSON send's body, which its validation then reads again.</summary>
    public async ValueTask<byte[]> HashAsync() => _hashed ??= await _hash();

    /// <summary>
    /// Whether a first request's hash is this request's (<see cref="HashAsync"/> is called first). Versions before canonical
    /// JSON hashed a JSON send's body as sent, and versions before 2026-12-06 its canonical form with null members; their
    /// keys are kept a day, so a retry across the upgrade still matches them.
    /// </summary>
    public bool IsThisRequest(ReadOnlySpan<byte> firstHash)
    {
        if (_hashed is { } hash && firstHash.SequenceEqual(hash))
        {
            return true;
        }

        foreach (var earlier in _earlierHashes)
        {
            if (firstHash.SequenceEqual(earlier))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Null when the request has no key.</summary>
    public static IdempotencyRequest? ForJsonSend(HttpRequest request, SendRoute route)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(route);
        if (!request.Headers.ContainsKey(HeaderName))
        {
            return null; // most sends: nothing to build
        }

        IdempotencyRequest? idempotency = null;
        idempotency = From(request, queryKey: null, async () =>
        {
            request.EnableBuffering();
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted);
            request.Body.Position = 0;
            var asSent = body.GetBuffer().AsMemory(0, (int)body.Length);
            var hashOfBodyAsSent = Hash(route.Name, asSent.Span);
            idempotency!._earlierHashes = CanonicalJson.Of(asSent, keepNullMembers: true) is { } withNulls
                ? [hashOfBodyAsSent, Hash(route.Name, withNulls)]
                : [hashOfBodyAsSent];
            return CanonicalJson.Of(asSent) is { } canonical ? Hash(route.Name, canonical) : hashOfBodyAsSent;
        });
        return idempotency;
    }

    /// <summary>Null when the request has no key; the header counts before <c>idempotency_key</c> in the query.</summary>
    public static IdempotencyRequest? ForQuickSend(HttpRequest request, QuickSendQuery query)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(query);
        var queryKey = string.IsNullOrWhiteSpace(query.IdempotencyKey) ? null : query.IdempotencyKey;
        if (queryKey is null && !request.Headers.ContainsKey(HeaderName))
        {
            return null;
        }

        return From(request, queryKey, () =>
        {
            // Each value with its length, so that no two different sets of values read the same. button_params
            // came later: it is added only when given, so keys stored before it still match their requests.
            var parameters = string.Concat(new[] { query.Phone, query.Template, query.Lang, query.Params, query.Message }
                .Select(value => value is null ? "-;" : $"{value.Length}:{value};"))
                + (query.ButtonParams is { } buttons ? $"button_params={buttons.Length}:{buttons};" : "");
            return ValueTask.FromResult(Hash("quick-send", Encoding.UTF8.GetBytes(parameters)));
        });
    }

    private static IdempotencyRequest? From(HttpRequest request, string? queryKey, Func<ValueTask<byte[]>> hash)
    {
        // A blank header is no key, as a blank X-API-Key is none (a Postman variable left empty).
        var header = new StringValues([.. request.Headers[HeaderName].Where(value => !string.IsNullOrWhiteSpace(value))]);
        if (header.Count == 0 && queryKey is null)
        {
            return null;
        }

        if (header.Count > 1)
        {
            return new(header[0] ?? "", ApiErrors.Validation(HeaderName, $"{HeaderName} is given more than once; give one key."), hash);
        }

        var (name, given) = header.Count == 1 ? (HeaderName, header[0] ?? "") : (QueryName, queryKey!);
        // An IETF structured-field string is quoted: "8e03978e-…" and 8e03978e-… are the same key.
        var key = given.Length >= 2 && given[0] == '"' && given[^1] == '"' ? given[1..^1] : given;
        var error = key.Length is 0 or > MaxLength || key.Any(c => c is < ' ' or > '~')
            ? ApiErrors.Validation(name, $"{name} must be 1 to {MaxLength} printable ASCII characters (a UUID is a good key).")
            : null;
        return new(key, error, hash);
    }

    private static byte[] Hash(string route, ReadOnlySpan<byte> request)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(route + "\n"));
        sha.AppendData(request);
        return sha.GetHashAndReset();
    }
}
