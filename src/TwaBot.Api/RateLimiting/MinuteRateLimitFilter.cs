using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Configuration;
using TwaBot.Api.Errors;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// Runs the per-minute limits for every authenticated <c>/api/v1</c> request, right after
/// authentication: the key's own limit (admin override, else configuration), then the global one.
/// </summary>
internal sealed class MinuteRateLimitFilter(MinuteRateLimiter limiter, IOptionsMonitor<TwaBotOptions> options) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.Features.Get<ApiCaller>() is not { } caller)
        {
            return await next(context);
        }

        var limits = options.CurrentValue.RateLimits;
        var decision = limiter.TryAcquire(caller.KeyId, caller.PerMinuteLimit ?? limits.PerKeyPerMinute, limits.GlobalPerMinute);
        http.Features.Set(decision);
        if (!decision.Allowed)
        {
            return ApiErrors.RateLimited(decision.ResetSeconds);
        }

        return await next(context);
    }
}
