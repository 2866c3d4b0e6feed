namespace TwaBot.Api.Conversations;

/// <summary>
/// Customer keywords that opt out of, or back into, messages from the business. The whole message
/// must be the keyword (any letter case, surrounding spaces ignored): "stop it" is a conversation.
/// </summary>
public static class OptOutKeywords
{
    private static readonly string[] OptOut = ["STOP", "UNSUBSCRIBE"];
    private static readonly string[] OptIn = ["START", "SUBSCRIBE"];

    public static bool IsOptOut(string? text) => Matches(text, OptOut);

    public static bool IsOptIn(string? text) => Matches(text, OptIn);

    private static bool Matches(string? text, string[] keywords) =>
        text is not null && keywords.Any(k => string.Equals(text.Trim(), k, StringComparison.OrdinalIgnoreCase));
}
