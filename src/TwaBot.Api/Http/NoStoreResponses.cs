namespace TwaBot.Api.Http;

/// <summary>
/// <c>Cache-Control: no-store</c> on every answer of the API and the admin API, errors included: they carry
/// message ids, phone numbers and, once, a new key in clear, and quick-send is a GET that a browser, a
/// proxy or a link previewer could otherwise keep and show again. Also <c>X-Content-Type-Options: nosniff</c>,
/// since errors echo what the caller sent (an invalid phone, say) and must never be read as HTML.
/// </summary>
public static class NoStoreResponses
{
    public static IApplicationBuilder UseNoStoreResponses(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/admin"))
        {
            // Set as the answer starts, so nothing that runs in between (error handling included) can drop it.
            context.Response.OnStarting(static response =>
            {
                var headers = ((HttpResponse)response).Headers;
                headers.CacheControl = "no-store";
                headers.XContentTypeOptions = "nosniff";
                return Task.CompletedTask;
            }, context.Response);
        }

        return next(context);
    });
}
