using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.Sending.Idempotency;
using TwaBot.Api.Sending.Steps;

namespace TwaBot.Api.Sending;

/// <summary>
/// Every send, composed once (PRODUCT.md §1): plan → permission → (Idempotency-Key, when given) → daily cap → request validation and phone →
/// WhatsApp connected → template approved → not suppressed → 24-hour window → recipient's hourly OTP cap → message row → Meta.
/// (Authentication and the per-minute limits run before, on the route group.) The first step that
/// fails answers; routes choose steps through their <see cref="SendRoute"/>, never by copying them.
/// </summary>
public sealed class SendPipeline(
    PlanAllowsSending plan,
    PermissionIsGranted permission,
    DailyQuotaIsAvailable dailyQuota,
    RequestIsValid request,
    WhatsAppIsConnected connected,
    TemplateIsApproved template,
    RecipientIsNotSuppressed notSuppressed,
    SessionWindowIsOpen window,
    OtpRecipientIsUnderLimit otpLimit,
    MessageDispatcher dispatcher,
    IdempotencyKeys idempotencyKeys,
    Metrics.TwaBotMetrics metrics)
{
    private ISendStep[] Steps => [dailyQuota, request, connected, template, notSuppressed, window, otpLimit];

    public async Task<Results<Ok<SendResponse>, ApiError, IdempotentReplay>> SendAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Results<Ok<SendResponse>, ApiError, IdempotentReplay> answer;
        try
        {
            answer = await AnswerAsync(context, cancellationToken);
        }
        catch (Exception error) when (Data.SqliteFaults.IsStorageFault(error))
        {
            // Answered by the exception handler (503): counted here, where the endpoint is known.
            metrics.SendAnswered(context.Route.Name, ErrorCodes.StorageUnavailable);
            throw;
        }

        metrics.SendAnswered(context.Route.Name, answer.Result switch
        {
            ApiError error => error.Body.ErrorCode,
            IdempotentReplay => "replayed",
            _ => "accepted",
        });
        return answer;
    }

    private async Task<Results<Ok<SendResponse>, ApiError, IdempotentReplay>> AnswerAsync(SendContext context, CancellationToken cancellationToken)
    {
        // Plan and permission come before an Idempotency-Key is looked at: a key never tells a caller
        // what it may not send. The key comes before the daily cap: a replay sends nothing, so it counts nothing.
        var refused = await plan.CheckAsync(context, cancellationToken) ?? await permission.CheckAsync(context, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        // No key, or one that cannot be used: the latter is a bad field of the request, refused by the validation
        // step after the daily cap (PRODUCT §1's order), as a bad body field is.
        if (context.Idempotency is not { Error: null } idempotency)
        {
            return Answer(await CheckAndSendAsync(context, cancellationToken));
        }

        var claim = await idempotencyKeys.ClaimAsync(context.Caller.KeyId, idempotency, cancellationToken);
        switch (claim.Answer)
        {
            case ApiError error:
                return error;
            case IdempotentReplay replay:
                return replay;
        }

        context.ClaimedKey = (idempotency.Key, claim.ProtectedRequestSha256);

        ApiErrorOr<SendResponse> answer;
        try
        {
            answer = await CheckAndSendAsync(context, cancellationToken);
        }
        catch
        {
            await claim.ReleaseAsync(); // no answer to keep
            throw;
        }

        // Kept only when Meta may have the message: otherwise nothing went out, and a retry tries again.
        await claim.ReleaseAsync(context.MayHaveBeenSent ? Kept(answer) : null);
        return Answer(answer);
    }

    private async Task<ApiErrorOr<SendResponse>> CheckAndSendAsync(SendContext context, CancellationToken cancellationToken)
    {
        try
        {
            // Spans only when traces are exported (else null): they split a slow send's time into its checks (the
            // daily cap's write among them) and its dispatch (the rows written around the calls to Meta).
            using var checks = Metrics.TwaBotTracing.Source.StartActivity("send checks");
            foreach (var step in Steps)
            {
                if (await step.CheckAsync(context, cancellationToken) is { } refusal)
                {
                    checks?.SetTag("twabot.result", refusal.Body.ErrorCode);
                    context.GiveBackHolds(); // a refused send holds no unit of the daily cap, nor an OTP slot
                    return refusal;
                }
            }
        }
        catch
        {
            // Nor does one that ends in an exception before Meta: a body over the limit or broken off by the
            // client (its read throws), a request cancelled while a lookup waits.
            context.GiveBackHolds();
            throw;
        }

        ApiErrorOr<Messages.Message> sent;
        using (var dispatch = Metrics.TwaBotTracing.Source.StartActivity("send dispatch"))
        {
            sent = await dispatcher.DispatchAsync(context, cancellationToken);
            dispatch?.SetTag("twabot.result", sent.Error?.Body.ErrorCode ?? "accepted");
        }

        if (sent.Error is { } error)
        {
            return error;
        }

        return new SendResponse
        {
            MessageId = sent.Value!.Wamid!,
            Phone = context.Content!.Phone,
            Template = context.Content is TemplateContent t ? t.TemplateName : null,
            MediaType = (context.Content as MediaContent)?.MediaType,
            Otp = (context.Content as OtpContent)?.Code,
        };
    }

    private static Results<Ok<SendResponse>, ApiError, IdempotentReplay> Answer(ApiErrorOr<SendResponse> answer) =>
        answer.Error is { } error ? error : TypedResults.Ok(answer.Value);

    /// <summary>The answer as the client gets it, to be given again byte for byte.</summary>
    private static (int StatusCode, byte[] Body) Kept(ApiErrorOr<SendResponse> answer) => answer.Error is { } error
        ? (error.StatusCode, JsonSerializer.SerializeToUtf8Bytes(error.Body, JsonExtensions.Options))
        : (StatusCodes.Status200OK, JsonSerializer.SerializeToUtf8Bytes(answer.Value, JsonExtensions.Options));
}
