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
            return JsonSerializer.Deserialize(json.Span, typeInfo) is not { } body ? ApiErrors.MissingBody()
                : MisnamedField(json.Span, typeInfo) is { } misnamed ? misnamed
                : body;
        }
        catch (JsonException error)
        {
            return ApiExceptionHandler.FromJsonException(error, json.Span);
        }
    }

    /// <summary>
    /// One of the body's fields written in another style ("templateName", "Body-Params") while its own name is
    /// absent. Read as absent, the answer would say template_name is missing, or that body_params gave 0 values,
    /// to a caller who sent them. Fields the body does not name otherwise are left alone.
    /// </summary>
    private static ApiError? MisnamedField(ReadOnlySpan<byte> json, JsonTypeInfo typeInfo)
    {
        var given = new List<string>();
        var reader = new Utf8JsonReader(json);
        reader.Read(); // the object's start: FirstToken has seen it, and the serializer has read it whole
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            given.Add(reader.GetString()!);
            reader.Read();
            reader.Skip();
        }

        foreach (var name in given)
        {
            if (typeInfo.Properties.Any(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                continue; // read as written (names are case-insensitive)
            }

            var loose = Http.LooseNames.Of(name);
            if (typeInfo.Properties.FirstOrDefault(p => Http.LooseNames.Of(p.Name) == loose) is { } field
                && !given.Contains(field.Name, StringComparer.OrdinalIgnoreCase))
            {
                return ApiErrors.Validation(field.Name,
                    $"{field.Name} is written \"{name}\" in the body: this API's fields are snake_case, so write \"{field.Name}\".");
            }

            // Another name CRMs give the field: quick-send's (a CRM moving from its URL to a POST), or another API's. Ignored,
            // "lang": "hi" would send the English template and "code" a generated OTP, not the CRM's; "params" would be
            // answered as no body_params. quick-send refuses the body's names the other way round.
            if (OtherNames.TryGetValue(name, out var other)
                && typeInfo.Properties.Any(p => p.Name == other.Field)
                && !given.Contains(other.Field, StringComparer.OrdinalIgnoreCase))
            {
                return ApiErrors.Validation(other.Field, $"{other.Field} is written \"{name}\", {other.Whose}: in a JSON body, write \"{other.Field}\".");
            }
        }

        return null;
    }

    /// <summary>Other names for a body's fields, and whose they are.</summary>
    private static readonly Dictionary<string, (string Field, string Whose)> OtherNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["template"] = ("template_name", "quick-send's name for it"),
        ["lang"] = ("language", "quick-send's name for it"),
        ["params"] = ("body_params", "quick-send's name for it"),
        ["code"] = ("otp", "not this API's name for it"),
        ["text"] = ("message", "not this API's name for it"),
        ["body"] = ("message", "not this API's name for it"),
    };

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
        catch (JsonException error)
        {
            return ApiErrors.MalformedJson(error, json);
        }

        return reader.TokenType switch
        {
            JsonTokenType.StartObject => null,
            JsonTokenType.Null => ApiErrors.MissingBody(),
            _ => ApiErrors.BodyNotAnObject(),
        };
    }
}
