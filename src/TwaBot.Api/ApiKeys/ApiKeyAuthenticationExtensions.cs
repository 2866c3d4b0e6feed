using Microsoft.AspNetCore.Authentication;
using TwaBot.Api.Admin;

namespace TwaBot.Api.ApiKeys;

public static class ApiKeyAuthenticationExtensions
{
    public const string ApiKeyPolicy = "ApiKey";
    public const string AdminPolicy = "Admin";

    /// <summary>Two separate schemes: an API key never opens /admin and the admin key never opens /api.</summary>
    public static IServiceCollection AddTwaBotAuthentication(this IServiceCollection services)
    {
        services.AddSingleton<ApiKeyDirectory>();
        services.AddSingleton<ApiKeyUsage>();
        services.AddSingleton<AdminKeyProvider>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AdminKeyAuthenticationHandler>(AdminKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiKeyPolicy, policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser())
            .AddPolicy(AdminPolicy, policy => policy
                .AddAuthenticationSchemes(AdminKeyAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser());
        return services;
    }

    public static RouteGroupBuilder RequireApiKey(this RouteGroupBuilder group) => group.RequireAuthorization(ApiKeyPolicy);
}
