using TwaBot.Api.Errors;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Sending;

/// <summary>Meta's answers at send time, as our errors (PRODUCT.md §5).</summary>
public static class MetaErrorMapping
{
    /// <summary>The caller's answer; <c>messageId</c>, our reference to the send's row, is given when the outcome is unknown.</summary>
    public static ApiError ToApiError(MetaFailure failure, SendContext context, DateTime? lastInboundAt, string? messageId = null)
    {
        ArgumentNullException.ThrowIfNull(failure);
        ArgumentNullException.ThrowIfNull(context);
        if (failure.Kind == MetaFailureKind.CircuitOpen)
        {
            return ApiErrors.MetaPaused(failure.RetryAfterSeconds);
        }

        if (failure.Kind == MetaFailureKind.Rejected && failure.IsThrottling)
        {
            return ApiErrors.UpstreamRateLimited(failure.RetryAfterSeconds, failure.Error?.Code);
        }

        if (failure.Kind == MetaFailureKind.Unavailable || failure.Error is not { } error)
        {
            return ApiErrors.MetaUnavailable(failure.MayHaveBeenSent, messageId);
        }

        return error.Code switch
        {
            MetaErrorCodes.OutsideWindow => ApiErrors.WindowClosed(context.Route.WindowClosed, lastInboundAt),
            132001 => ApiErrors.TemplateNotFound(context.Template?.Name ?? (context.Content as ITemplateContent)?.TemplateName ?? "", context.Route.TemplateField),
            132000 or 132012 => ApiErrors.TemplateParamsInvalid(ParamsField(context, error), $"Meta refused the template parameters: {error.Details ?? error.Message}"),
            131026 => ApiErrors.RecipientUndeliverable(context.Content!.Phone),
            // PRODUCT §5's code, with Meta's meaning: 133010 is about the business's own number, not the recipient.
            133010 => ApiErrors.SenderNotRegistered(),
            _ when error.IsAuthorization => ApiErrors.WhatsAppTokenRejected(),
            131056 => ApiErrors.PairRateLimited(Math.Max(failure.RetryAfterSeconds, 6)), // Meta's pair limit is about one message per 6 s
            _ => ApiErrors.MetaRejected(error.Code, error.Details ?? error.Message),
        };
    }

    /// <summary>
    /// The field Meta's refusal is about: its details name the component first ("button: …", "header: Format mismatch,
    /// expected IMAGE, received UNKNOWN"). The buttons of a send-template or quick-send are filled by button_params (an
    /// authentication template's button by its code, a body value); a header by header_params, or, on quick-send, which
    /// cannot fill one, by no field but the template's choice.
    /// </summary>
    private static string ParamsField(SendContext context, MetaError error)
    {
        var details = error.Details ?? "";
        return context.Content is TemplateContent && details.StartsWith("header", StringComparison.OrdinalIgnoreCase)
            ? (context.Route.FillsHeaders ? "header_params" : context.Route.TemplateField)
            : context.Content is TemplateContent && context.Template is { IsAuthentication: false }
            && details.StartsWith("button", StringComparison.OrdinalIgnoreCase)
                ? "button_params"
                : context.Route.ParamsField;
    }
}
