using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.Meta;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Meta's webhook callback: <c>GET /webhooks/meta</c> answers the verification handshake,
/// <c>POST /webhooks/meta</c> takes signed deliveries, stores them durably, and answers 200 once they
/// are on disk; <see cref="WebhookProcessor"/> applies them afterwards.
/// </summary>
public static partial class WebhooksApi
{
    public const string Path = "/webhooks/meta";

    /// <summary>The verify token a sandbox server uses when <c>TwaBot:Meta:VerifyToken</c> is not set.</summary>
    public const string SandboxVerifyToken = "twabot-sandbox-verify-token";

    public static IServiceCollection AddMetaWebhooks(this IServiceCollection services)
    {
        services.AddScoped<Messages.MessageStatusWriter>();
        services.AddScoped<WebhookApplier>();
        services.AddSingleton<WebhookInboxFile>();
        services.AddSingleton<WebhookProcessor>();
        services.AddSingleton<WebhookRefusalWarnings>();
        services.AddSingleton<WebhookInbox>();
        services.AddSingleton<Messages.ParkedStatusSignal>();
        services.AddSingleton<Conversations.HeldUserEventCounts>();
        // The inbox first: its start creates the inbox file, which the processor reads from its first pass.
        services.AddHostedService(provider => provider.GetRequiredService<WebhookInbox>());
        services.AddHostedService(provider => provider.GetRequiredService<WebhookProcessor>());
        services.AddSingleton<WebhookBodyPruner>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookBodyPruner>());
        services.AddHostedService<WebhookBacklog>(); // its gauges
        return services;
    }

    public static IEndpointRouteBuilder MapMetaWebhooks(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup(Path).WithTags("Webhooks");
        // Both return IResult, not Results<…, ApiError>: that would document a 400, which neither answers.
        webhooks.MapGet("", Verify).WithName("MetaWebhookVerify")
            .WithSummary("Meta's verification handshake: echoes hub.challenge when hub.verify_token matches.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesErrors(StatusCodes.Status403Forbidden)
            .WithMetadata(new OpenApi.UsesNoDatabase());
        webhooks.MapPost("", Receive).WithName("MetaWebhookReceive")
            .WithSummary("Meta's signed webhook deliveries (X-Hub-Signature-256).")
            .WithRequestBody<System.Text.Json.JsonElement, RouteHandlerBuilder>()
            .Produces<OkResponse>(StatusCodes.Status200OK)
            .ProducesErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status413PayloadTooLarge);
        return app;
    }

    private static IResult Verify(
        [FromQuery(Name = "hub.mode")] string? mode,
        [FromQuery(Name = "hub.verify_token")] string? token,
        [FromQuery(Name = "hub.challenge")] string? challenge,
        IOptions<TwaBotOptions> options,
        ServerMode serverMode,
        WebhookRefusalWarnings warnings,
        ILoggerFactory loggers)
    {
        var expected = options.Value.Meta.VerifyToken ?? (serverMode.IsSandbox ? SandboxVerifyToken : null);
        if (mode != "subscribe" || expected is null || token is null || !SameSecret(token, expected))
        {
            // Meta's console only says the URL "couldn't be validated": the log is where the operator learns why.
            var problem = token is null ? "it gave no hub.verify_token" : "its hub.verify_token is not TwaBot:Meta:VerifyToken";
            if (mode == "subscribe" && warnings.IsDue(problem))
            {
                LogVerificationRefused(loggers.CreateLogger(typeof(WebhooksApi).FullName!), problem);
            }

            return ApiErrors.WebhookVerificationFailed();
        }

        // Mode and token are right: say what is missing instead of blaming them (a hand-made check often leaves it out).
        return challenge is null ? ApiErrors.WebhookChallengeMissing() : TypedResults.Text(challenge, "text/plain");
    }

    private static async Task<IResult> Receive(
        HttpRequest request, WebhookInbox inbox, MetaAppSecret secret, TimeProvider time, WebhookRefusalWarnings warnings, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var signature = request.Headers[WebhookSignature.HeaderName];
        if (!WebhookSignature.IsWellFormed(signature))
        {
            // No signature to check: refused before its body (up to 3 MB) is read into memory.
            // Meta sends one header; two (even both right) read as one list and are refused: say so, or the line reads as a malformed value.
            return SignatureRefused(loggers, warnings, signature.Count switch
            {
                0 => "no X-Hub-Signature-256 header",
                1 => "its X-Hub-Signature-256 is not sha256= and 64 hex digits",
                _ => "it has more than one X-Hub-Signature-256 header, where Meta sends one",
            });
        }

        // The signature covers the exact bytes Meta sent, so read them before anything parses them.
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var body = buffer.ToArray();
        if (!WebhookSignature.IsValid(body, signature, secret.Value))
        {
            return SignatureRefused(loggers, warnings, "its X-Hub-Signature-256 does not match its body");
        }

        await inbox.WriteAsync(new InboxRow(body, SHA256.HashData(body), time.GetUtcNow().UtcDateTime));
        return TypedResults.Ok(OkResponse.Instance);
    }

    /// <summary>
    /// Meta's deliveries all end here when TwaBot:Meta:AppSecret is not the app's: a request line's 401 would hide it. Warned once a
    /// minute for each problem (<see cref="WebhookRefusalWarnings"/>).
    /// </summary>
    private static ApiError SignatureRefused(ILoggerFactory loggers, WebhookRefusalWarnings warnings, string problem)
    {
        if (warnings.IsDue(problem))
        {
            LogSignatureRefused(loggers.CreateLogger(typeof(WebhooksApi).FullName!), problem);
        }

        return ApiErrors.InvalidSignature();
    }

    private static bool SameSecret(string presented, string expected) => CryptographicOperations.FixedTimeEquals(
        SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a webhook verification ({Problem}); "
        + "give Meta's console (WhatsApp, Configuration) the verify token this server is configured with")]
    private static partial void LogVerificationRefused(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a webhook delivery ({Problem}), so it was not stored; "
        + "if Meta's own deliveries are refused, TwaBot:Meta:AppSecret is not the Meta app's secret")]
    private static partial void LogSignatureRefused(ILogger logger, string problem);
}
