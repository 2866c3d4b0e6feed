using System.Text.Json;
using System.Text.Json.Serialization;
using TwaBot.Api.Admin;
using TwaBot.Api.Errors;
using TwaBot.Api.Health;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Json;

/// <summary>
/// Source-generated JSON for every body the server reads or writes: snake_case names, nulls written
/// (the docs show <c>"header_type": null</c>), timestamps as <c>2026-04-14T10:30:45.000Z</c>.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    AllowDuplicateProperties = false, // {"phone": "a", "phone": "b"} is refused, not sent to whichever came last
    Converters = [typeof(UtcTimestampConverter)])]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(OkResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(LivenessResponse))]
[JsonSerializable(typeof(TemplateListResponse))]
[JsonSerializable(typeof(CreateBusinessRequest))]
[JsonSerializable(typeof(UpdateBusinessRequest))]
[JsonSerializable(typeof(ConnectWhatsAppRequest))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(UpdateApiKeyRequest))]
[JsonSerializable(typeof(AddSuppressionRequest))]
[JsonSerializable(typeof(ImportSuppressionsRequest))]
[JsonSerializable(typeof(BusinessResponse))]
[JsonSerializable(typeof(BusinessListResponse))]
[JsonSerializable(typeof(ApiKeyResponse))]
[JsonSerializable(typeof(ApiKeyListResponse))]
[JsonSerializable(typeof(SuppressionResponse))]
[JsonSerializable(typeof(SuppressionListResponse))]
[JsonSerializable(typeof(SuppressionImportResponse))]
[JsonSerializable(typeof(CreateTemplateRequest))]
[JsonSerializable(typeof(AdminTemplateResponse))]
[JsonSerializable(typeof(TemplateSyncResponse))]
[JsonSerializable(typeof(Sandbox.InboundRequest))]
[JsonSerializable(typeof(Sending.SendTemplateRequest))]
[JsonSerializable(typeof(Sending.SendTextRequest))]
[JsonSerializable(typeof(Sending.SendMediaRequest))]
[JsonSerializable(typeof(Sending.SendOtpRequest))]
[JsonSerializable(typeof(Sending.SendResponse))]
[JsonSerializable(typeof(Messages.MessageStatusResponse))]
[JsonSerializable(typeof(Sandbox.InboundResponse))]
[JsonSerializable(typeof(Sandbox.ReferenceSendResponse))]
internal sealed partial class TwaBotJsonContext : JsonSerializerContext;

public static class JsonExtensions
{
    /// <summary>The same settings for minimal-API bodies, with the generated context tried first.</summary>
    public static IServiceCollection AddTwaBotJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(options => Apply(options.SerializerOptions));

    /// <summary>The options every body is written with, the error envelope included.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    public static void Apply(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.AllowDuplicateProperties = false; // admin bodies too: {"phone": "a", "phone": "b"} is refused
        // Bodies are JSON, never HTML: "&", "<" and "₹" can be written as they are, as the docs show them.
        options.Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        options.Converters.Add(new UtcTimestampConverter());
        options.TypeInfoResolverChain.Insert(0, TwaBotJsonContext.Default);
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
