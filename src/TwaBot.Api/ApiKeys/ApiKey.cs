using TwaBot.Api.Businesses;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// An API key of a business. The key itself is shown once at creation; only its SHA-256 is kept,
/// and requests find their key by that hash.
/// </summary>
public sealed class ApiKey
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    public Business? Business { get; set; }

    public required string Name { get; set; }

    /// <summary>The first characters of the key, enough to recognise it in a list.</summary>
    public required string Prefix { get; set; }

    /// <summary>SHA-256 of the whole key (32 bytes), unique.</summary>
    public required byte[] KeyHash { get; set; }

    /// <summary>Permission names (<see cref="ApiKeyPermissions"/>); <c>*</c> grants all.</summary>
    public List<string> Permissions { get; set; } = [];

    /// <summary>Overrides <c>TwaBot:RateLimits:PerKeyPerMinute</c> when set.</summary>
    public int? PerMinuteLimit { get; set; }

    /// <summary>Overrides the plan's daily send cap when set.</summary>
    public int? DailyLimit { get; set; }

    public DateTime? ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }

    /// <summary>Updated at most once a minute, so requests are not writes.</summary>
    public DateTime? LastUsedAt { get; set; }

    public DateTime CreatedAt { get; set; }
}
