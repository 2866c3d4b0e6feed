using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using TwaBot.Api.Json;

namespace TwaBot.Api.Sending;

// Request bodies of the public docs. Unknown fields are ignored (CRMs send extra data); every
// field is nullable so a missing one is reported by name instead of failing deserialization.
// [Required] marks the docs' required fields for the OpenAPI document only: the send pipeline
// checks them itself, in its order of checks.

public sealed record SendTemplateRequest(
    [property: Required] string? Phone, [property: Required] string? TemplateName, string? Language, List<string>? BodyParams, List<string>? HeaderParams);

public sealed record SendTextRequest([property: Required] string? Phone, [property: Required] string? Message);

public sealed record SendMediaRequest(
    [property: Required] string? Phone, [property: Required] string? MediaType, [property: Required] string? MediaUrl, string? Caption, string? Filename);

public sealed record SendOtpRequest([property: Required] string? Phone, [property: Required] string? TemplateName, string? Otp, string? Language);

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
