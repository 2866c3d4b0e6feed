using TwaBot.Api.Businesses;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>Starter businesses may not send at all (public docs: "Starter plan users get a 403").</summary>
public sealed class PlanAllowsSending : ISendStep
{
    public ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(context.Caller.Plan == Plan.Starter ? ApiErrors.PlanNotAllowed(context.Caller.Plan.ToString()) : null);
}

/// <summary>The key holds the permission of the route (quick-send: of its mode), or <c>*</c>.</summary>
public sealed class PermissionIsGranted : ISendStep
{
    public ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(context.Caller.Grants(context.Route.Permission) ? null : ApiErrors.PermissionDenied(context.Route.Permission));
}
