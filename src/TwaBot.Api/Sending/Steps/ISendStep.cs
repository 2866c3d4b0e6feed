using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>One check of the send pipeline: one reason to refuse, one error. Null means "go on".</summary>
public interface ISendStep
{
    ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken);
}
