using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TwaBot.Api.Data;

namespace TwaBot.Api.Health;

/// <summary>
/// <c>GET /healthz</c> for load balancers and Docker's HEALTHCHECK: no key, no tenant data, just
/// whether this process has finished starting and reaches its database.
/// </summary>
public static class LivenessChecks
{
    public const string Path = "/healthz";

    public static IServiceCollection AddLivenessChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StartedCheck>("started").AddCheck<DatabaseCheck>("database");
        return services;
    }

    public static IEndpointRouteBuilder MapLivenessChecks(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks(Path, new HealthCheckOptions
        {
            ResponseWriter = (context, report) => context.Response.WriteAsJsonAsync(
                new LivenessResponse(report.Status.ToString().ToLowerInvariant()), context.RequestAborted),
        }).ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// Unhealthy until the host's start is over: Kestrel answers before the work that waits for it to listen
    /// (the sandbox's first key) is done, and whoever polls /healthz to know the server is ready must not act before it.
    /// </summary>
    internal sealed class StartedCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(lifetime.ApplicationStarted.IsCancellationRequested
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The server is still starting."));
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
