using TwaBot.Api.Errors;
using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// An OTP takes a slot of its number's hourly cap (<see cref="OtpRecipientLimit"/>), held by the send like its unit
/// of the daily cap. Last of the checks: a send another step refuses never counts against the number.
/// A send through an AUTHENTICATION template is an OTP too, whether it came through send-otp, send-template or
/// quick-send (the README documents send-template for them): otherwise the cap would be one endpoint away.
/// </summary>
public sealed class OtpRecipientIsUnderLimit(OtpRecipientLimit limit) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.IsOtp)
        {
            return null;
        }

        var phone = context.Content!.Phone;
        var decision = await limit.TryReserveAsync(context.Caller.BusinessId, phone, cancellationToken);
        if (!decision.Allowed)
        {
            return ApiErrors.OtpRecipientLimitReached(phone, decision.Limit, decision.SecondsUntilFree);
        }

        context.Holds(decision.Reservation.GiveBack); // given back only through the context, so at most once (a no-op when the cap is off)
        return null;
    }
}
