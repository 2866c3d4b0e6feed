using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Configuration;
using TwaBot.Api.Errors;
using TwaBot.Api.Http;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;
using TwaBot.Api.Messages;
using TwaBot.Api.Sending.Idempotency;
using TwaBot.Api.Sending.Steps;

namespace TwaBot.Api.Sending;

/// <summary>The send endpoints of the public docs. Each names its route and its request; the pipeline does the rest.</summary>
public static class SendApi
{
    public static IServiceCollection AddSending(this IServiceCollection services)
    {
        services.AddScoped<PlanAllowsSending>();
        services.AddScoped<PermissionIsGranted>();
        services.AddScoped<DailyQuotaIsAvailable>();
        services.AddScoped<RequestIsValid>();
        services.AddScoped<WhatsAppIsConnected>();
        services.AddScoped<TemplateIsApproved>();
        services.AddSingleton<SuppressionLookup>();
        services.AddScoped<RecipientIsNotSuppressed>();
        services.AddScoped<SessionWindowIsOpen>();
        services.AddScoped<OtpRecipientIsUnderLimit>();
        services.AddScoped<MessageDispatcher>();
        services.AddSingleton<MessageLog>();
        services.AddHostedService(provider => provider.GetRequiredService<MessageLog>());
        services.AddScoped<SendPipeline>();
        services.AddSingleton<IdempotencyKeys>();
        services.AddSingleton<IdempotencyProtector>();
        services.AddSingleton<ExpiredAnswerSweeper>();
        services.AddHostedService(provider => provider.GetRequiredService<ExpiredAnswerSweeper>());
        services.AddSingleton<SendsInFlight>();
        services.AddSingleton<InterruptedSendSweeper>();
        services.AddHostedService(provider => provider.GetRequiredService<InterruptedSendSweeper>());
        services.AddOptions<HostOptions>().PostConfigure<IOptions<TwaBotOptions>>(
            (host, twabot) => host.ShutdownTimeout = StopWait(host.ShutdownTimeout, twabot.Value.Meta.Resilience));
        // quick-send carries the whole message in its URL: 4,096 characters, percent-encoded, can take
        // 12 bytes each (Kestrel's default allows 8 KB, and answers a longer URL with an empty 414).
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(
            kestrel => kestrel.Limits.MaxRequestLineSize = MaxRequestLineBytes);
        return services;
    }

    /// <summary>
    /// How long a stop waits for the requests under way: at least until a send at Meta has its answer or its timeout,
    /// and its row the outcome. Cut short (the host's 30 s, under a longer Meta timeout), its caller lost the answer to
    /// a reset connection, and its row stayed pending though Meta may have sent it.
    /// </summary>
    public static TimeSpan StopWait(TimeSpan configured, MetaResilienceOptions meta)
    {
        ArgumentNullException.ThrowIfNull(meta);
        var sendUnderWay = TimeSpan.FromSeconds(meta.TotalTimeoutSeconds) + StopMargin;
        return configured > sendUnderWay ? configured : sendUnderWay;
    }

    /// <summary>Beyond Meta's timeout, for a send's writes before and after its call.</summary>
    public static readonly TimeSpan StopMargin = TimeSpan.FromSeconds(10);

    /// <summary>Room for a quick-send URL with a 4,096-character message of 4-byte characters, and its other parameters.</summary>
    public const int MaxRequestLineBytes = 64 * 1024;

