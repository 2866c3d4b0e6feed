using System.Text.Json;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;

namespace TwaBot.Api.Sending;

/// <summary>
/// Every error a send can answer, one example each, for the OpenAPI document. The public docs' own bodies
/// (<see cref="SendExamples"/>) are kept; the others are written from <see cref="ApiErrors"/> itself, so their
/// text is the server's and cannot drift from it.
/// </summary>
public static class SendErrorExamples
{
    private const string Phone = "919876543210";
    private const string IdempotencyKey = "5f0c6b1e-8d8a-4c1e-9a51-2f4f0f3e7a10";

    /// <param name="route">The send (quick-send: <see cref="SendRoute.QuickSendTemplate"/>, for its field names and permission).</param>
    /// <param name="windowClosed">The docs' WINDOW_CLOSED body where they show one for the route; else the route's own.</param>
    /// <param name="templateNotFound">The docs' TEMPLATE_NOT_FOUND body where they show one for the route.</param>
    public static (int Status, string Json)[] For(SendRoute route, string? windowClosed = null, string? templateNotFound = null)
    {
        ArgumentNullException.ThrowIfNull(route);
        var quickSend = route == SendRoute.QuickSendTemplate;
        List<(int Status, string Json)> examples =
        [
            Of(ApiErrors.MissingApiKey(queryAllowed: quickSend)), Of(ApiErrors.InvalidApiKey()), Of(ApiErrors.ApiKeyRevoked()), Of(ApiErrors.ApiKeyExpired()),
            Of(ApiErrors.PlanNotAllowed("Starter")), Of(ApiErrors.PermissionDenied(route.Permission)),
            Of(quickSend ? SendValidation.PhoneGiven("phone", null)! : ApiErrors.MissingBody()),
            Of(ApiErrors.InvalidPhone("phone", "98765")),
            Of(ApiErrors.WhatsAppNotConnected()),
        ];
        if (route.UsesTemplate)
        {
            examples.Add(templateNotFound is null ? Of(ApiErrors.TemplateNotFound("wrong_name", route.TemplateField)) : (400, templateNotFound));
            // An OTP's one value is the code, never the client's to count: what send-otp can get wrong is the template's kind.
            examples.Add(Of(route == SendRoute.SendOtp
                ? Steps.TemplateIsApproved.NotAnOtpTemplate("order_confirmation", Templates.Template.Utility)
                : Steps.TemplateIsApproved.WrongBodyParameterCount("order_confirmation", 3, route.ParamsField, 2)));
        }

        examples.AddRange(
        [
            (400, SendExamples.Suppressed),
            windowClosed is null ? Of(ApiErrors.WindowClosed(route.WindowClosed, lastInboundAt: null)) : (400, windowClosed),
            Of(ApiErrors.RecipientUndeliverable(Phone)),
            Of(ApiErrors.MetaRejected(131009, "Parameter value is not valid")),
            Of(ApiErrors.IdempotencyKeyInUse(IdempotencyKey)),
            Of(ApiErrors.IdempotencyKeyReused(IdempotencyKey)),
            (429, SendExamples.DailyLimitReached),
            Of(ApiErrors.RateLimited(15)), // a key's or the server's per-minute limit
            // Meta's throughput limit for the number (130429), and its limit per recipient (131056): PRODUCT §5.
            Of(ApiErrors.UpstreamRateLimited(2)),
            Of(ApiErrors.PairRateLimited(6)),
        ]);
        if (route.UsesTemplate)
        {
            // An OTP, or an AUTHENTICATION template through send-template or quick-send, takes one of the number's hourly slots.
            examples.Add(Of(ApiErrors.OtpRecipientLimitReached(Phone, limit: 5, retryAfterSeconds: 2250)));
        }

        examples.AddRange(
        [
            Of(ApiErrors.Internal()),
            (502, SendExamples.MetaUnavailable),
            // The number's circuit breaker is open: nothing was sent (Retry-After: the rest of TwaBot:Meta:Resilience:BreakerBreakSeconds).
            Of(ApiErrors.MetaPaused(15)),
            Of(ApiErrors.StorageUnavailable()),
        ]);
        if (!quickSend)
        {
            examples.AddRange([Of(ApiErrors.PayloadTooLarge(RequestBodyLimits.ApiBytes)), Of(ApiErrors.UnsupportedMediaType())]);
        }

        return [.. examples];
    }

    /// <summary>The answer as the server writes it.</summary>
    private static (int Status, string Json) Of(ApiError error) =>
        (error.StatusCode, JsonSerializer.Serialize(error.Body, TwaBotJsonContext.Default.ErrorBody));
}
