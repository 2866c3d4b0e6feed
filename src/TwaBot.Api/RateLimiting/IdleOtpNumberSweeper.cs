using TwaBot.Api.Data;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// Every hour, forgets the numbers the OTP limit holds that were sent no OTP in the last hour, so none stays in memory
/// more than two hours after its last OTP (docs/operations.md, Personal data), also when no further OTP comes to sweep.
/// </summary>
public sealed class IdleOtpNumberSweeper(OtpRecipientLimit limit, TimeProvider time, ILogger<IdleOtpNumberSweeper> logger)
    : PeriodicSweep(time, logger)
{
    protected override TimeSpan Period => OtpRecipientLimit.Window;

    protected override Task RunOnceAsync(CancellationToken cancellationToken)
    {
        limit.ForgetIdleNumbers(Time.GetUtcNow());
        return Task.CompletedTask;
    }
}