    public static RouteGroupBuilder MapSending(this RouteGroupBuilder api)
    {
        var sends = api.MapGroup("").WithTags("Sending")
            .ProducesErrors(StatusCodes.Status403Forbidden, StatusCodes.Status409Conflict, StatusCodes.Status422UnprocessableEntity,
                StatusCodes.Status500InternalServerError, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable)
            .WithMetadata(new AcceptsIdempotencyKey());
        // 413: a body over 64 KB; 415: forms, compressed or non-UTF-8 bodies.
        var jsonSends = sends.MapGroup("").ReadsJsonBody();

        jsonSends.MapPost("/send-template", (HttpRequest request, ApiCaller caller, SendPipeline pipeline, CancellationToken cancellationToken) =>
                Send(SendRoute.SendTemplate, request, caller, pipeline, TwaBotJsonContext.Default.SendTemplateRequest, SendValidation.Template, cancellationToken))
            .WithName("SendTemplate")
            .WithSummary("Send a Meta-approved template message (works outside the 24-hour window).")
            .WithDescription(PermissionRequired(SendRoute.SendTemplate))
            .WithRequestBody<SendTemplateRequest, RouteHandlerBuilder>()
            .WithExamples(SendExamples.TemplateRequest,
                [(200, SendExamples.TemplateResponse), .. SendErrorExamples.For(SendRoute.SendTemplate, templateNotFound: SendExamples.TemplateNotFound)]);

        jsonSends.MapPost("/send-text", (HttpRequest request, ApiCaller caller, SendPipeline pipeline, CancellationToken cancellationToken) =>
                Send(SendRoute.SendText, request, caller, pipeline, TwaBotJsonContext.Default.SendTextRequest, SendValidation.Text, cancellationToken))
            .WithName("SendText")
            .WithSummary("Send a plain text message (only within the 24-hour customer service window).")
            .WithDescription(PermissionRequired(SendRoute.SendText))
            .WithRequestBody<SendTextRequest, RouteHandlerBuilder>()
            .WithExamples(SendExamples.TextRequest, [(200, SendExamples.TextResponse), .. SendErrorExamples.For(SendRoute.SendText, SendExamples.TextWindowClosed)]);

        jsonSends.MapPost("/send-media", (HttpRequest request, ApiCaller caller, SendPipeline pipeline, CancellationToken cancellationToken) =>
                Send(SendRoute.SendMedia, request, caller, pipeline, TwaBotJsonContext.Default.SendMediaRequest, SendValidation.Media, cancellationToken))
            .WithName("SendMedia")
            .WithSummary("Send an image, document, video or audio by URL (only within the 24-hour window).")
            .WithDescription(PermissionRequired(SendRoute.SendMedia))
            .WithRequestBody<SendMediaRequest, RouteHandlerBuilder>()
            .WithExamples(SendExamples.MediaRequest, [(200, SendExamples.MediaResponse), .. SendErrorExamples.For(SendRoute.SendMedia, SendExamples.MediaWindowClosed)]);

        jsonSends.MapPost("/send-otp", (HttpRequest request, ApiCaller caller, SendPipeline pipeline, CancellationToken cancellationToken) =>
                Send(SendRoute.SendOtp, request, caller, pipeline, TwaBotJsonContext.Default.SendOtpRequest, SendValidation.Otp, cancellationToken))
            .WithName("SendOtp")
            .WithSummary("Send a one-time password through an approved authentication template; generated when not given.")
            .WithDescription(PermissionRequired(SendRoute.SendOtp))
            .WithRequestBody<SendOtpRequest, RouteHandlerBuilder>()
            .WithExamples(SendExamples.OtpRequest, [(200, SendExamples.OtpResponse), .. SendErrorExamples.For(SendRoute.SendOtp)]);

        sends.MapGet("/quick-send", QuickSend)
            .WithName("QuickSend")
            .WithSummary("Send with a GET URL (BhashSMS / MSG91 style): template= works anytime, message= needs the 24-hour window.")
            .WithDescription($"Permission required: {SendRoute.QuickSendTemplate.Permission} or * with template=, {SendRoute.QuickSendText.Permission} or * with message=. "
                + StarterRefused)
            .WithMetadata(new ApiKeyInQueryAttribute())
            .GetChangesState()
            .WithExamples(responses: [(200, SendExamples.TemplateResponse), .. SendErrorExamples.For(SendRoute.QuickSendTemplate, SendExamples.QuickSendWindowClosed)]);
        return api;
    }

