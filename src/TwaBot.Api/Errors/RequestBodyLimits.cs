using Microsoft.AspNetCore.Http.Features;

namespace TwaBot.Api.Errors;

/// <summary>
/// Request bodies are small on the API and admin routes (a send is a few hundred bytes) and up to
/// Meta's 3 MB on webhooks. Oversized bodies get a 413 envelope before anything reads them.
/// </summary>
public static class RequestBodyLimits
{
    public const long ApiBytes = 64 * 1024;
    public const long WebhookBytes = 3 * 1024 * 1024;

    /// <summary>
    /// Webhooks take Meta's 3 MB, and so does the sandbox's Graph API: what it receives is the server's own Meta
    /// calls, whose JSON (non-ASCII escaped as \uXXXX) can be several times the caller's 64 KB.
    /// </summary>
    public static long LimitFor(PathString? path) =>
        path is { } p && (p.StartsWithSegments("/webhooks", StringComparison.OrdinalIgnoreCase)
            || p.StartsWithSegments("/sandbox/graph", StringComparison.OrdinalIgnoreCase)) ? WebhookBytes : ApiBytes;

    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = LimitFor(context.Request.Path);
        if (context.Request.ContentLength > limit)
        {
            await ApiErrors.PayloadTooLarge(limit).ExecuteAsync(context);
            return;
        }

        // Kestrel enforces this for chunked bodies, whose length is not known up front.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        await next(context);
    });
}
