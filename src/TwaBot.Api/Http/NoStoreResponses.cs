namespace TwaBot.Api.Http;

/// <summary>
/// <c>Cache-Control: no-store</c> on every answer of the API and the admin API, errors included: they carry
/// message ids, phone numbers and, once, a new key in clear, and quick-send is a GET that a browser, a
/// proxy or a link previewer could otherwise keep and show again. And <c>X-Content-Type-Options: nosniff</c> on
/// every answer, whatever its path, since answers echo what the caller sent (an invalid phone, the path of a
/// route that does not exist, the webhook handshake's <c>hub.challenge</c>) and must never be read as HTML; and
/// <c>X-Frame-Options: DENY</c>, since no page of ours (the Swagger UI is one) is meant to be framed by another site.
/// </summary>
public static class NoStoreResponses
{
    public static IApplicationBuilder UseNoStoreResponses(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // Set as the answer starts, so nothing that runs in between (error handling included) can drop them.
        var api = context.Request.Path.StartsWithSegments("/api") || context.Request.Path.StartsWithSegments("/admin");
        context.Response.OnStarting(api ? NoStoreNoSniff : NoSniff, context.Response);
        return next(context);
    });

    private static readonly Func<object, Task> NoSniff = static response =>
    {
        var headers = ((HttpResponse)response).Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        return Task.CompletedTask;
    };

    private static readonly Func<object, Task> NoStoreNoSniff = static response =>
    {
        ((HttpResponse)response).Headers.CacheControl = "no-store";
        return NoSniff(response);
    };
}
