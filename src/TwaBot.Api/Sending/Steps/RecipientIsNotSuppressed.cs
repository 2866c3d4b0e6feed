using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>Opted-out, blocked and undeliverable numbers are not messaged, to protect the quality rating.</summary>
public sealed class RecipientIsNotSuppressed(TwaBotDbContext db, SendLookups lookups) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var phone = context.Content!.Phone;
        var suppressions = (await lookups.GetAsync(db, context.Caller.BusinessId, cancellationToken)).Suppressions;
        return suppressions.TryGetValue(phone, out var state) ? ApiErrors.Suppressed(phone, state) : null;
    }
}
