using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using TwaBot.Api.Conversations;
using TwaBot.Api.Json;

namespace TwaBot.Api.Admin;

// Requests. Admin bodies reject unknown fields, so a typo or an attempt to set
// business_id, key_hash or the like is an error rather than silently ignored.

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateBusinessRequest(
    [property: Required, Description(AdminFieldDocs.BusinessName)] string? Name,
    [property: Required, Description(AdminFieldDocs.Plan)] string? Plan,
    [property: Description(AdminFieldDocs.TimeZone)] string? TimeZone);

/// <summary>Absent fields stay as they are; none can be cleared, so <c>null</c> is refused (it was taken as absent).</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UpdateBusinessRequest
{
    [Description(AdminFieldDocs.BusinessName)]
    public PatchField<string> Name { get; init; }

    [Description(AdminFieldDocs.Plan)]
    public PatchField<string> Plan { get; init; }

    [Description(AdminFieldDocs.TimeZone)]
    public PatchField<string> TimeZone { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ConnectWhatsAppRequest(
    [property: Description("Meta's id of the business's WhatsApp phone number (digits); with sandbox, optional.")] string? PhoneNumberId,
    [property: Description("Meta's id of the WhatsApp Business Account (digits); with sandbox, optional.")] string? WabaId,
    [property: Description("A Meta access token for the account, as Meta issues it; stored encrypted and never returned. Not with sandbox.")] string? AccessToken,
    [property: Description("The number as customers see it, at most 32 characters, one line; left out or blank: the number as Meta lists it (the emulator's in the sandbox).")] string? DisplayPhoneNumber,
    [property: Description("true (sandbox mode only): connect to the Meta emulator instead of Meta.")] bool? Sandbox);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateApiKeyRequest(
    [property: Required, Description(AdminFieldDocs.KeyName)] string? Name,
    [property: Required, Description(AdminFieldDocs.Permissions)] List<string>? Permissions,
    [property: Description(AdminFieldDocs.PerMinuteLimit)] int? PerMinuteLimit,
    [property: Description(AdminFieldDocs.DailyLimit)] int? DailyLimit,
    [property: Description(AdminFieldDocs.ExpiresAt)] DateTime? ExpiresAt);

/// <summary>Absent fields stay as they are; <c>null</c> clears a limit override or the expiry.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record UpdateApiKeyRequest
{
    [Description(AdminFieldDocs.KeyName)]
    public PatchField<string> Name { get; init; }

    [Description(AdminFieldDocs.Permissions)]
    public PatchField<List<string>> Permissions { get; init; }

    [Description(AdminFieldDocs.PerMinuteLimit + " null clears it.")]
    public PatchField<int?> PerMinuteLimit { get; init; }

    [Description(AdminFieldDocs.DailyLimit + " null clears it.")]
    public PatchField<int?> DailyLimit { get; init; }

    [Description(AdminFieldDocs.ExpiresAt + " null clears it.")]
    public PatchField<DateTime?> ExpiresAt { get; init; }
}

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record AddSuppressionRequest(
    [property: Required, Description("The phone number, written as for a send (it is normalized the same way).")] string? Phone,
    [property: Required, AllowedValues(SuppressionStates.OptedOut, SuppressionStates.Blocked, SuppressionStates.Undeliverable),
        Description("Why the number is not messaged: opted_out, blocked or undeliverable.")] string? State,
    [property: Description("An optional note of your own, at most 500 characters; a blank one is stored as none.")] string? Reason);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record ImportSuppressionsRequest(
    [property: Required, MinLength(1), MaxLength(SuppressionsAdmin.MaxImport), Description("1 to 1000 numbers to suppress, each as the body of an add: {phone, state, reason?}. All are stored, or none when one is refused.")]
    List<AddSuppressionRequest?>? Suppressions);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateTemplateRequest(
    [property: Required, Description("The template's name at Meta: lowercase letters, digits and underscores.")] string? Name,
    [property: Required, Description("Its language code, e.g. en or en_US.")] string? Language,
    [property: Required, Description("MARKETING, UTILITY or AUTHENTICATION.")] string? Category,
    [property: Description("The body text, at most 1024 characters, with {{1}}, {{2}}, … or {{name}} placeholders (names of lowercase letters, digits and underscores, as Meta requires); not for AUTHENTICATION (Meta writes it).")] string? Body,
    [property: Description("A name of your own for lists, at most 200 characters.")] string? DisplayName,
    [property: Description("An optional text header, one line of at most 60 characters; not for AUTHENTICATION.")] string? HeaderText,
    [property: Description("An optional footer, one line of at most 60 characters; not for AUTHENTICATION.")] string? FooterText,
    [property: Description("Example values for the placeholders, in order, which Meta reviews.")] List<string>? Variables,
    [property: Description("AUTHENTICATION only: how long the code is valid (1-90), which Meta writes in the footer.")] int? CodeExpirationMinutes = null,
    [property: Description("Up to 10 buttons, in the order WhatsApp shows them; not for AUTHENTICATION (Meta gives those a copy-code button).")] List<CreateTemplateButton>? Buttons = null);

/// <summary>One button of a template submitted through the admin API, in Meta's terms.</summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record CreateTemplateButton(
    [property: Required, Description("QUICK_REPLY, URL, PHONE_NUMBER or COPY_CODE (COPY_CODE in MARKETING templates only).")] string? Type,
    [property: Description("The button's label, at most 25 characters; not for COPY_CODE (WhatsApp writes it).")] string? Text,
    [property: Description("URL only: an absolute http(s) link, which may end in {{1}}: each send then gives that end in button_params.")] string? Url,
    [property: Description("PHONE_NUMBER only: the number the button calls, with country code, e.g. +919876543210.")] string? PhoneNumber,
    [property: Description("URL with {{1}}: a sample value of {{1}} for Meta's review (default: example). COPY_CODE: a sample code, at most 15 letters and digits.")] string? Example);

/// <summary>Descriptions the admin bodies share, for the OpenAPI document (README, "Admin API", has the rules in full).</summary>
internal static class AdminFieldDocs
{
    public const string BusinessName = "The business's name, one line, at most 200 characters.";

    public const string Plan = "Starter (no sending), Growth or Pro.";

    public const string TimeZone = "IANA time zone id spelled exactly (e.g. Asia/Kolkata), for the daily cap's midnight; default the server's.";

    public const string KeyName = "A name for the key, one line of at most 100 characters (e.g. the application that uses it).";

    public const string Permissions = "send_template, send_text, send_media, send_otp, or * for all.";

    public const string PerMinuteLimit = "Requests per minute for this key, in place of the server's default (at least 1).";

    public const string DailyLimit = "Sends per day for this key, in place of its plan's (at least 1).";

    public const string ExpiresAt = "When the key stops working, ISO 8601 (e.g. 2026-12-31T23:59:59Z; without an offset, UTC).";
}

// Responses. No response type has a field for an access token or a key hash.

public sealed record BusinessView(long Id, string Name, [property: AllowedValues(nameof(Businesses.Plan.Starter), nameof(Businesses.Plan.Growth), nameof(Businesses.Plan.Pro))] string Plan, string TimeZone, WhatsAppView Whatsapp);

/// <summary><see cref="TokenRefusedAt"/>: when Meta first refused the token, while no call with it has succeeded since (kept across restarts).</summary>
public sealed record WhatsAppView(
    bool Connected, string? PhoneNumberId, string? WabaId, string? DisplayPhoneNumber, bool Sandbox, DateTime? TokenRefusedAt);

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

public sealed record BusinessListResponse(IReadOnlyList<BusinessView> Businesses) : SuccessResponse;

public sealed record ApiKeyResponse(ApiKeyView ApiKey) : SuccessResponse;

public sealed record ApiKeyListResponse(IReadOnlyList<ApiKeyView> ApiKeys) : SuccessResponse;

public sealed record SuppressionResponse(SuppressionView Suppression) : SuccessResponse;

/// <summary>What an import did: numbers added to the list, and numbers already on it whose state and reason it replaced.</summary>
public sealed record SuppressionImportResponse(int Added, int Updated) : SuccessResponse;

/// <summary>A page of a business's suppression list; <c>next_after</c> is the <c>after=</c> of the next page, null on the last.</summary>
public sealed record SuppressionListResponse(IReadOnlyList<SuppressionView> Suppressions, string? NextAfter) : SuccessResponse;

public sealed record AdminTemplateView(
    long Id,
    string Name,
    string Language,
    string Category,
    string Status,
    [property: Description("Why Meta gave the status, as its last status webhook or a sync said: a rejection's reason (INVALID_FORMAT, …, with Meta's explanation and 'Meta recommends: …' what to change when its webhook gave them), a pause's notice; null when Meta gave none.")] string? StatusReason,
    string? DisplayName,
    string Body,
    string? HeaderText,
    string? FooterText,
    IReadOnlyList<string> Variables,
    string? MetaTemplateId,
    [property: Description("Each button in order, by what a send gives it: url_suffix, coupon_code, none, or unsupported (a multi-product button, which this API cannot send).")] IReadOnlyList<string> Buttons,
    [property: Description("Meta's quality score for the template, from its quality webhook or a sync: GREEN, YELLOW, RED or UNKNOWN (not scored yet); null until Meta said.")] string? QualityScore,
    [property: Description("Each button in the order of buttons, with its kind (as in buttons), its label and its link (a URL button's, with its {{1}} if it has one).")] IReadOnlyList<AdminTemplateButton> ButtonDetails,
    [property: Description("The component of Meta's template that no send here can fill (CAROUSEL, LIMITED_TIME_OFFER, or another beyond header, body, footer and buttons): sends of the template are refused while it has one. Null when it has none.")] string? UnsendableComponent);

/// <summary>One button of a stored template: what a send gives it, and its label and link when the template has them and they are known.</summary>
public sealed record AdminTemplateButton(
    [property: Description("What a send gives the button: url_suffix, coupon_code, none or unsupported.")] string Kind,
    [property: Description("The button's label; null for a copy-code button (Meta writes its label) and for a template stored before labels were kept, until its next sync.")] string? Text,
    [property: Description("A URL button's link, with {{1}} where a send's url_suffix goes; null for other buttons and for a template stored before links were kept, until its next sync.")] string? Url);

public sealed record AdminTemplateResponse(AdminTemplateView Template) : SuccessResponse;

public sealed record AdminTemplateListResponse(IReadOnlyList<AdminTemplateView> Templates) : SuccessResponse;

/// <summary>What a sync did: templates Meta listed, and how many of ours were added, changed or marked deleted.</summary>
public sealed record TemplateSyncResponse(int Total, int Created, int Updated, int Removed) : SuccessResponse;
