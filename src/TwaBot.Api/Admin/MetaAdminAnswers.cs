using TwaBot.Api.Errors;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Admin;

/// <summary>
/// The admin calls' answer when Meta did not take up the request itself (template submission and sync, the connect's
/// check): throttled, paused by the breaker, failing, unreachable or answering something else. Meta's refusal of the
/// request is each call's own to word (a template, a token, an id), so it gives null for that.
/// </summary>
internal static class MetaAdminAnswers
{
    /// <summary>
    /// The answer to <paramref name="failure"/>, or null for Meta's refusal; <paramref name="unchanged"/> says what was left as
    /// it was.
    /// </summary>
    public static ApiError? Unanswered(MetaFailure failure, string unchanged = "nothing was changed here") => failure switch
    {
        { Kind: MetaFailureKind.Rejected, IsThrottling: true } => ApiErrors.MetaRequestRateLimited(failure.RetryAfterSeconds, unchanged),
        { Kind: MetaFailureKind.Rejected, Error: not null } => null,
        { Kind: MetaFailureKind.CircuitOpen } => ApiErrors.MetaRequestPaused(failure.RetryAfterSeconds, unchanged),
        _ => ApiErrors.MetaRequestUnavailable(unchanged),
    };
}
