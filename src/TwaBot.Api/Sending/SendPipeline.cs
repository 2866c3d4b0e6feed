using Microsoft.AspNetCore.Http.HttpResults;
using TwaBot.Api.Errors;
using TwaBot.Api.RateLimiting;
using TwaBot.Api.Sending.Steps;

namespace TwaBot.Api.Sending;

/// <summary>
/// Every send, composed once (PRODUCT.md §1): plan → permission → daily cap → request validation and phone →
/// WhatsApp connected → template approved → not suppressed → 24-hour window → Meta → message row.
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
    MessageDispatcher dispatcher,
    DailyQuota quota)
{
    private ISendStep[] Steps => [plan, permission, dailyQuota, request, connected, template, notSuppressed, window];

    public async Task<Results<Ok<SendResponse>, ApiError>> SendAsync(SendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            foreach (var step in Steps)
            {
                if (await step.CheckAsync(context, cancellationToken) is { } refusal)
                {
                    quota.Refund(context.Reservation); // a refused send holds no unit of the daily cap
                    return refusal;
                }
            }
        }
        catch
        {
            // Nor does one that ends in an exception before Meta: a body over the limit or broken off by the
            // client (its read throws), a request cancelled while a lookup waits.
            quota.Refund(context.Reservation);
            throw;
        }

        var sent = await dispatcher.DispatchAsync(context, cancellationToken);
        if (sent.Error is { } error)
        {
            return error;
        }

        return TypedResults.Ok(new SendResponse
        {
            MessageId = sent.Value!.Wamid!,
            Phone = context.Content!.Phone,
            Template = context.Content is TemplateContent t ? t.TemplateName : null,
            MediaType = (context.Content as MediaContent)?.MediaType,
            Otp = (context.Content as OtpContent)?.Code,
        });
    }
}
