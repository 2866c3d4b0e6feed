using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>The business has a WhatsApp number to send from.</summary>
public sealed class WhatsAppIsConnected(TwaBotDbContext db, SendLookups lookups) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var business = await lookups.GetAsync(db, context.Caller.BusinessId, cancellationToken);
        context.Connection = business.Connection;
        return business.Connection is not null ? null
            : business.IsConnected ? ApiErrors.WhatsAppTokenUnreadable()
            : ApiErrors.WhatsAppNotConnected();
    }
}
