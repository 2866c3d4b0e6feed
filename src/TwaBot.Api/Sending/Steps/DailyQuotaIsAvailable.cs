using TwaBot.Api.Errors;
using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// Reserves one unit of the key's daily cap, held by the send: the pipeline gives it back when a later
/// step refuses, the dispatcher when Meta refuses; only sends Meta (may have) accepted keep it.
/// </summary>
public sealed class DailyQuotaIsAvailable(DailyQuota quota) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var decision = await quota.TryReserveAsync(context.Caller, cancellationToken);
        if (!decision.Allowed)
        {
            return ApiErrors.DailyLimitReached(decision.Limit, decision.Used, context.Caller.Plan.ToString(), decision.SecondsToMidnight);
        }

        context.Reservation = decision.Reservation;
        context.Holds(() => quota.Refund(context.Reservation)); // the reservation as it is then: a zone change may have moved it
        return null;
    }
}
