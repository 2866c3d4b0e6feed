using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TwaBot.Api.Data;

namespace TwaBot.Api.Health;

/// <summary>
/// <c>GET /healthz</c> for load balancers and Docker's HEALTHCHECK: no key, no tenant data, just
/// whether this process serves requests and reaches its database.
/// </summary>
public static class LivenessChecks
{
    public const string Path = "/healthz";

    public static IServiceCollection AddLivenessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<DatabaseCheck>("database");
        return services;
    }

    public static IEndpointRouteBuilder MapLivenessChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(Path, new HealthCheckOptions
        {
            ResponseWriter = (context, report) => context.Response.WriteAsJsonAsync(
                new LivenessResponse(report.Status.ToString().ToLowerInvariant()), context.RequestAborted),
        }).WithMetadata(new HttpMethodMetadata([HttpMethods.Get])) // GET (and so HEAD) only: other methods are 405, as on every route
            .ExcludeFromDescription();
        return app;
    }

    private sealed class DatabaseCheck(TwaBotDbContext db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            await db.Database.CanConnectAsync(cancellationToken)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database cannot be opened.");
    }
}

public sealed record LivenessResponse(string Status);
