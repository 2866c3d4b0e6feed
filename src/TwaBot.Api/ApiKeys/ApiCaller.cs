using TwaBot.Api.Businesses;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// The authenticated API key of the current request and the business it belongs to. Handlers take
/// it as a parameter; every tenant query filters on <see cref="BusinessId"/>.
/// </summary>
public sealed record ApiCaller(
    long KeyId,
    string KeyName,
    long BusinessId,
    string BusinessName,
    Plan Plan,
    string TimeZone,
    IReadOnlyList<string> Permissions,
    int? PerMinuteLimit,
    int? DailyLimit,
    DateTime? ExpiresAt,
    DateTime? RevokedAt)
{
    public bool Grants(string permission) => ApiKeyPermissions.Grants(Permissions, permission);

    /// <summary>Minimal-API binding: the caller set by <see cref="ApiKeyAuthenticationHandler"/>.</summary>
    public static ValueTask<ApiCaller?> BindAsync(HttpContext context) =>
        ValueTask.FromResult(context?.Features.Get<ApiCaller>());
}
