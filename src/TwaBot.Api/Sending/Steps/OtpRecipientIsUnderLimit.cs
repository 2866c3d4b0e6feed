using TwaBot.Api.Errors;
using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// An OTP takes a slot of its number's hourly cap (<see cref="OtpRecipientLimit"/>), held by the send like its unit
/// of the daily cap. Last of the checks: a send another step refuses never counts against the number.
/// </summary>
public sealed class OtpRecipientIsUnderLimit(OtpRecipientLimit limit) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Content is not OtpContent otp || limit.Limit == 0)
        {
            return null;
        }

        var decision = await limit.TryReserveAsync(context.Caller.BusinessId, otp.Phone, cancellationToken);
        if (!decision.Allowed)
        {
            return ApiErrors.OtpRecipientLimitReached(otp.Phone, decision.Limit, decision.SecondsUntilFree);
        }

        context.OtpReservation = decision.Reservation;
        context.Holds(decision.Reservation.GiveBack);
        return null;
    }
}
