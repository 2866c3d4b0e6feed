using System.Text.Json.Serialization;

namespace TwaBot.Api.Errors;

/// <summary>
/// The one error envelope: <c>success:false</c>, a human <c>error</c>, a machine <c>error_code</c>,
/// plus the extra fields the public docs show for particular errors (absent when they do not apply).
/// </summary>
public sealed record ErrorBody
{
    public bool Success => false;

    public required string Error { get; init; }

    public required string ErrorCode { get; init; }

    /// <summary>The request field a validation error is about.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Field { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SessionWindowState? SessionWindow { get; init; }

    /// <summary>
    /// SUPPRESSED's reason: a state of the business's list, or <c>marketing_opted_out</c> (a MARKETING template to a
    /// customer who stopped marketing messages in WhatsApp), which no list holds. Documented, never checked.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [System.ComponentModel.Description("With SUPPRESSED: opted_out, blocked or undeliverable (the business's suppression list), or marketing_opted_out "
        + "(a MARKETING template to a customer who stopped marketing messages in WhatsApp; other messages still go).")]
    [System.ComponentModel.DataAnnotations.AllowedValues(Conversations.SuppressionStates.OptedOut, Conversations.SuppressionStates.Blocked,
        Conversations.SuppressionStates.Undeliverable, Conversations.SuppressionStates.MarketingOptedOut, null)]
    public string? SuppressionState { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DailyLimit { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? DailyUsed { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Plan { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? RetryAfter { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? RetryAfterSeconds { get; init; }

    /// <summary>A send whose outcome is unknown: the id to follow it by on message-status.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MessageId { get; init; }

    /// <summary>
    /// Last, as in the docs' bodies (WINDOW_CLOSED, message not found): a hint added to one of the docs' other bodies
    /// (SUPPRESSED, the 429) follows its fields instead of coming between them.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Hint { get; init; }
}

/// <summary>The seed's <c>session_window</c> object; <c>last_inbound_at</c> is written even when null.</summary>
public sealed record SessionWindowState(bool Open, DateTime? LastInboundAt);
