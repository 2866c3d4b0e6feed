namespace TwaBot.Api.Http;

/// <summary>
/// Routing does not choose endpoints by Content-Type. Its content-type policy answered a form or <c>text/plain</c> body
/// to an admin route (or the sandbox's inbound) with 415 in place of the route, before authorization, so a caller without
/// the admin key learnt the route's body rules instead of getting 401 (PRODUCT.md §6). Without it, the route's endpoint
/// refuses such a body itself, after the key, with the same 415 (ApiExceptionHandler); no two routes here differ only by
/// the type they read.
/// </summary>
public static class ContentTypeAfterKeys
{
    /// <summary>Call after everything that registers routing, which would add the policy again.</summary>
    public static IServiceCollection AddContentTypeAfterKeys(this IServiceCollection services)
    {
        // The policy is internal to ASP.NET Core, so known by its name; AdminKeyBeforeBodyRulesTests fail if it is renamed.
        var policies = services.Where(service => service.ServiceType == typeof(MatcherPolicy)
            && service.ImplementationType?.FullName == "Microsoft.AspNetCore.Routing.Matching.AcceptsMatcherPolicy").ToList();
        foreach (var policy in policies)
        {
            services.Remove(policy);
        }

        return services;
    }
}
