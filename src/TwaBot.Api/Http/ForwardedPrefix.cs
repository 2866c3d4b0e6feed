using Microsoft.AspNetCore.HttpOverrides;

namespace TwaBot.Api.Http;

/// <summary>
/// A reverse proxy that serves the server under a path (nginx: <c>location /twabot/ { proxy_pass http://127.0.0.1:8080/; }</c>)
/// strips that path and can name it in <c>X-Forwarded-Prefix</c>. With <c>ASPNETCORE_FORWARDEDHEADERS_ENABLED</c> on, which
/// takes only <c>X-Forwarded-For</c> and <c>-Proto</c>, the prefix becomes the request's PathBase too, so the URLs the server
/// names (the OpenAPI document's server, a 201's Location) lead through the proxy rather than to its root.
/// </summary>
public static class ForwardedPrefix
{
    public static IServiceCollection AddForwardedPrefix(this IServiceCollection services, IConfiguration configuration) =>
        services.PostConfigure<ForwardedHeadersOptions>(options =>
        {
            // The framework's own switch (ASPNETCORE_FORWARDEDHEADERS_ENABLED): trusted from the same proxy, or not at all.
            if (configuration.GetValue<bool>("FORWARDEDHEADERS_ENABLED"))
            {
                options.ForwardedHeaders |= ForwardedHeaders.XForwardedPrefix;
            }
        });

    /// <summary>A Location the endpoints give as a path from the root (<c>/admin/v1/businesses/7</c>) is given under the PathBase.</summary>
    public static IApplicationBuilder UsePrefixedLocations(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.PathBase.HasValue)
        {
            context.Response.OnStarting(() =>
            {
                var location = context.Response.Headers.Location.ToString();
                if (location.StartsWith('/') && !location.StartsWith("//", StringComparison.Ordinal))
                {
                    context.Response.Headers.Location = context.Request.PathBase.ToUriComponent() + location;
                }

                return Task.CompletedTask;
            });
        }

        return next(context);
    });
}
