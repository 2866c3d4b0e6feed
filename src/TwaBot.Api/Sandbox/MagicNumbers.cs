namespace TwaBot.Api.Sandbox;

/// <summary>
/// Recipient numbers that make the emulator misbehave on purpose (README, "The sandbox", Magic numbers),
/// by their last four digits.
/// </summary>
public static class MagicNumbers
{
    public const string Undeliverable = "0000";
    public const string WindowClosed = "0047";
    public const string StoppedMarketing = "0050";
    public const string Throttled = "0429";
    public const string ServerError = "0500";

    /// <summary>The synchronous refusal for this recipient, or null to accept.</summary>
    public static IResult? Refusal(string to) => Suffix(to) switch
    {
        WindowClosed => GraphErrors.ReEngagement(),
        Throttled => GraphErrors.Throughput(),
        ServerError => GraphErrors.ServerError(),
        _ => null,
    };

    /// <summary>
    /// The status reports an accepted message of this <paramref name="category"/> (Meta's pricing category: marketing,
    /// utility, authentication, service) gets. A customer who stopped marketing messages gets the others as usual.
    /// </summary>
    public static (string Status, int? ErrorCode, string? ErrorTitle)[] Statuses(string to, string category) => Suffix(to) switch
    {
        Undeliverable => [("sent", null, null), ("failed", 131026, "Message undeliverable")],
        StoppedMarketing when category == "marketing" => [("failed", Meta.MetaErrorCodes.MarketingStopped, "User has stopped marketing messages")],
        _ => [("sent", null, null), ("delivered", null, null), ("read", null, null)],
    };

    private static string Suffix(string to) => to.Length >= 4 ? to[^4..] : to;
}
