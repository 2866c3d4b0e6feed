namespace TwaBot.Api.Http;

/// <summary>
/// <c>Cache-Control: no-store</c> on every answer of the API and the admin API, errors included: they carry
/// message ids, phone numbers and, once, a new key in clear, and quick-send is a GET that a browser, a
/// proxy or a link previewer could otherwise keep and show again.
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
                ((HttpResponse)response).Headers.CacheControl = "no-store";
                return Task.CompletedTask;
            }, context.Response);
        }

        return next(context);
    });
}
