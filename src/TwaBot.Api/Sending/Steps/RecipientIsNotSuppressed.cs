using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>Opted-out, blocked and undeliverable numbers are not messaged, to protect the quality rating.</summary>
public sealed class RecipientIsNotSuppressed(TwaBotDbContext db) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        var phone = context.Content!.Phone;
        var state = await db.Suppressions.AsNoTracking()
            .Where(s => s.BusinessId == context.Caller.BusinessId && s.Phone == phone)
            .Select(s => s.State)
            .SingleOrDefaultAsync(cancellationToken);
        return state is null ? null : ApiErrors.Suppressed(phone, state);
    }
}
