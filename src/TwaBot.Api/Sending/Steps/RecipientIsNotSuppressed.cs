using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>Opted-out, blocked and undeliverable numbers are not messaged, to protect the quality rating.</summary>
public sealed class RecipientIsNotSuppressed(SuppressionLookup suppressions) : ISendStep
{
    public ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var phone = context.Content!.Phone;
        return ValueTask.FromResult(suppressions.StateOf(context.Caller.BusinessId, phone) is { } state ? ApiErrors.Suppressed(phone, state) : null);
    }
}
