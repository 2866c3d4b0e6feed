using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using TwaBot.Api.Json;

namespace TwaBot.Api.Sending;

// Request bodies of the public docs. Unknown fields are ignored (CRMs send extra data); every
// field is nullable so a missing one is reported by name instead of failing deserialization.
// [Required] marks the docs' required fields for the OpenAPI document only: the send pipeline
// checks them itself, in its order of checks.

public sealed record SendTemplateRequest(
    [property: Required, Description(SendFieldDocs.Phone)] string? Phone,
    [property: Required, Description("Meta template name (e.g. order_confirmation), approved for this business.")] string? TemplateName,
    [property: Description(SendFieldDocs.Language)] string? Language,
    [property: Description("Values for body variables {{1}}, {{2}}, etc., as many as the template has (each at most 1024 characters, with no line break, tab or more than four spaces in a row).")] List<string>? BodyParams,
    [property: Description("Values for header variables: the text header's (each at most 60 characters, Meta's limit in a header), or the file's public http(s) URL for a media header (not on localhost or a loopback, private, link-local, shared, unspecified, multicast, reserved, documentation or benchmarking address, which Meta cannot reach).")] List<string>? HeaderParams,
    [property: Description(SendFieldDocs.ButtonParams)] List<string>? ButtonParams = null);

public sealed record SendTextRequest(
    [property: Required, Description(SendFieldDocs.Phone)] string? Phone,
    [property: Required, Description("Message text (max 4096 characters). Only within 24 hours of the customer's last message to the business.")] string? Message);

public sealed record SendMediaRequest(
    [property: Required, Description(SendFieldDocs.Phone)] string? Phone,
    [property: Required, Description("One of: image, document, video, audio.")] string? MediaType,
    [property: Required, Description(SendFieldDocs.MediaUrl)] string? MediaUrl,
    [property: Description("Caption for image/video/document (at most 1024 characters).")] string? Caption,
    [property: Description("Filename for documents (e.g. invoice.pdf; at most 240 characters).")] string? Filename);

public sealed record SendOtpRequest(
    [property: Required, Description(SendFieldDocs.Phone)] string? Phone,
    [property: Required, Description("Your approved OTP (AUTHENTICATION) template name.")] string? TemplateName,
    [property: Description("Custom OTP code, 4 to 15 digits. Auto-generated (6 random digits) if not provided.")] string? Otp,
    [property: Description(SendFieldDocs.Language)] string? Language);

/// <summary>
/// Descriptions of the send fields and quick-send's query parameters, in the API docs' words, for the OpenAPI document
/// (Swagger UI shows them beside each field); README, "How requests are read", has the reading rules in full.
/// </summary>
internal static class SendFieldDocs
{
    public const string Phone = "Customer's phone number with country code (e.g. 919876543210); spaces, dashes, dots, brackets and a leading + or 00 are ignored, and a 10-digit Indian mobile gets 91.";

    public const string Language = "Template language code. Default: en.";

    public const string MediaUrl = "Publicly accessible absolute http(s) URL of the media file. Meta's servers download it from the internet, so a URL "
        + "whose host is localhost (or *.localhost) or a loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), "
        + "shared (100.64/10), unspecified (0.0.0.0/8, ::), multicast (224/4, ff00::/8), reserved (240/4, broadcast included), "
        + "documentation (192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32) or benchmarking (198.18/15) address is refused (VALIDATION_FAILED), "
        + "an IPv4 address written inside IPv6 (::ffff:10.0.0.1, ::10.0.0.1, 64:ff9b::10.0.0.1) judged as itself; host names are not looked up.";

    public const string ButtonParams = "Values for the template's buttons that take one, in the buttons' order: the end of a URL button's link, "
        + "which its {{1}} stands for, and a copy-code button's coupon code (at most 15 letters and digits). A send that gives too few is told what each is. "
        + "An addition to the TwaBot docs: leave it out for templates without such buttons.";

    public const string QuickSendPhone = Phone + " Write a leading + as %2B: a bare + before 10 digits starting 6-9 is refused, since a URL's + may be an encoded space.";

    public const string QuickSendTemplate = "Meta-approved template name. Required if message is not provided; with both, the template is sent.";

    public const string QuickSendParams = @"Comma-separated template variables, e.g. Rahul,ORD-123,₹1499 (percent-encoded UTF-8, once: & is %26); \, is a comma inside a value. Only with template= (beside message= alone, refused).";

    public const string QuickSendButtonParams = @"Values for the template's buttons that take one, comma-separated as params (\, is a comma inside a value): "
        + "the end of a URL button's link and a copy-code button's coupon code, in the buttons' order. An addition to the TwaBot docs.";

    public const string QuickSendMessage = "Plain text message (only works within the 24-hour conversation window), percent-encoded UTF-8, once (& is %26, # is %23). Required if template is not provided.";

    public const string QuickSendIdempotencyKey = "Optional: a key of your own (1 to 255 printable ASCII characters; a UUID is a good one) that makes a retry safe, "
        + "in the URL for form builders and links; an Idempotency-Key header is read too, and counts when both are given.";
}

/// <summary>The docs' send answer: what was accepted, and that delivery is reported later.</summary>
public sealed record SendResponse : SuccessResponse
{
    public const string QueuedNote =
        "Message accepted by Meta. Actual delivery is asynchronous — poll GET /api/v1/message-status/{message_id} to track delivered/read/failed.";

    public required string MessageId { get; init; }

    public required string Phone { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Template { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MediaType { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Otp { get; init; }

    public string DeliveryStatus => "queued";

    public string Note => QueuedNote;
}
