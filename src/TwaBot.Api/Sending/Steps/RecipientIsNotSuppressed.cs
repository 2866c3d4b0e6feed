using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// Opted-out, blocked and undeliverable numbers are not messaged, to protect the quality rating; nor are
/// MARKETING templates sent to a customer who stopped marketing messages in WhatsApp (Meta would refuse them).
/// </summary>
public sealed class RecipientIsNotSuppressed(SuppressionLookup suppressions) : ISendStep
{
    public ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var phone = context.Content!.Phone;
        var state = suppressions.StateOf(context.Caller.BusinessId, phone);
        if (state is null && context.Template is { IsMarketing: true }
            && suppressions.StoppedMarketing(context.Caller.BusinessId, phone))
        {
            state = Conversations.SuppressionStates.MarketingOptedOut;
        }

        return ValueTask.FromResult(state is null ? null : ApiErrors.Suppressed(phone, state));
    }
}
