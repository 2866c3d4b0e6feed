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

    /// <summary>The states an admin may set; the list a suppression row holds.</summary>
    public static IReadOnlyList<string> All { get; } = [OptedOut, Blocked, Undeliverable];

    /// <summary>
    /// Not a row of the list: the customer stopped marketing messages in WhatsApp (Meta's user_preferences, or its
    /// 131050 refusal), so marketing templates are refused until they resume; other messages still go.
    /// </summary>
    public const string MarketingOptedOut = "marketing_opted_out";
}
