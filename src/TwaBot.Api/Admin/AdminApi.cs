using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Admin;

/// <summary>The dashboard's jobs as JSON (PRODUCT.md §6), behind <c>X-Admin-Key</c>.</summary>
public static class AdminApi
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1")
            .RequireAuthorization(ApiKeyAuthenticationExtensions.AdminPolicy)
            .WithTags("Admin")
            .WithMetadata(new AdminKeySecurity())
            .ProducesErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound)
            .WithExamples(responses: (StatusCodes.Status401Unauthorized, SeedExamples.AdminUnauthorized));
        admin.MapBusinessesAdmin();
        admin.MapWhatsAppAdmin();
        admin.MapApiKeysAdmin();
        admin.MapSuppressionsAdmin();
        admin.MapTemplatesAdmin();
        return app;
    }
}

/// <summary>What admin handlers need, bound in one parameter.</summary>
internal sealed record AdminServices(
    TwaBotDbContext Db,
    TimeProvider Time,
    ApiKeyDirectory Keys,
    RateLimiting.DailyQuota Quota,
    ServerMode Mode,
    IOptions<TwaBotOptions> Options)
{
    public DateTime Now => Time.GetUtcNow().UtcDateTime;
}
