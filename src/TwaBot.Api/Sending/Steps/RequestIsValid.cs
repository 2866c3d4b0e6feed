using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>The endpoint's own field checks and phone normalization.</summary>
public sealed class RequestIsValid : ISendStep
{
    public ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken) => context.ValidateAsync();
}