    /// <summary>The API docs' "Permission required" line of each send, for its OpenAPI description.</summary>
    private static string PermissionRequired(SendRoute route) => $"Permission required: {route.Permission} or *. " + StarterRefused;

    private const string StarterRefused = "Starter plan businesses get 403 PLAN_NOT_ALLOWED; a key without the permission, 403 PERMISSION_DENIED.";

    /// <summary>
    /// quick-send: everything in the query, the key in <c>X-API-Key</c> or <c>apikey</c>. The mode
    /// decides the permission: <c>template=</c> needs send_template, <c>message=</c> send_text. With both, the
    /// template is sent: the API docs make <c>template</c> the one required when <c>message</c> is not given.
    /// </summary>
    private static Task<Results<Ok<SendResponse>, ApiError, IdempotentReplay>> QuickSend(
        [FromQuery, Required, Description(SendFieldDocs.QuickSendPhone)] string? phone,
        [FromQuery, Description(SendFieldDocs.QuickSendTemplate)] string? template,
        [FromQuery, Description(SendFieldDocs.Language)] string? lang,
        [FromQuery(Name = "params"), Description(SendFieldDocs.QuickSendParams)] string? parameters,
        [FromQuery, Description(SendFieldDocs.QuickSendMessage)] string? message,
        [FromQuery(Name = "button_params"), Description(SendFieldDocs.QuickSendButtonParams)] string? buttonParams,
        [FromQuery(Name = IdempotencyRequest.QueryName), Description(SendFieldDocs.QuickSendIdempotencyKey)] string? idempotencyKey,
        HttpRequest request, ApiCaller caller, SendPipeline pipeline, CancellationToken cancellationToken)
    {
        // The parameters are declared so that the OpenAPI document lists them; their values are read from
        // the raw query (see QuickSendQuery), and apikey by authentication (documented as a key scheme).
        _ = (phone, template, lang, parameters, message, buttonParams, idempotencyKey);
        if (SpeculativeRequests.IsSpeculative(request))
        {
            // A browser fetching the URL ahead (a link hovered, an address-bar suggestion): not the user's send.
            return Task.FromResult<Results<Ok<SendResponse>, ApiError, IdempotentReplay>>(ApiErrors.SpeculativeFetch());
        }

        var query = QuickSendQuery.Parse(request.QueryString.Value);
        return pipeline.SendAsync(
            new SendContext(QuickSendRoute(query, caller), caller, () => ValueTask.FromResult(SendValidation.QuickSend(query))) { Idempotency = IdempotencyRequest.ForQuickSend(request, query) },
            cancellationToken);
    }

    /// <summary>
    /// The mode the query names decides the permission. A query naming neither (a misspelt <c>template_name=</c>)
    /// is checked as the mode the key may use, so it is told the parameter it lacks rather than a permission it
    /// never meant to use; a key that may use neither needs send_template, the permission the API docs name.
    /// </summary>
    private static SendRoute QuickSendRoute(QuickSendQuery query, ApiCaller caller) =>
        query.IsTemplate ? SendRoute.QuickSendTemplate
        : query.IsText || (caller.Grants(ApiKeyPermissions.SendText) && !caller.Grants(ApiKeyPermissions.SendTemplate)) ? SendRoute.QuickSendText
        : SendRoute.QuickSendTemplate;

    /// <summary>A JSON send: its body is read and validated when the pipeline reaches that step.</summary>
    private static Task<Results<Ok<SendResponse>, ApiError, IdempotentReplay>> Send<T>(
        SendRoute route, HttpRequest request, ApiCaller caller, SendPipeline pipeline,
        JsonTypeInfo<T> bodyType, Func<T?, ApiErrorOr<OutgoingContent>> validate, CancellationToken cancellationToken)
        where T : class => pipeline.SendAsync(new SendContext(route, caller, async () =>
        {
            var body = await SendBody.ReadAsync(request, bodyType);
            return body.Error is { } error ? error : validate(body.Value);
        })
        { Idempotency = IdempotencyRequest.ForJsonSend(request, route) }, cancellationToken);
}
