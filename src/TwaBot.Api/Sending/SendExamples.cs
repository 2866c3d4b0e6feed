namespace TwaBot.Api.Sending;

/// <summary>The public docs' send examples, for the OpenAPI document.</summary>
public static class SendExamples
{
    private const string Note = "Message accepted by Meta. Actual delivery is asynchronous — poll GET /api/v1/message-status/{message_id} to track delivered/read/failed.";

    public const string TemplateRequest = """
        { "phone": "919876543210", "template_name": "order_confirmation", "language": "en", "body_params": ["Rahul", "ORD-12345", "₹1,499"] }
        """;

    public const string TemplateResponse = $$"""
        { "success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "template": "order_confirmation",
          "delivery_status": "queued", "note": "{{Note}}" }
        """;

    public const string TemplateNotFound = """
        { "success": false, "error": "Template 'wrong_name' not found or not approved.", "error_code": "TEMPLATE_NOT_FOUND", "field": "template_name" }
        """;

    /// <summary>The docs' daily-limit body (plus our error_code).</summary>
    public const string DailyLimitReached = """
        {
          "success": false,
          "error": "Daily send limit reached (150/day on Growth plan). Resets at midnight. Upgrade to Pro for higher limits.",
          "error_code": "DAILY_LIMIT_REACHED",
          "daily_limit": 150,
          "daily_used": 150,
          "plan": "Growth",
          "retry_after": "midnight"
        }
        """;

    /// <summary>The docs' suppressed body (plus our error_code).</summary>
    public const string Suppressed = """
        {
          "success": false,
          "error": "Phone 919876543210 is suppressed (opted_out). Message not sent to protect your quality rating.",
          "error_code": "SUPPRESSED",
          "suppression_state": "opted_out"
        }
        """;

    public const string TextRequest = """
        { "phone": "9876543210", "message": "Hi Rahul! Your appointment is confirmed for tomorrow at 2 PM." }
        """;

    public const string TextResponse = $$"""
        { "success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "delivery_status": "queued", "note": "{{Note}}" }
        """;

    public const string TextWindowClosed = """
        { "success": false,
          "error": "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template (send-template or quick-send with template=) for re-engagement.",
          "error_code": "WINDOW_CLOSED", "session_window": { "open": false, "last_inbound_at": null },
          "hint": "Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead." }
        """;

    public const string QuickSendWindowClosed = """
        { "success": false,
          "error": "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template for re-engagement.",
          "error_code": "WINDOW_CLOSED", "session_window": { "open": false, "last_inbound_at": null },
          "hint": "Call GET /api/v1/quick-send?phone=...&template=<approved_template_name>&params=... instead." }
        """;

    /// <summary>The docs' general window-closed body, which send-media answers.</summary>
    public const string MediaWindowClosed = """
        { "success": false,
          "error": "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template for re-engagement.",
          "error_code": "WINDOW_CLOSED", "session_window": { "open": false, "last_inbound_at": null },
          "hint": "Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead." }
        """;

    public const string MediaRequest = """
        { "phone": "919876543210", "media_type": "document", "media_url": "https://example.com/invoice-123.pdf",
          "caption": "Here is your invoice", "filename": "Invoice-123.pdf" }
        """;

    public const string MediaResponse = $$"""
        { "success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "media_type": "document",
          "delivery_status": "queued", "note": "{{Note}}" }
        """;

    public const string OtpRequest = """
        { "phone": "919876543210", "template_name": "otp_verification" }
        """;

    public const string OtpResponse = $$"""
        { "success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "otp": "482913",
          "delivery_status": "queued", "note": "{{Note}}" }
        """;

    /// <summary>
    /// A send whose outcome is unknown (Meta answered a 5xx, or not in time): our own message id, which message-status takes
    /// (README, "Errors"). The text is <see cref="Errors.ApiErrors.MetaUnavailable"/>'s.
    /// </summary>
    public const string MetaUnavailable = """
        {
          "success": false,
          "error": "WhatsApp (Meta) failed or did not answer, so whether it took the message is unknown; it may still be delivered, and sending it again may deliver it twice. Follow it with GET /api/v1/message-status/{message_id}.",
          "error_code": "META_UNAVAILABLE",
          "message_id": "twb:k4q8z2m7x1c9v5b3n6p0"
        }
        """;
}
