using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>The business has a WhatsApp number to send from.</summary>
public sealed class WhatsAppIsConnected(TwaBotDbContext db) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        context.Connection = await db.WhatsAppConnections.AsNoTracking()
            .SingleOrDefaultAsync(w => w.BusinessId == context.Caller.BusinessId, cancellationToken);
        return context.Connection is null ? ApiErrors.WhatsAppNotConnected() : null;
    }
}
