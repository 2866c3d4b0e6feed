using TwaBot.Api.ApiKeys;
using TwaBot.Api.Businesses;
using TwaBot.Api.Meta;
using TwaBot.Api.Sending;

namespace TwaBot.Api.Tests.Sending;

/// <summary>PRODUCT §5's table: Meta's answers at send time, as the caller's answers.</summary>
public class MetaErrorMappingTests
{
    [Theory]
    [InlineData(131047, 400, "WINDOW_CLOSED", null)]
    [InlineData(132001, 400, "TEMPLATE_NOT_FOUND", null)]
    [InlineData(132000, 400, "TEMPLATE_PARAMS_INVALID", null)]
    [InlineData(132012, 400, "TEMPLATE_PARAMS_INVALID", null)]
    [InlineData(131026, 400, "RECIPIENT_UNDELIVERABLE", "919876543210")]
    [InlineData(133010, 400, "RECIPIENT_UNDELIVERABLE", "business's WhatsApp number")] // about the sender, as Meta says
    [InlineData(190, 400, "WHATSAPP_NOT_CONNECTED", null)]
    [InlineData(130429, 429, "UPSTREAM_RATE_LIMITED", null)]
    [InlineData(80007, 429, "UPSTREAM_RATE_LIMITED", null)]
    [InlineData(4, 429, "UPSTREAM_RATE_LIMITED", null)]
    [InlineData(131056, 429, "PAIR_RATE_LIMITED", null)]
    [InlineData(368, 400, "META_REJECTED", null)]
    public async Task MetasRefusalsMapToTheTable(int code, int status, string errorCode, string? says)
    {
        var failure = new MetaFailure(MetaFailureKind.Rejected, new MetaError(code, null, "m", null, null, null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Equal((status, errorCode), (error.StatusCode, error.Body.ErrorCode));
        if (says is not null)
        {
            Assert.Contains(says, error.Body.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(true, "may still be delivered")]
    [InlineData(false, "was not sent")]
    public async Task MetaUnavailableSaysWhetherTheMessageMayHaveGoneOut(bool mayHaveBeenSent, string says)
    {
        var failure = MetaFailure.Unavailable("Meta answered HTTP 500.") with { MayHaveBeenSent = mayHaveBeenSent };

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Equal((502, "META_UNAVAILABLE"), (error.StatusCode, error.Body.ErrorCode));
        Assert.Contains(says, error.Body.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnHttp429WithoutMetasCodeIsUpstreamThrottling()
    {
        var failure = new MetaFailure(MetaFailureKind.Rejected, null, TimeSpan.FromSeconds(7), "Meta answered HTTP 429.") { HttpStatus = 429 };

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Equal((429, "UPSTREAM_RATE_LIMITED", 7), (error.StatusCode, error.Body.ErrorCode, error.Body.RetryAfterSeconds));
    }

    [Fact]
    public async Task AThrottlingCodeInAServerErrorIsNoRateLimitSinceTheMessageMayHaveGoneOut()
    {
        // A 5xx may come after Meta accepted the message: "retry after" would invite a second copy to the customer.
        var throttling = new MetaError(130429, null, "(#130429) Rate limit hit", null, null, null, 503);
        var failure = MetaFailure.Unavailable("Meta answered HTTP 503.", throttling, TimeSpan.FromSeconds(5)) with { MayHaveBeenSent = true };

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Equal((502, "META_UNAVAILABLE"), (error.StatusCode, error.Body.ErrorCode));
        Assert.Contains("may still be delivered", error.Body.Error, StringComparison.Ordinal);
    }

    [Theory] // Meta's details name the component first; a button's value comes from button_params, an authentication template's from its code
    [InlineData("UTILITY", "button: parameter text is invalid", "button_params")]
    [InlineData("MARKETING", "Button at index 0 of type Url requires a parameter", "button_params")]
    [InlineData("UTILITY", "body: localizable_params (1) != 2", "body_params")]
    [InlineData("AUTHENTICATION", "button: parameter text is invalid", "body_params")]
    public async Task TheParamsFieldOfARefusalIsTheComponentMetaNamed(string category, string details, string field)
    {
        var context = await TemplateSendAsync();
        context.Template = new TwaBot.Api.Templates.Template
        {
            Name = "order_confirmation", Language = "en", Content = "Hi {{1}}", Category = category, Status = "APPROVED",
        };
        var failure = new MetaFailure(MetaFailureKind.Rejected, new MetaError(132000, null, "(#132000) Number of parameters does not match", null, details, null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, context, lastInboundAt: null);

        Assert.Equal(("TEMPLATE_PARAMS_INVALID", field), (error.Body.ErrorCode, error.Body.Field));
    }

    [Theory] // a header's value comes from header_params; quick-send cannot fill one, so the template's choice is what to change
    [InlineData("send-template", "header: Format mismatch, expected IMAGE, received UNKNOWN", "header_params")]
    [InlineData("quick-send", "Header: Format mismatch, expected IMAGE, received UNKNOWN", "template")]
    public async Task AHeaderRefusalNamesTheFieldThatFillsTheHeader(string endpoint, string details, string field)
    {
        var route = endpoint == "quick-send" ? SendRoute.QuickSendTemplate : SendRoute.SendTemplate;
        var failure = new MetaFailure(MetaFailureKind.Rejected, new MetaError(132012, null, "(#132012) Parameter format does not match format in the created template", null, details, null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(route), lastInboundAt: null);

        Assert.Equal(("TEMPLATE_PARAMS_INVALID", field), (error.Body.ErrorCode, error.Body.Field));
    }

    [Theory] // Meta's 132001 names the field the caller gave the template in
    [InlineData("send-template", "template_name")]
    [InlineData("quick-send", "template")]
    public async Task MetasUnknownTemplateNamesTheEndpointsTemplateField(string endpoint, string field)
    {
        var route = endpoint == "quick-send" ? SendRoute.QuickSendTemplate : SendRoute.SendTemplate;
        var failure = new MetaFailure(MetaFailureKind.Rejected, new MetaError(132001, null, "(#132001) Template name does not exist in the translation", null, null, null, 404), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(route), lastInboundAt: null);

        Assert.Equal(("TEMPLATE_NOT_FOUND", field), (error.Body.ErrorCode, error.Body.Field));
    }

    [Fact]
    public async Task AnOtpsRefusedParametersNameItsOtpField()
    {
        // The code is an OTP's one parameter: what the client can change is otp, not a body_params it never sent.
        var caller = new ApiCaller(1, "CRM", 1, "Acme", Plan.Pro, "Asia/Kolkata", ["*"], null, null, null, null);
        var context = new SendContext(SendRoute.SendOtp, caller, () => ValueTask.FromResult<ApiErrorOr<OutgoingContent>>(
            new OtpContent("919876543210", "otp_verification", "en", "482913")));
        Assert.Null(await context.ValidateAsync());
        var failure = new MetaFailure(MetaFailureKind.Rejected,
            new MetaError(132000, null, "(#132000) Number of parameters does not match", null, "body: expected 1", null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, context, lastInboundAt: null);

        Assert.Equal(("TEMPLATE_PARAMS_INVALID", "otp"), (error.Body.ErrorCode, error.Body.Field));
    }

    private static async Task<SendContext> TemplateSendAsync(SendRoute? route = null)
    {
        var caller = new ApiCaller(1, "CRM", 1, "Acme", Plan.Pro, "Asia/Kolkata", ["*"], null, null, null, null);
        var context = new SendContext(route ?? SendRoute.SendTemplate, caller, () => ValueTask.FromResult<ApiErrorOr<OutgoingContent>>(
            new TemplateContent("919876543210", "order_confirmation", "en", ["a"], [])));
        Assert.Null(await context.ValidateAsync());
        return context;
    }

    [Theory]
    [InlineData(200, 400, "WHATSAPP_NOT_CONNECTED")]  // PRODUCT §5 "OAuth errors": Meta's permission range 200-299
    [InlineData(299, 400, "WHATSAPP_NOT_CONNECTED")]
    [InlineData(10, 400, "WHATSAPP_NOT_CONNECTED")]
    [InlineData(300, 400, "META_REJECTED")]
    public async Task PermissionErrorsAreATokenThatNoLongerWorks(int code, int status, string errorCode)
    {
        var failure = new MetaFailure(MetaFailureKind.Rejected, new MetaError(code, null, "m", null, null, null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Equal((status, errorCode), (error.StatusCode, error.Body.ErrorCode));
    }

    [Theory]
    [InlineData(130429, "for this WhatsApp number")]
    [InlineData(80007, "for this business's WhatsApp account")]
    [InlineData(4, "for this server's Meta app, which every business here shares")]
    public async Task UpstreamThrottlingSaysWhoseLimitItIs(int code, string whose)
    {
        var failure = new MetaFailure(MetaFailureKind.Rejected, new MetaError(code, null, "m", null, null, null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Contains(whose, error.Body.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(131056, null, 429, 6)]      // Meta's pair limit is about one message per 6 s
    [InlineData(131056, 10_000, 429, 10)]
    [InlineData(130429, null, 429, 1)]
    [InlineData(130429, 2_500, 429, 3)]     // rounded up
    [InlineData(130429, 0, 429, 1)]         // Meta's "Retry-After: 0" (or a date gone by): still a second, never "retry in 0 s"
    [InlineData(80007, null, 429, 60)]      // the business account's limit, which Meta says to back off from for minutes
    [InlineData(80007, 7_000, 429, 7)]      // unless Meta names its wait
    [InlineData(4, null, 429, 1)]
    [InlineData(null, 200, 503, 1)]         // breaker open: at least a second
    [InlineData(null, null, 503, 1)]        // its pause ending as the call came: still a second, never "retry in 0 s"
    [InlineData(null, 30_000, 503, 30)]
    public async Task RetryAfterIsMetasOrAFloor(int? code, int? retryAfterMs, int status, int retryAfter)
    {
        var wait = retryAfterMs is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
        var failure = code is { } c
            ? new MetaFailure(MetaFailureKind.Rejected, new MetaError(c, null, "m", null, null, null, 400), wait, "m")
            : new MetaFailure(MetaFailureKind.CircuitOpen, null, wait, "paused");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Equal((status, retryAfter), (error.StatusCode, error.Body.RetryAfterSeconds));
    }

    [Theory]
    [InlineData(132000, "Meta refused the template parameters: body_params[0] is empty")]
    [InlineData(132012, "Meta refused the template parameters: body_params[0] is empty")]
    [InlineData(368, "(code 368): body_params[0] is empty")]
    [InlineData(132001, "Template 'order_confirmation' not found")]
    public async Task TheAnswerSaysWhatMetaDetailed(int code, string says)
    {
        var failure = new MetaFailure(MetaFailureKind.Rejected,
            new MetaError(code, null, "(#" + code + ") Generic title", null, "body_params[0] is empty", null, 400), null, "m");

        var error = MetaErrorMapping.ToApiError(failure, await TemplateSendAsync(), lastInboundAt: null);

        Assert.Contains(says, error.Body.Error, StringComparison.Ordinal);
    }
}
