using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using TwaBot.Api.Conversations;
using TwaBot.Api.Json;

namespace TwaBot.Api.Admin;

// Requests. Admin bodies reject unknown fields, so a typo or an attempt to set
// business_id, key_hash or the like is an error rather than silently ignored.

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateBusinessRequest([property: Required] string? Name, [property: Required] string? Plan, string? TimeZone);

/// <summary>Absent fields stay as they are; none can be cleared, so <c>null</c> is refused (it was taken as absent).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UpdateBusinessRequest
{
    public PatchField<string> Name { get; init; }

    public PatchField<string> Plan { get; init; }

    public PatchField<string> TimeZone { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ConnectWhatsAppRequest(
    string? PhoneNumberId, string? WabaId, string? AccessToken, string? DisplayPhoneNumber, bool? Sandbox);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateApiKeyRequest(
    [property: Required] string? Name, [property: Required] List<string>? Permissions, int? PerMinuteLimit, int? DailyLimit, DateTime? ExpiresAt);

/// <summary>Absent fields stay as they are; <c>null</c> clears a limit override or the expiry.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UpdateApiKeyRequest
{
    public PatchField<string> Name { get; init; }

    public PatchField<List<string>> Permissions { get; init; }

    public PatchField<int?> PerMinuteLimit { get; init; }

    public PatchField<int?> DailyLimit { get; init; }

    public PatchField<DateTime?> ExpiresAt { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AddSuppressionRequest(
    [property: Required] string? Phone,
    [property: Required, AllowedValues(SuppressionStates.OptedOut, SuppressionStates.Blocked, SuppressionStates.Undeliverable)] string? State,
    string? Reason);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
// CodeExpirationMinutes: AUTHENTICATION only, how long the code is valid, which Meta writes in the footer.
public sealed record CreateTemplateRequest(
    [property: Required] string? Name, [property: Required] string? Language, [property: Required] string? Category, string? Body, string? DisplayName, string? HeaderText, string? FooterText,
    List<string>? Variables, int? CodeExpirationMinutes = null);

// Responses. No response type has a field for an access token or a key hash.

public sealed record BusinessView(long Id, string Name, [property: AllowedValues(nameof(Businesses.Plan.Starter), nameof(Businesses.Plan.Growth), nameof(Businesses.Plan.Pro))] string Plan, string TimeZone, WhatsAppView Whatsapp);

public sealed record WhatsAppView(
    bool Connected, string? PhoneNumberId, string? WabaId, string? DisplayPhoneNumber, bool Sandbox);

public sealed record ApiKeyView(
    long Id,
    string Name,
    string Prefix,
    IReadOnlyList<string> Permissions,
    int? PerMinuteLimit,
    int? DailyLimit,
    DateTime? ExpiresAt,
    DateTime? RevokedAt,
    DateTime? LastUsedAt,
    DateTime CreatedAt)
{
    /// <summary>The full key: set only in the create response, the one time it is shown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [JsonPropertyOrder(-1)]
    public string? Key { get; init; }
}

public sealed record SuppressionView(string Phone, [property: AllowedValues(SuppressionStates.OptedOut, SuppressionStates.Blocked, SuppressionStates.Undeliverable)] string State, string? Reason, DateTime CreatedAt);

public sealed record BusinessResponse(BusinessView Business) : SuccessResponse;

public sealed record ApiKeyResponse(ApiKeyView ApiKey) : SuccessResponse;

public sealed record ApiKeyListResponse(IReadOnlyList<ApiKeyView> ApiKeys) : SuccessResponse;

public sealed record SuppressionResponse(SuppressionView Suppression) : SuccessResponse;

public sealed record AdminTemplateView(
    long Id,
    string Name,
    string Language,
    string Category,
    string Status,
    string? DisplayName,
    string Body,
    string? HeaderText,
    string? FooterText,
    IReadOnlyList<string> Variables,
    string? MetaTemplateId);

public sealed record AdminTemplateResponse(AdminTemplateView Template) : SuccessResponse;

/// <summary>What a sync did: templates Meta listed, and how many of ours were added, changed or marked deleted.</summary>
public sealed record TemplateSyncResponse(int Total, int Created, int Updated, int Removed) : SuccessResponse;
