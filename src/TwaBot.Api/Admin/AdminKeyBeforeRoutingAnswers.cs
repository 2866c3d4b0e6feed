using Microsoft.AspNetCore.Authorization;
using TwaBot.Api.ApiKeys;

namespace TwaBot.Api.Admin;

/// <summary>
/// Routing answers a known path with a method none of its routes takes (<c>PUT /admin/v1/businesses</c>) by an endpoint
/// of its own, made by ASP.NET Core's method policy with no metadata: no policy asked for the admin key, so a caller
/// without it got 405 and the route's methods, where PRODUCT.md §6 says a missing or wrong admin key is 401. Behind the
/// admin key, such an endpoint is given the admin policy: authorization checks the key as on the admin routes (a wrong
/// one counts against the address's failed-authentication budget), and with the key the endpoint answers 405 as before.
/// </summary>
internal static class AdminKeyBeforeRoutingAnswers
{
    private static readonly AuthorizeAttribute AdminKeyRequired = new(ApiKeyAuthenticationExtensions.AdminPolicy);

    /// <summary>After routing, which chooses the endpoint, and before authorization, which reads its policy.</summary>
    public static IApplicationBuilder UseAdminKeyBeforeRoutingAnswers(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        // The path first: a send is let through by two prefix comparisons.
        if (AdminKeyPaths.Contain(context.Request.Path) && context.GetEndpoint() is { } endpoint
            && endpoint.Metadata.GetMetadata<IAuthorizeData>() is null)
        {
            context.SetEndpoint(new Endpoint(endpoint.RequestDelegate, new EndpointMetadataCollection([.. endpoint.Metadata, AdminKeyRequired]),
                endpoint.DisplayName));
        }

        return next(context);
    });
}
