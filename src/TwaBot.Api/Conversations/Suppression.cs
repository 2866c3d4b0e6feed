namespace TwaBot.Api.Conversations;

/// <summary>A phone number the business must not message, and why.</summary>
public sealed class Suppression
{
    public long Id { get; set; }

    public long BusinessId { get; set; }

    /// <summary>Normalized digits, as sends normalize recipients.</summary>
    public required string Phone { get; set; }

    /// <summary>One of <see cref="SuppressionStates"/>.</summary>
    public required string State { get; set; }

    public string? Reason { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>The <c>suppression_state</c> values.</summary>
public static class SuppressionStates
{
    public const string OptedOut = "opted_out";
    public const string Blocked = "blocked";
    public const string Undeliverable = "undeliverable";

    public static IReadOnlyList<string> All { get; } = [OptedOut, Blocked, Undeliverable];
}
