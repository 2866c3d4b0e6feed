using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Net.Http.Headers;
using TwaBot.Api.Errors;
using TwaBot.Api.Http;

namespace TwaBot.Api.Sending;

/// <summary>
/// Reads a send's JSON body when the pipeline reaches validation, not before: a request that fails
/// an earlier check (plan, permission) gets that check's answer even if its body is broken. A missing,
/// plain-text or mislabelled content type is read as JSON, since CRMs often omit or mislabel it; a
/// form, a compressed body or another character set is refused by name instead of being misread.
/// </summary>
public static class SendBody
{
    public static async ValueTask<ApiErrorOr<T>> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        if (NotReadableAsJson(request) is { } refused)
        {
            return refused;
        }

        // Bodies are small (64 KB at most); holding one whole lets its first token tell "no body"
        // from "not JSON" from "JSON, but not an object".
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        var json = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (json.Span.StartsWith(Encoding.UTF8.Preamble))
        {
            json = json[Encoding.UTF8.Preamble.Length..];
        }

        if (FirstToken(json.Span) is { } shapeError)
        {
            return shapeError;
        }

        try
        {
            return JsonSerializer.Deserialize(json.Span, typeInfo) is { } body ? body : ApiErrors.MissingBody();
        }
        catch (JsonException error)
        {
            return ApiExceptionHandler.FromJsonException(error);
        }
    }

    private static ApiError? NotReadableAsJson(HttpRequest request)
    {
        if (CompressedBodies.Refusal(request) is { } compressed)
        {
            return compressed;
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType))
        {
            return null;
        }

        if (contentType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return ApiErrors.UnsupportedMediaType("Form posts are not read; to send from a URL, use GET /api/v1/quick-send.");
        }

        var charset = Utf8CharsetLabels.Charset(contentType);
        return charset is null || Utf8CharsetLabels.IsUtf8Compatible(charset) ? null : ApiErrors.NotUtf8(charset);
    }

    /// <summary>Null when the body starts a JSON object; otherwise the answer for what it starts.</summary>
    private static ApiError? FirstToken(ReadOnlySpan<byte> json)
    {
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return ApiErrors.MissingBody();
        }

        var reader = new Utf8JsonReader(json);
        try
        {
            reader.Read();
        }
        catch (JsonException)
        {
            return ApiErrors.MalformedJson();
        }

        return reader.TokenType switch
        {
            JsonTokenType.StartObject => null,
            JsonTokenType.Null => ApiErrors.MissingBody(),
            _ => ApiErrors.BodyNotAnObject(),
        };
    }
}
