using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics;

namespace TwaBot.Api.Errors;

/// <summary>
/// Turns every exception that escapes an endpoint into the error envelope: request-reading failures
/// become 400/413/415 naming what was wrong, a database that cannot be written at the moment 503 (retry),
/// anything else a 500 without details (those go to the log).
/// </summary>
internal sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        // A reset (the caller killed, or its proxy giving up) reaches a pending body read before Kestrel cancels
        // RequestAborted, so it is the caller gone too.
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested
            || exception is ConnectionResetException)
        {
            // The client went away; there is nobody to answer.
            httpContext.Response.StatusCode = 499;
            return true;
        }

        var error = exception switch
        {
            // The framework's JSON reader (admin and sandbox bodies) tried to read a compressed body as JSON.
            BadHttpRequestException bad => Http.CompressedBodies.Refusal(httpContext.Request)
                ?? FromBadRequest(bad, httpContext.Request, bad.InnerException is JsonException ? await BodyReadAsync(httpContext.Request) : null),
            // The framework's JSON reader (admin and sandbox bodies) says so for a charset no encoding has, before reading.
            InvalidOperationException { InnerException: ArgumentException or NotSupportedException }
                when UnknownCharset(httpContext.Request) is { } charset => ApiErrors.NotUtf8(charset),
            _ => null,
        };
        if (error is null && Data.SqliteFaults.IsStorageFault(exception))
        {
            LogStorageFault(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            httpContext.RequestServices.GetService<Metrics.TwaBotMetrics>()?.StorageFault("request");
            error = ApiErrors.StorageUnavailable();
        }

        if (error is null)
        {
            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            error = ApiErrors.Internal();
        }

        await error.ExecuteAsync(httpContext);
        return true;
    }

    /// <param name="exception">The framework's refusal.</param>
    /// <param name="request">The request, whose route's body limit a 413 names.</param>
    /// <param name="body">The body the framework's JSON reader refused, when it could be read again (null when it was not kept).</param>
    private static ApiError FromBadRequest(BadHttpRequestException exception, HttpRequest request, ReadOnlyMemory<byte>? body)
    {
        if (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return ApiErrors.PayloadTooLarge(RequestBodyLimits.LimitFor(request));
        }

        if (exception.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return ApiErrors.UnsupportedMediaType();
        }

        if (exception.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            return ApiErrors.BodyStalled();
        }

        if (exception.InnerException is not JsonException json)
        {
            return ApiErrors.BadRequest();
        }

        // Only whitespace (what a template engine leaves), or nothing (a chunked body that ends at once: one of length 0 is
        // found missing before it is read), is no body, as the sends answer it; the reader calls it JSON with no tokens,
        // which would be answered as invalid JSON at a position past the body's end.
        return body is { } kept && kept.Span.Trim(" \t\r\n"u8).IsEmpty ? ApiErrors.MissingBody() : FromJsonException(json, body.GetValueOrDefault().Span);
    }

    /// <summary>
    /// The body the framework's JSON reader read, when <see cref="RewindableBodies"/> kept it: the reader's positions count
    /// bytes, and the answer counts characters, as an editor does.
    /// </summary>
    private static async Task<ReadOnlyMemory<byte>?> BodyReadAsync(HttpRequest request)
    {
        if (!request.Body.CanSeek)
        {
            return null;
        }

        request.Body.Position = 0;
        using var copy = new MemoryStream();
        await request.Body.CopyToAsync(copy);
        return copy.GetBuffer().AsMemory(0, (int)copy.Length);
    }

    /// <summary>
    /// The request's charset when the reader could not look it up: no encoding has that name (<c>foo</c>,
    /// <c>utf-7</c>, which .NET refuses), or it is quoted, which the reader does not undo.
    /// </summary>
    private static string? UnknownCharset(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || contentType.Charset.Value is not { } label)
        {
            return null;
        }

        try
        {
            _ = System.Text.Encoding.GetEncoding(label);
            return null;
        }
        catch (Exception error) when (error is ArgumentException or NotSupportedException)
        {
            return Http.Utf8CharsetLabels.Charset(contentType);
        }
    }

    /// <summary>Names the offending field from the reader's JSON path (<c>$.body_params[1]</c> → <c>body_params[1]</c>).</summary>
    /// <param name="exception">The serializer's error.</param>
    /// <param name="body">The body, when the caller holds it: the position is then given in characters, not bytes.</param>
    internal static ApiError FromJsonException(JsonException exception, ReadOnlySpan<byte> body = default)
    {
        var field = FieldFromPath(exception.Path);

        // Syntax errors come from the reader, itself a JsonException; type errors from converters.
        if (exception.InnerException is JsonException || field is null)
        {
            // The reader's depth limit is no syntax error: the body may be valid JSON, only deeper than is read.
            // Valid JSON that is not an object ([…], "text", 7) fails to convert at the root, with no syntax error inside.
            return exception.Message.StartsWith("The maximum configured depth", StringComparison.Ordinal)
                ? ApiErrors.TooDeeplyNestedJson()
                : exception.InnerException is null && field is null
                    && exception.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)
                ? ApiErrors.BodyNotAnObject(example: null)
                : ApiErrors.MalformedJson(exception.InnerException as JsonException ?? exception, body);
        }

        // The serializer's only hint that a property is unknown (admin bodies reject them) or given twice
        // (no body accepts that) is its message; a string that is not text (bytes that are not UTF-8, a \u escape of
        // half a character) says which only in the message of the reader's InvalidOperationException it wraps.
        var unreadableText = (exception.InnerException as InvalidOperationException)?.Message ?? "";
        return exception.Message.Contains("could not be mapped", StringComparison.Ordinal)
            ? ApiErrors.Validation(field, $"{field} is not allowed here.")
            : exception.Message.StartsWith("Duplicate propert", StringComparison.Ordinal)
            ? ApiErrors.Validation(field, $"{field} is given more than once; give it once.")
            : exception.Message.StartsWith(Json.UtcTimestampConverter.NotIsoMessage, StringComparison.Ordinal)
            ? ApiErrors.Validation(field, $"{field} must be an ISO-8601 time such as 2026-12-31T23:59:59Z (a date alone is midnight UTC).")
            : unreadableText.Contains("UTF-8", StringComparison.Ordinal)
            ? ApiErrors.Validation(field, $"{field} is not valid UTF-8: send the body encoded as UTF-8 (é is the bytes C3 A9, not Latin-1 E9).")
            : unreadableText.Contains("UTF-16", StringComparison.Ordinal)
            ? ApiErrors.Validation(field,
                $"{field} has a \\u escape of half a character (an unpaired surrogate): escape an emoji as both halves, as \\ud83d\\ude00, or send it as UTF-8.")
            : ApiErrors.Validation(field, WrongType(field, exception));
    }

    /// <summary>
    /// Says what the field takes, from the reader's words on it (a string cannot be read from a number, a list of
    /// strings could not be converted): a CRM that writes a phone or an amount as a number learns to quote it.
    /// </summary>
    private static string WrongType(string field, JsonException exception)
    {
        var reader = exception.InnerException?.Message ?? "";
        var takes = exception.Message.Contains("List`1[System.String]", StringComparison.Ordinal)
            ? "an array of strings, e.g. [\"Rahul\", \"ORD-12345\"]"
            : reader.EndsWith(" as a string.", StringComparison.Ordinal) ? "a string, in double quotes (\"12345\", not 12345)"
            : reader.EndsWith(" as a boolean.", StringComparison.Ordinal) ? "true or false, without quotes"
            : exception.InnerException is FormatException && reader.Contains("Int", StringComparison.Ordinal) ? "a whole number within range"
            : null;
        return takes is null ? $"{field} has the wrong type or an invalid value." : $"{field} must be {takes}.";
    }

    private static string? FieldFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return null;
        }

        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        // A name with a space or a dot is written in JSON path syntax ($['time zone']): named as the client wrote it.
        field = QuotedName().Replace(field, match => (match.Index == 0 ? "" : ".") + match.Groups[1].Value);
        return field.Length == 0 ? null : field;
    }

    // The reader writes the name between ['…'] as it is, a quote or backslash in it unescaped ($['owner's name']), so
    // the name ends at the '] that ends the path or comes before its next part.
    [System.Text.RegularExpressions.GeneratedRegex(@"\['(.*?)'\](?=$|[.\[])", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex QuotedName();

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, PathString path);

    [LoggerMessage(Level = LogLevel.Error, Message = "The database could not be written on {Method} {Path}; answered 503 (docs/operations.md: another process's lock, a full disk)")]
    private static partial void LogStorageFault(ILogger logger, Exception exception, string method, PathString path);
}
