namespace TwaBot.Api.Meta;

/// <summary>Meta's error codes that more than one part of the server acts on (the rest are read where they are mapped).</summary>
public static class MetaErrorCodes
{
    /// <summary>Re-engagement: a free-form message more than 24 hours after the customer last wrote.</summary>
    public const int OutsideWindow = 131047;

    /// <summary>A marketing template to a customer who stopped marketing messages from the business.</summary>
    public const int MarketingStopped = 131050;
}
