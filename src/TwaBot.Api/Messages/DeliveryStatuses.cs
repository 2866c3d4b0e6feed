namespace TwaBot.Api.Messages;

/// <summary>
/// <c>delivery_status</c> values and the rule that orders them (PRODUCT.md §2): statuses only move
/// forward, sent &lt; delivered &lt; read, whatever order webhooks arrive in; <c>failed</c> never
/// replaces delivered or read, and a later delivered or read replaces <c>failed</c> (a customer
/// with several devices). Ranks: none 0, sent 1, failed 2, delivered 3, read 4 — so "replace when
/// the new rank is higher" is the whole rule, and one conditional UPDATE applies it.
/// </summary>
public static class DeliveryStatuses
{
    public const string Sent = "sent";
    public const string Delivered = "delivered";
    public const string Read = "read";
    public const string Failed = "failed";

    public static int Rank(string? status) => status switch
    {
        Sent => 1,
        Failed => 2,
        Delivered => 3,
        Read => 4,
        _ => 0,
    };

    /// <summary>Statuses we track; Meta's <c>played</c> (voice notes) and others are kept in history only.</summary>
    public static bool IsTracked(string status) => Rank(status) > 0;
}
