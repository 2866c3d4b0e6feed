namespace TwaBot.Api.RateLimiting;

public static class RateLimitingExtensions
{
    public static IServiceCollection AddTwaBotRateLimiting(this IServiceCollection services)
    {
        services.AddSingleton<MinuteRateLimiter>();
        services.AddHostedService<MinuteCountsKeeper>(); // the minute's counts over a graceful restart
        services.AddSingleton<FailedAuthenticationLimiter>();
        services.AddSingleton<DailyQuota>();
        services.AddSingleton<OtpRecipientLimit>();
        services.AddHostedService<IdleOtpNumberSweeper>(); // numbers forgotten when no next OTP comes to sweep them
        return services;
    }

    /// <summary>Per-minute limits on every route of the group, after authentication.</summary>
    public static RouteGroupBuilder RequireMinuteRateLimits(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter<MinuteRateLimitFilter>();
        return group;
    }
}
