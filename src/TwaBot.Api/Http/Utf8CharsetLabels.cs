using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Net.Http.Headers;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Http;

/// <summary>
/// A JSON body labelled UTF-8 in any usual spelling is read as UTF-8. The framework's reader (admin and sandbox
/// bodies) looks the charset up with <c>Encoding.GetEncoding</c>, which knows <c>utf-8</c> but neither <c>utf8</c>
/// nor the quoted <c>"utf-8"</c> that HTTP allows, and threw on them: a 500. A charset no encoding has at all
/// (<c>charset=foo</c>) is a 415, see <see cref="Errors.ApiExceptionHandler"/>; so is one that names another encoding
/// (<c>charset=iso-8859-1</c>, <c>utf-16</c>), which that reader would otherwise convert and the admin API store.
/// </summary>
public static class Utf8CharsetLabels
{
    public static IApplicationBuilder UseUtf8CharsetLabels(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var request = context.Request;
        if (request.ContentType is { } given && given.Contains("charset", StringComparison.OrdinalIgnoreCase)
            && MediaTypeHeaderValue.TryParse(given, out var contentType)
            && Charset(contentType) is { } charset && IsUtf8Compatible(charset)
            && !contentType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            contentType.Charset = "utf-8";
            request.ContentType = contentType.ToString();
        }

        return next(context);
    });

    /// <summary>
    /// A body the framework reads (the admin API's, the sandbox's inbound) labelled with a charset other than UTF-8 is 415,
    /// as on the sends (README: "a body in another charset than UTF-8 … is 415"), before it is read or anything stored.
    /// After authorization: a caller without the key is told that first. Routes that read their body themselves
    /// (sends, webhooks) declare no body type and answer for themselves.
    /// </summary>
    public static IApplicationBuilder UseUtf8BodiesOnly(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is not null
            && MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var contentType)
            && Charset(contentType) is { } charset && !IsUtf8Compatible(charset))
        {
            await ApiErrors.NotUtf8(charset).ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    /// <summary>The <c>charset</c> parameter without its quotes, or null when there is none.</summary>
    public static string? Charset(MediaTypeHeaderValue contentType)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        return contentType.Charset.Value?.Trim('"');
    }

    /// <summary>UTF-8 under its usual labels, or ASCII, which is a subset of it.</summary>
    public static bool IsUtf8Compatible(string charset)
    {
        ArgumentNullException.ThrowIfNull(charset);
        return charset.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant() is "utf8" or "usascii" or "ascii";
    }
}
