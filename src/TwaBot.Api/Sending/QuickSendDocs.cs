namespace TwaBot.Api.Sending;

/// <summary>
/// quick-send's query parameters as the API docs' table describes them, for the OpenAPI document (Swagger UI shows
/// them beside each field); README, "How requests are read", has the reading rules in full.
/// </summary>
internal static class QuickSendDocs
{
    public const string Phone = "Customer's phone number with country code (e.g. 919876543210); a 10-digit Indian mobile gets 91. "
        + "Write a leading + as %2B: a bare + before 10 digits starting 6-9 is refused, since a URL's + may be an encoded space.";

    public const string Template = "Meta-approved template name. Required if message is not provided; with both, the template is sent.";

    public const string Lang = "Template language code. Default: en.";

    public const string Params = @"Comma-separated template variables, e.g. Rahul,ORD-123,₹1499 (percent-encoded UTF-8); \, is a comma inside a value.";

    public const string Message = "Plain text message (only works within the 24-hour conversation window). Required if template is not provided.";

    public const string IdempotencyKey = "Optional: the Idempotency-Key, for clients that cannot set headers (the header counts when both are given).";
}
