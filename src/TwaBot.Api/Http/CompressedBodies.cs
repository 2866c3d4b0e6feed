using TwaBot.Api.Errors;

namespace TwaBot.Api.Http;

/// <summary>
/// Request bodies are read as sent: a compressed one (<c>Content-Encoding: gzip</c>, say) is refused with 415
/// naming the encoding, on sends before reading and on the admin API when its JSON could not be read,
/// rather than answered "not valid JSON".
/// </summary>
public static class CompressedBodies
{
    /// <summary>The 415 for a request whose body is declared compressed; null for <c>identity</c> or none.</summary>
    public static ApiError? Refusal(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var encoding = request.Headers.ContentEncoding;
        return encoding.Count > 0 && !encoding.ToString().Equals("identity", StringComparison.OrdinalIgnoreCase)
            ? ApiErrors.UnsupportedMediaType($"Compressed bodies (Content-Encoding: {encoding}) are not accepted.")
            : null;
    }
}
