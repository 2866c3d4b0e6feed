using TwaBot.Api.Errors;

namespace TwaBot.Api.Http;

/// <summary>
/// Request bodies are read as sent: a compressed one (<c>Content-Encoding: gzip</c>, say) is refused with 415
/// naming the encoding, on sends before reading and on the admin API when its JSON could not be read,
/// rather than answered "not valid JSON".
/// </summary>
public static class CompressedBodies
{
    /// <summary>
    /// The 415 for a request whose body is declared compressed; null for none, <c>identity</c> (in any list) or a
    /// blank header (an empty Postman variable, as a blank key is no key).
    /// </summary>
    public static ApiError? Refusal(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var encoding = request.Headers.ContentEncoding;
        var compressed = encoding.SelectMany(value => (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Any(coding => !coding.Equals("identity", StringComparison.OrdinalIgnoreCase));
        return compressed ? ApiErrors.UnsupportedMediaType($"Compressed bodies (Content-Encoding: {encoding}) are not accepted.") : null;
    }
}
