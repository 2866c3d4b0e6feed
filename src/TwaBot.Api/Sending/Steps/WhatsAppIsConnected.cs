using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>The business has a WhatsApp number to send from.</summary>
public sealed class WhatsAppIsConnected(TwaBotDbContext db, SendLookups lookups) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Connection = (await lookups.GetAsync(db, context.Caller.BusinessId, cancellationToken)).Connection;
        return context.Connection is null ? ApiErrors.WhatsAppNotConnected() : null;
    }
}
