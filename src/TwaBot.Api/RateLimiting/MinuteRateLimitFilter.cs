using System.Globalization;
using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Configuration;
using TwaBot.Api.Errors;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// Runs the per-minute limits for every authenticated <c>/api/v1</c> request, right after
/// authentication: the key's own limit (admin override, else configuration), then the global one.
/// Every answer from here on carries <c>RateLimit-Policy</c> and <c>RateLimit</c> (IETF
/// draft-ietf-httpapi-ratelimit-headers) for the key's minute and, where its plan sends, its day.
/// </summary>
internal sealed class MinuteRateLimitFilter(
    MinuteRateLimiter limiter, DailyQuota daily, ApiKeyDirectory keys, IOptionsMonitor<TwaBotOptions> options,
    Serilog.IDiagnosticContext requestLine) : IEndpointFilter
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
        await daily.LoadTodayAsync(caller, http.RequestAborted); // so the headers can read today's count
        // Written as the answer starts, so the day's figures include this request's own send, for the key's cap and its
        // business's day as they are then (an admin change may have been saved while a send was at Meta).
        http.Response.OnStarting(async () => WriteHeaders(http.Response.Headers, decision,
            await daily.CurrentAsync(await keys.AsItIsNowAsync(http, caller, http.RequestAborted), http.RequestAborted)));
        if (!decision.Allowed)
        {
            // The client's 429 is the same for both; the log line tells support whether the key sent too much or every
            // business together spent the server's shared budget (GlobalPerMinute), which only raising that mends.
            requestLine.Set("RateLimit", decision.ByGlobalLimit ? "global" : "key");
            return ApiErrors.RateLimited(decision.ResetSeconds);
        }

        return await next(context);
    }

    private static void WriteHeaders(IHeaderDictionary headers, MinuteDecision minute, DailyDecision? day)
    {
        var invariant = CultureInfo.InvariantCulture;
        var policy = string.Create(invariant, $"\"minute\";q={minute.Limit};w=60");
        var state = string.Create(invariant, $"\"minute\";r={minute.Remaining};t={minute.ResetSeconds}");
        if (day is { } d)
        {
            policy += string.Create(invariant, $", \"day\";q={d.Limit};w={d.DaySeconds}");
            state += string.Create(invariant, $", \"day\";r={d.Remaining};t={d.SecondsToMidnight}");
        }

        headers["RateLimit-Policy"] = policy;
        headers["RateLimit"] = state;
    }
}
