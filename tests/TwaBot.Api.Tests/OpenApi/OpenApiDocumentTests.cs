using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.OpenApi;

public class OpenApiDocumentTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task EveryMappedRouteIsInTheDocumentWithItsMethods()
    {
        var document = await Document();
        var paths = document.GetProperty("paths");

        var routes = MappedRoutes().ToList();

        Assert.NotEmpty(routes);
        foreach (var (path, method) in routes)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in the OpenAPI document");
            Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out _), $"{method} {path} is not in the OpenAPI document");
        }
        // HEAD is answered wherever GET is; the document lists the GET only.
        Assert.DoesNotContain(paths.EnumerateObject(), path => path.Value.TryGetProperty("head", out _));
    }

    [Fact]
    public async Task TheKeySchemesAreDeclaredAndRequired()
    {
        var document = await Document();

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-API-Key", schemes.GetProperty("ApiKey").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("ApiKey").GetProperty("in").GetString());
        Assert.Equal("X-Admin-Key", schemes.GetProperty("AdminKey").GetProperty("name").GetString());
        Assert.True(SecurityOf(document, "/api/v1/health", "get").TryGetProperty("ApiKey", out _));
        Assert.True(SecurityOf(document, "/admin/v1/businesses", "post").TryGetProperty("AdminKey", out _));
    }

    [Fact]
    public async Task QuickSendTakesTheKeyInTheHeaderOrTheQueryAndNeedsAPhone()
    {
        var document = await Document();
        var quickSend = Operation(document, "/api/v1/quick-send", "get");

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("apikey", schemes.GetProperty("ApiKeyInQuery").GetProperty("name").GetString());
        Assert.Equal("query", schemes.GetProperty("ApiKeyInQuery").GetProperty("in").GetString());
        // Two requirements: either one will do.
        Assert.Equal(["ApiKey", "ApiKeyInQuery"], [.. quickSend.GetProperty("security").EnumerateArray().Select(r => r.EnumerateObject().Single().Name)]);
        var parameters = quickSend.GetProperty("parameters").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.DoesNotContain("apikey", parameters.Keys); // the scheme describes it
        Assert.True(parameters["phone"].GetProperty("required").GetBoolean());
        Assert.False(parameters["template"].TryGetProperty("required", out var required) && required.GetBoolean());
        Assert.DoesNotContain(Operation(document, "/api/v1/health", "get").GetProperty("security").EnumerateArray(),
            r => r.TryGetProperty("ApiKeyInQuery", out _));
    }

    [Fact]
    public async Task TheSuppressionListsPageSizeIsDocumentedAsTheWholeNumberItMustBe()
    {
        var document = await Document();

        var parameters = Operation(document, "/admin/v1/businesses/{id}/suppressions", "get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));

        var limit = parameters["limit"];
        Assert.Equal(("integer", "1", "1000"), (limit.GetProperty("type").GetString(), limit.GetProperty("minimum").GetRawText(), limit.GetProperty("maximum").GetRawText()));
        Assert.Equal("int32", limit.GetProperty("format").GetString()); // as the handler reads it: a generated client's int, not a long
        Assert.Equal("string", parameters["after"].GetProperty("type").GetString());
    }

    [Fact]
    public async Task QuickSendsParametersAreDescribedAsTheApiDocsTableDescribesThem()
    {
        var document = await Document();

        var descriptions = Operation(document, "/api/v1/quick-send", "get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.TryGetProperty("description", out var d) ? d.GetString() : null);

        Assert.All(descriptions, parameter => Assert.False(string.IsNullOrWhiteSpace(parameter.Value), $"{parameter.Key} has no description"));
        Assert.Contains("Default: en", descriptions["lang"], StringComparison.Ordinal);
        Assert.Contains("Comma-separated", descriptions["params"], StringComparison.Ordinal);
        Assert.Contains("Required if message is not provided", descriptions["template"], StringComparison.Ordinal);
        Assert.Contains("24-hour", descriptions["message"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SendTemplateRequest", "language", "Default: en")]
    [InlineData("SendTextRequest", "message", "max 4096 characters")]
    [InlineData("SendMediaRequest", "media_type", "One of: image, document, video, audio")]
    [InlineData("SendOtpRequest", "otp", "Auto-generated")]
    public async Task EverySendBodyFieldIsDescribedAsTheApiDocsTableDescribesIt(string schema, string field, string docsWords)
    {
        var document = await Document();

        var properties = document.GetProperty("components").GetProperty("schemas").GetProperty(schema).GetProperty("properties");

        Assert.All(properties.EnumerateObject(), property =>
            Assert.False(string.IsNullOrWhiteSpace(property.Value.TryGetProperty("description", out var d) ? d.GetString() : null), $"{property.Name} has no description"));
        Assert.Contains(docsWords, properties.GetProperty(field).GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Theory] // the API docs' tables of message-status's two status fields
    [InlineData("api_status", "Our side — whether we accepted the send and forwarded it to Meta")]
    [InlineData("delivery_status", "Meta side — updated from Meta's delivery webhooks")]
    [InlineData("delivery_status", "sent (message handed to Meta, awaiting delivery)")]
    [InlineData("delivery_status", "failed (delivery failed; failure_reason explains why)")]
    public async Task MessageStatusFieldsAreDescribedAsTheApiDocsTablesDescribeThem(string field, string docsWords)
    {
        var document = await Document();

        var property = document.GetProperty("components").GetProperty("schemas").GetProperty("MessageStatusResponse").GetProperty("properties").GetProperty(field);

        Assert.Contains(docsWords, property.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Theory] // the API docs' two message-status examples, named by their delivery_status
    [InlineData("delivered", null)]
    [InlineData("failed", "Message undeliverable — recipient's phone is not on WhatsApp.")]
    public async Task MessageStatusShowsTheApiDocsDeliveredAndFailedExamples(string deliveryStatus, string? failureReason)
    {
        var document = await Document();

        var example = NamedExample(document, "/api/v1/message-status/{messageId}", "get", "200", deliveryStatus);

        Assert.Equal(deliveryStatus, example.GetProperty("delivery_status").GetString());
        Assert.Equal(failureReason, example.TryGetProperty("failure_reason", out var reason) ? reason.GetString() : null);
    }

    [Fact]
    public async Task EveryRequestBodyFieldIsDescribed()
    {
        var document = await Document();

        var undescribed = document.GetProperty("components").GetProperty("schemas").EnumerateObject()
            .Where(schema => schema.Name.EndsWith("Request", StringComparison.Ordinal))
            .SelectMany(schema => schema.Value.GetProperty("properties").EnumerateObject()
                .Where(p => !p.Value.TryGetProperty("description", out var d) || string.IsNullOrWhiteSpace(d.GetString()))
                .Select(p => $"{schema.Name}.{p.Name}"))
            .ToList();

        Assert.True(undescribed.Count == 0, "No description: " + string.Join(", ", undescribed));
    }

    [Fact]
    public async Task EveryOperationSaysWhatItDoes()
    {
        var document = await Document();

        var unsummarized = Operations(document)
            .Where(o => !o.Operation.TryGetProperty("summary", out var summary) || string.IsNullOrWhiteSpace(summary.GetString()))
            .Select(o => o.Name)
            .ToList();

        Assert.True(unsummarized.Count == 0, "No summary: " + string.Join(", ", unsummarized));
    }

    [Fact]
    public async Task ExamplesComeFromTheSeed()
    {
        var document = await Document();

        var health = Example(document, "/api/v1/health", "get", "200");
        var templates = Example(document, "/api/v1/templates", "get", "200");

        Assert.Equal("Your Business Name", health.GetProperty("business").GetString());
        Assert.Equal("2026-04-02T10:30:00.000Z", health.GetProperty("timestamp").GetString());
        Assert.Equal("order_confirmation", templates.GetProperty("templates")[0].GetProperty("name").GetString());
        // The API docs' template, field by field as they print it.
        Assert.Equal("Hi {{1}}, your order {{2}} of {{3}} has been confirmed!", templates.GetProperty("templates")[0].GetProperty("content").GetString());
        Assert.Equal("TwaBot - WhatsApp Business", templates.GetProperty("templates")[0].GetProperty("footer_text").GetString());
        Assert.Equal("MISSING_API_KEY", Example(document, "/api/v1/health", "get", "401").GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task AStatusWithSeveralDocumentedErrorsShowsEachAsANamedExample()
    {
        var document = await Document();

        var sendTemplate = document.GetProperty("paths").GetProperty("/api/v1/send-template").GetProperty("post").GetProperty("responses");
        string[] Named(string status) => [.. sendTemplate.GetProperty(status).GetProperty("content").GetProperty("application/json")
            .GetProperty("examples").EnumerateObject().Select(e => e.Name)];

        Assert.Equal(["VALIDATION_FAILED", "INVALID_PHONE", "WHATSAPP_NOT_CONNECTED", "TEMPLATE_NOT_FOUND", "TEMPLATE_PARAMS_INVALID", "SUPPRESSED",
            "WINDOW_CLOSED", "RECIPIENT_UNDELIVERABLE", "META_REJECTED"], Named("400"));
        Assert.Equal(["DAILY_LIMIT_REACHED", "RATE_LIMITED", "UPSTREAM_RATE_LIMITED", "PAIR_RATE_LIMITED", "OTP_RECIPIENT_LIMIT_REACHED"], Named("429"));
        Assert.Equal(["META_UNAVAILABLE", "STORAGE_UNAVAILABLE"], Named("503"));
        Assert.Equal("opted_out", sendTemplate.GetProperty("400").GetProperty("content").GetProperty("application/json")
            .GetProperty("examples").GetProperty("SUPPRESSED").GetProperty("value").GetProperty("suppression_state").GetString());
    }

    /// <summary>The docs' own bodies stay the examples where the docs show one for the send.</summary>
    [Theory]
    [InlineData("/api/v1/send-template", "post", "400", "TEMPLATE_NOT_FOUND", "Template 'wrong_name' not found or not approved.")]
    [InlineData("/api/v1/quick-send", "get", "400", "WINDOW_CLOSED", "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template for re-engagement.")]
    [InlineData("/api/v1/quick-send", "get", "429", "DAILY_LIMIT_REACHED", "Daily send limit reached (150/day on Growth plan). Resets at midnight. Upgrade to Pro for higher limits.")]
    [InlineData("/api/v1/send-media", "post", "400", "WINDOW_CLOSED", "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template for re-engagement.")]
    [InlineData("/api/v1/send-text", "post", "400", "SUPPRESSED", "Phone 919876543210 is suppressed (opted_out). Message not sent to protect your quality rating.")]
    [InlineData("/api/v1/send-media", "post", "429", "RATE_LIMITED", "Rate limit exceeded. Please slow down.")]
    public async Task EachSendShowsTheErrorsTheApiDocsShowForIt(string path, string method, string status, string errorCode, string text)
    {
        var document = await Document();

        Assert.Equal(text, NamedExample(document, path, method, status, errorCode).GetProperty("error").GetString());
    }

    /// <summary>
    /// Each send's example request and 200 answer are the API docs' own, field for field (SendExamples keeps them as text,
    /// which could drift from the docs); quick-send's answer is the docs' first, the template one.
    /// </summary>
    [Fact]
    public async Task EachSendsExampleRequestAndAnswerAreTheApiDocsOwn()
    {
        var document = await Document();
        var shown = new HashSet<string>(StringComparer.Ordinal);

        foreach (var row in Sending.SendEndpointsTests.DocsExamples)
        {
            var (path, method, body, answer) = (((string)row[0]).Split('?')[0], ((string)row[1]).ToLowerInvariant(), (string?)row[2], (string)row[3]);
            if (!shown.Add(path))
            {
                continue;
            }

            var operation = Operation(document, path, method);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(answer), JsonNode.Parse(Example(document, path, method, "200").GetRawText())), $"{path}'s 200 example");
            if (body is not null)
            {
                var request = operation.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");
                Assert.True(JsonNode.DeepEquals(JsonNode.Parse(body), JsonNode.Parse(request.GetRawText())), $"{path}'s request example");
            }
        }

        Assert.Equal(5, shown.Count);
    }

    /// <summary>
    /// The API docs' WINDOW_CLOSED bodies, whole: send-text's (its own hint) and the general one quick-send answers with
    /// quick-send's hint; the other fields are the docs'.
    /// </summary>
    [Theory]
    [InlineData("/api/v1/send-text", "post",
        "Use a pre-approved template (send-template or quick-send with template=) for re-engagement.",
        "Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead.")]
    [InlineData("/api/v1/send-media", "post",
        "Use a pre-approved template for re-engagement.",
        "Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead.")]
    [InlineData("/api/v1/quick-send", "get",
        "Use a pre-approved template for re-engagement.",
        "Call GET /api/v1/quick-send?phone=...&template=<approved_template_name>&params=... instead.")]
    public async Task EachSendsWindowClosedExampleIsTheApiDocsBody(string path, string method, string errorEnd, string hint)
    {
        var example = NamedExample(await Document(), path, method, "400", "WINDOW_CLOSED");

        var docs = new JsonObject
        {
            ["success"] = false,
            ["error"] = "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. " + errorEnd,
            ["error_code"] = "WINDOW_CLOSED",
            ["session_window"] = new JsonObject { ["open"] = false, ["last_inbound_at"] = null },
            ["hint"] = hint,
        };
        Assert.Equal(docs.ToJsonString(), JsonNode.Parse(example.GetRawText())!.ToJsonString());
    }

    /// <summary>
    /// Each send's PERMISSION_DENIED and MISSING_API_KEY examples are what the server answers that send: a key without its
    /// permission, and no key (quick-send's text also offers the apikey parameter).
    /// </summary>
    [Theory]
    [InlineData("/api/v1/send-template", "post", """{"phone": "919876543210", "template_name": "order_confirmation"}""")]
    [InlineData("/api/v1/send-text", "post", """{"phone": "919876543210", "message": "Hi"}""")]
    [InlineData("/api/v1/send-media", "post", """{"phone": "919876543210", "media_type": "image", "media_url": "https://example.com/a.jpg"}""")]
    [InlineData("/api/v1/send-otp", "post", """{"phone": "919876543210", "template_name": "otp_verification"}""")]
    [InlineData("/api/v1/quick-send?phone=919876543210&template=order_confirmation", "get", null)]
    public async Task EachSendsKeyAndPermissionExamplesAreTheServersAnswersToThatSend(string request, string method, string? body)
    {
        var document = await Document();
        var path = request.Split('?')[0];
        var tenant = await factory.CreateSendingTenantAsync(permissions: [path == "/api/v1/send-text" ? "send_otp" : "send_text"]);
        using var keyless = factory.CreateClient();

        foreach (var (client, status, errorCode) in new[] { (tenant.Client, HttpStatusCode.Forbidden, "PERMISSION_DENIED"), (keyless, HttpStatusCode.Unauthorized, "MISSING_API_KEY") })
        {
            var response = body is null ? await client.GetAsync(request)
                : await client.PostAsync(request, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

            var answer = await response.AssertErrorAsync(status, errorCode);
            Assert.Equal(JsonSerializer.Serialize(answer), JsonSerializer.Serialize(NamedExample(document, path, method, ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture), errorCode)));
        }
    }

    /// <summary>
    /// Each send's TEMPLATE_PARAMS_INVALID example is what the server answers that send when order_confirmation gets the
    /// wrong values: two of its three, or, for send-otp (whose one value is the code), a template that is not AUTHENTICATION.
    /// </summary>
    [Theory]
    [InlineData("/api/v1/send-template", "post", """{"phone": "919876543210", "template_name": "order_confirmation", "body_params": ["Rahul", "ORD-12345"]}""")]
    [InlineData("/api/v1/send-otp", "post", """{"phone": "919876543210", "template_name": "order_confirmation"}""")]
    [InlineData("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-12345", "get", null)]
    public async Task EachSendsTemplateParamsExampleIsTheServersAnswerToSuchASend(string request, string method, string? body)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var example = NamedExample(await Document(), request.Split('?')[0], method, "400", "TEMPLATE_PARAMS_INVALID");

        var response = body is null ? await tenant.Client.GetAsync(request)
            : await tenant.Client.PostAsync(request, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var answer = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal(JsonSerializer.Serialize(example), JsonSerializer.Serialize(answer));
    }

    /// <summary>
    /// Every error_code a send can answer (ErrorCodes, by the step or Meta answer that gives it) has an example on the send,
    /// so a client generated from the document, or a reader of /swagger, meets none unannounced.
    /// </summary>
    [Theory]
    [InlineData("/api/v1/send-template", "post", true, true)]
    [InlineData("/api/v1/send-text", "post", false, true)]
    [InlineData("/api/v1/send-media", "post", false, true)]
    [InlineData("/api/v1/send-otp", "post", true, true)]
    [InlineData("/api/v1/quick-send", "get", true, false)]
    public async Task EachSendShowsAnExampleOfEveryErrorItCanAnswer(string path, string method, bool usesTemplate, bool readsJsonBody)
    {
        var document = await Document();
        List<string> expected =
        [
            "401 MISSING_API_KEY", "401 INVALID_API_KEY", "401 API_KEY_REVOKED", "401 API_KEY_EXPIRED",
            "403 PLAN_NOT_ALLOWED", "403 PERMISSION_DENIED",
            "400 VALIDATION_FAILED", "400 INVALID_PHONE", "400 WHATSAPP_NOT_CONNECTED", "400 SUPPRESSED", "400 WINDOW_CLOSED",
            "400 RECIPIENT_UNDELIVERABLE", "400 META_REJECTED",
            "409 IDEMPOTENCY_KEY_IN_USE", "422 IDEMPOTENCY_KEY_REUSED",
            "429 DAILY_LIMIT_REACHED", "429 RATE_LIMITED", "429 UPSTREAM_RATE_LIMITED", "429 PAIR_RATE_LIMITED",
            "500 INTERNAL_ERROR", "502 META_UNAVAILABLE", "503 META_UNAVAILABLE", "503 STORAGE_UNAVAILABLE",
        ];
        if (usesTemplate)
        {
            expected.AddRange(["400 TEMPLATE_NOT_FOUND", "400 TEMPLATE_PARAMS_INVALID", "429 OTP_RECIPIENT_LIMIT_REACHED"]);
        }

        if (readsJsonBody)
        {
            expected.AddRange(["413 PAYLOAD_TOO_LARGE", "415 UNSUPPORTED_MEDIA_TYPE"]);
        }

        var shown = new List<string>();
        foreach (var response in document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").EnumerateObject()
            .Where(r => r.Name != "200"))
        {
            var media = response.Value.GetProperty("content").GetProperty("application/json");
            shown.AddRange(media.TryGetProperty("examples", out var named)
                ? named.EnumerateObject().Select(e => $"{response.Name} {e.Name}")
                : media.TryGetProperty("example", out var one) ? [$"{response.Name} {one.GetProperty("error_code").GetString()}"] : []);
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), shown.Order(StringComparer.Ordinal));
    }

    /// <summary>The send routes, with their methods.</summary>
    public static TheoryData<string, string> EverySend => new()
    {
        { "/api/v1/send-template", "post" },
        { "/api/v1/send-text", "post" },
        { "/api/v1/send-media", "post" },
        { "/api/v1/send-otp", "post" },
        { "/api/v1/quick-send", "get" },
    };

    /// <summary>
    /// PRODUCT §5: Meta throttling the number is 429 UPSTREAM_RATE_LIMITED, and a number whose circuit breaker is open answers
    /// 503 at once; both say how long to wait, in the body and in Retry-After. The examples' texts are the server's own.
    /// </summary>
    [Theory]
    [MemberData(nameof(EverySend))]
    public async Task EachSendShowsMetasThrottlingAndItsPausedSendsWithTheServersText(string path, string method)
    {
        var document = await Document();

        var throttled = NamedExample(document, path, method, "429", "UPSTREAM_RATE_LIMITED");
        var paused = NamedExample(document, path, method, "503", "META_UNAVAILABLE");

        Assert.Equal(Api.Errors.ApiErrors.UpstreamRateLimited(1).Body.Error, throttled.GetProperty("error").GetString());
        Assert.Equal(Api.Errors.ApiErrors.MetaPaused(1).Body.Error, paused.GetProperty("error").GetString());
        Assert.True(throttled.GetProperty("retry_after_seconds").GetInt32() > 0);
        Assert.True(paused.GetProperty("retry_after_seconds").GetInt32() > 0);
        Assert.False(paused.TryGetProperty("message_id", out _)); // nothing was sent: no message to follow
        var responses = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");
        Assert.True(responses.GetProperty("429").GetProperty("headers").TryGetProperty("Retry-After", out _));
        Assert.True(responses.GetProperty("503").GetProperty("headers").TryGetProperty("Retry-After", out _));
    }

    [Theory]
    [MemberData(nameof(EverySend))]
    [InlineData("/admin/v1/businesses/{id}/templates/sync", "post")]
    public async Task AnOperationCallingMetaNamesBothCausesOfIts503(string path, string method)
    {
        var responses = Operation(await Document(), path, method).GetProperty("responses");

        var description = responses.GetProperty("503").GetProperty("description").GetString();
        Assert.Contains("circuit breaker (META_UNAVAILABLE", description, StringComparison.Ordinal);
        Assert.Contains("STORAGE_UNAVAILABLE", description, StringComparison.Ordinal);
    }

    /// <summary>README's "Errors": a send whose outcome is unknown answers 502 with an id of our own that message-status takes.</summary>
    [Theory]
    [MemberData(nameof(EverySend))]
    public async Task EachSendShowsItsUnknownOutcome502WithTheMessageIdToFollow(string path, string method)
    {
        var document = await Document();

        var example = Example(document, path, method, "502");

        Assert.Equal("META_UNAVAILABLE", example.GetProperty("error_code").GetString());
        Assert.Matches("^twb:[a-z][0-9a-z]{19}$", example.GetProperty("message_id").GetString()); // as a send makes one
        // The example's text is the server's own (a copy in SendExamples, which could drift from it).
        Assert.Equal(Api.Errors.ApiErrors.MetaUnavailable(mayHaveBeenSent: true, MessageReferences.New()).Body.Error, example.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("/api/v1/send-template", "post", "Permission required: send_template or *.")]
    [InlineData("/api/v1/send-text", "post", "Permission required: send_text or *.")]
    [InlineData("/api/v1/send-media", "post", "Permission required: send_media or *.")]
    [InlineData("/api/v1/send-otp", "post", "Permission required: send_otp or *.")]
    [InlineData("/api/v1/quick-send", "get", "Permission required: send_template or * with template=, send_text or * with message=.")]
    public async Task EachSendSaysThePermissionItNeedsAsTheApiDocsDo(string path, string method, string permission)
    {
        var document = await Document();

        var description = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("description").GetString();

        Assert.StartsWith(permission, description, StringComparison.Ordinal);
        Assert.Contains("PLAN_NOT_ALLOWED", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SchemasUseSnakeCaseNames()
    {
        var document = await Document();

        var health = document.GetProperty("components").GetProperty("schemas").GetProperty("HealthResponse").GetProperty("properties");

        Assert.True(health.TryGetProperty("whatsapp_connected", out _));
        Assert.True(health.TryGetProperty("api_key_name", out _));
    }

    [Fact]
    public async Task JsonSendsListTheirAnswerToAFormOrACompressedBody()
    {
        var document = await Document();

        foreach (var path in new[] { "/api/v1/send-template", "/api/v1/send-text", "/api/v1/send-media", "/api/v1/send-otp" })
        {
            Assert.Contains("415", ResponseCodes(Operation(document, path, "post")));
            Assert.Contains("413", ResponseCodes(Operation(document, path, "post"))); // over 64 KB
        }

        Assert.DoesNotContain("415", ResponseCodes(Operation(document, "/api/v1/quick-send", "get")));
    }

    [Fact]
    public async Task MessageStatusSaysWhichIdsItTakes()
    {
        var document = await Document();

        Assert.Contains("twb:…", Operation(document, "/api/v1/message-status/{messageId}", "get").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    // Reads and deletes by id answer 404, never 400 (a malformed id does not match the route: 404 too).
    [InlineData("/admin/v1/businesses/{id}", "get", "400")]
    [InlineData("/admin/v1/businesses/{id}/api-keys", "get", "400")]
    [InlineData("/admin/v1/api-keys/{keyId}", "get", "400")]
    [InlineData("/admin/v1/api-keys/{keyId}", "delete", "400")]
    [InlineData("/admin/v1/businesses/{id}/templates/{templateId}", "get", "400")]
    [InlineData("/admin/v1/businesses/{id}/whatsapp", "delete", "400")]
    [InlineData("/api/v1/message-status/{messageId}", "get", "400")]
    [InlineData("/admin/v1/businesses", "post", "404")] // creates a business: there is none to miss
    public async Task OperationsDoNotListAnswersTheyCannotGive(string path, string method, string status)
    {
        var document = await Document();

        var codes = ResponseCodes(Operation(document, path, method));
        Assert.DoesNotContain(status, codes);
        Assert.Contains(status == "404" ? "201" : "404", codes); // the operation's other answers are still there
    }

    [Fact]
    public async Task AdminCallsThatReachMetaOrMayConflictListThoseAnswers()
    {
        var document = await Document();

        Assert.Contains("409", ResponseCodes(Operation(document, "/admin/v1/businesses/{id}/whatsapp", "put")));
        foreach (var path in new[] { "/admin/v1/businesses/{id}/templates", "/admin/v1/businesses/{id}/templates/sync" })
        {
            var codes = ResponseCodes(Operation(document, path, "post"));
            Assert.Contains("429", codes); // Meta's throttling
            Assert.Contains("502", codes);
            Assert.Contains("503", codes); // the breaker open
        }
    }

    [Fact]
    public async Task TheWebhookOperationsListTheAnswersTheyGive()
    {
        var document = await Document();

        var verify = Operation(document, "/webhooks/meta", "get");
        var receive = Operation(document, "/webhooks/meta", "post");

        Assert.Equal(["200", "403", "500"], ResponseCodes(verify));
        Assert.True(verify.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("text/plain", out _));
        Assert.Equal(["200", "401", "413", "500", "503"], ResponseCodes(receive)); // 503: the inbox file cannot be written
        Assert.True(receive.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _));
        Assert.DoesNotContain("404", ResponseCodes(Operation(document, "/sandbox/v1/inbound", "post")));
    }

    [Fact]
    public async Task SchemasSayWhichFieldsAreRequiredAndWhetherUnknownOnesAreRefused()
    {
        var document = await Document();
        var schemas = document.GetProperty("components").GetProperty("schemas");

        var sendTemplate = schemas.GetProperty("SendTemplateRequest");
        var createKey = schemas.GetProperty("CreateApiKeyRequest");

        Assert.Equal(["phone", "template_name"], Required(sendTemplate));
        Assert.Equal(["media_type", "media_url", "phone"], Required(schemas.GetProperty("SendMediaRequest")));
        Assert.Equal(["from", "text"], Required(schemas.GetProperty("InboundRequest")));
        // The public sends ignore unknown fields (CRMs add their own); the admin API refuses them.
        Assert.False(sendTemplate.TryGetProperty("additionalProperties", out _));
        Assert.False(schemas.GetProperty("InboundRequest").TryGetProperty("additionalProperties", out _));
        Assert.False(createKey.GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public async Task PatchFieldsThatNullClearsAreNullable()
    {
        var document = await Document();

        var update = document.GetProperty("components").GetProperty("schemas").GetProperty("UpdateApiKeyRequest").GetProperty("properties");

        Assert.True(update.GetProperty("daily_limit").GetProperty("nullable").GetBoolean());
        Assert.True(update.GetProperty("per_minute_limit").GetProperty("nullable").GetBoolean());
        Assert.True(update.GetProperty("expires_at").GetProperty("nullable").GetBoolean());
        Assert.False(update.GetProperty("name").TryGetProperty("nullable", out _));
        // Each is documented as the type the server reads.
        Assert.Equal("integer", update.GetProperty("per_minute_limit").GetProperty("type").GetString());
        Assert.Equal("integer", update.GetProperty("daily_limit").GetProperty("type").GetString());
        Assert.Equal(("string", "date-time"), (update.GetProperty("expires_at").GetProperty("type").GetString(), update.GetProperty("expires_at").GetProperty("format").GetString()));
    }

    [Fact]
    public async Task TheExampleKeyIsAWellFormedKey()
    {
        var document = await Document();

        var key = Example(document, "/admin/v1/businesses/{id}/api-keys", "post", "201").GetProperty("api_key").GetProperty("key").GetString()!;

        Assert.True(TwaBot.Api.ApiKeys.ApiKeyFormat.IsWellFormed(key, out var prefix), key);
        Assert.Equal(TwaBot.Api.ApiKeys.ApiKeyFormat.LivePrefix, prefix);
    }

    [Fact]
    public async Task AnswersListTheHeadersTheyCarry()
    {
        var document = await Document();
        var send = Operation(document, "/api/v1/send-template", "post").GetProperty("responses");

        Assert.Equal(["RateLimit", "RateLimit-Policy", "Retry-After"], Headers(send.GetProperty("429")));
        Assert.Equal(["Idempotent-Replayed", "RateLimit", "RateLimit-Policy", "Retry-After"], Headers(send.GetProperty("503")));
        Assert.Equal(["Idempotent-Replayed", "RateLimit", "RateLimit-Policy"], Headers(send.GetProperty("200")));
        Assert.Equal(["RateLimit", "RateLimit-Policy", "Retry-After"], Headers(send.GetProperty("409"))); // a send with its key under way
        Assert.Empty(Headers(send.GetProperty("401"))); // refused before the key is known: no quota to report
        // Refused by its Content-Length before the key is looked at, or, chunked, while the body is read after it was counted.
        Assert.Equal(["RateLimit", "RateLimit-Policy"], Headers(send.GetProperty("413")));
        Assert.Equal(["Location"], Headers(Operation(document, "/admin/v1/businesses", "post").GetProperty("responses").GetProperty("201")));
        Assert.Equal(["Retry-After"], Headers(Operation(document, "/admin/v1/businesses", "post").GetProperty("responses").GetProperty("429")));
        // A number another business has is no wait-and-retry conflict: the server sends no Retry-After with it.
        Assert.Empty(Headers(Operation(document, "/admin/v1/businesses/{id}/whatsapp", "put").GetProperty("responses").GetProperty("409")));
    }

    [Fact]
    public async Task EveryRetryAfterIsDocumentedAsWholeSeconds()
    {
        // The server sends delta-seconds (never an HTTP date): a generated client reads the header as a number to wait.
        var retryAfters = Operations(await Document())
            .SelectMany(o => o.Operation.GetProperty("responses").EnumerateObject()
                .Where(r => r.Value.TryGetProperty("headers", out var headers) && headers.TryGetProperty("Retry-After", out _))
                .Select(r => (Answer: $"{o.Name} {r.Name}", Type: r.Value.GetProperty("headers").GetProperty("Retry-After").GetProperty("schema").GetProperty("type").GetString())))
            .ToList();

        Assert.Contains(retryAfters, r => r.Answer == "POST /api/v1/send-template 409");
        Assert.All(retryAfters, r => Assert.True(r.Type == "integer", $"{r.Answer}: Retry-After is {r.Type}"));
    }

    [Theory]
    [MemberData(nameof(EverySend))]
    public async Task EverySendTakesAnIdempotencyKeyAndListsItsAnswers(string path, string method)
    {
        var operation = Operation(await Document(), path, method);

        var parameters = operation.GetProperty("parameters").EnumerateArray().Select(p => (p.GetProperty("name").GetString(), p.GetProperty("in").GetString())).ToList();
        // quick-send lists its query parameter only: beside it, the header (still read) would share its name in generated clients.
        var key = path == "/api/v1/quick-send" ? ("idempotency_key", "query") : ("Idempotency-Key", "header");
        Assert.Contains(key, parameters);
        Assert.Single(parameters, p => p.Item1!.Contains("dempotency", StringComparison.Ordinal));
        // A retry after a stop before the answer was kept gets the outcome-unknown 502, not the first answer.
        Assert.Contains("502 META_UNAVAILABLE", operation.GetProperty("parameters").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == key.Item1).GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Contains("409", ResponseCodes(operation));
        Assert.Contains("422", ResponseCodes(operation));
    }

    [Theory]
    [InlineData("/api/v1/send-template", "post", "Idempotency-Key", "header")]
    [InlineData("/api/v1/send-text", "post", "Idempotency-Key", "header")]
    [InlineData("/api/v1/send-media", "post", "Idempotency-Key", "header")]
    [InlineData("/api/v1/send-otp", "post", "Idempotency-Key", "header")]
    [InlineData("/api/v1/quick-send", "get", "idempotency_key", "query")] // the same rule as the header's
    public async Task TheIdempotencyKeyDocumentsTheLongestKeyTheServerTakes(string path, string method, string name, string location)
    {
        var key = Operation(await Document(), path, method).GetProperty("parameters").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == name);

        // 255 characters are kept and 256 refused (IdempotencyTests): a generated client checks the same bound.
        Assert.Equal(location, key.GetProperty("in").GetString());
        Assert.Equal(255, key.GetProperty("schema").GetProperty("maxLength").GetInt32());
    }

    [Fact]
    public async Task OnlyTheSendsListAnIdempotencyKey()
    {
        // Every other operation ignores the header: listed there, it would promise a safe retry the server does not give.
        var document = await Document();

        var listing = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Path: path.Name, Method: operation.Name, Operation: operation.Value)))
            .Where(o => o.Operation.TryGetProperty("parameters", out var parameters)
                && parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString()!.Contains("dempotency", StringComparison.OrdinalIgnoreCase)))
            .Select(o => (o.Path, o.Method))
            .Order()
            .ToList();

        Assert.Equal(EverySend.Select(send => ((string)send[0], (string)send[1])).Order(), listing);
    }

    [Theory]
    [InlineData("/api/v1/health")]
    [InlineData("/api/v1/templates")]
    [InlineData("/admin/v1/businesses")]
    public async Task TheMissingKeyExampleIsTheServersAnswerToACallWithoutAKey(string path)
    {
        var example = Example(await Document(), path, "get", "401");
        using var client = factory.CreateClient();

        var answer = await (await client.GetAsync(path)).ReadJsonAsync(HttpStatusCode.Unauthorized);

        Assert.Equal(JsonSerializer.Serialize(answer), JsonSerializer.Serialize(example));
    }

    [Fact]
    public async Task OnlyOperationsThatReadABodyListTheAnswersToABodyTooLargeOrNotJson()
    {
        // A body sent to an operation that reads none is never looked at, whatever its type, encoding or size: no 415, no 413.
        var document = await Document();

        var listing = Operations(document)
            .Where(o => !o.Operation.TryGetProperty("requestBody", out _) && ResponseCodes(o.Operation).Intersect(["413", "415"]).Any())
            .Select(o => o.Name)
            .ToList();

        Assert.True(listing.Count == 0, "Lists 413 or 415 but reads no body: " + string.Join(", ", listing));
    }

    [Fact]
    public async Task EachOperationTakesTheKeyOfItsRoutes()
    {
        // /api/v1 takes an API key (quick-send in its query too), the admin API and the sandbox's inbound the admin key.
        var document = await Document();

        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => !p.Name.StartsWith("/webhooks/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                string[] expected = path.Name == "/api/v1/quick-send" ? ["ApiKey", "ApiKeyInQuery"]
                    : path.Name.StartsWith("/api/", StringComparison.Ordinal) ? ["ApiKey"]
                    : ["AdminKey"];
                string[] taken = [.. operation.Value.GetProperty("security").EnumerateArray().Select(r => r.EnumerateObject().Single().Name)];
                Assert.True(expected.SequenceEqual(taken), $"{operation.Name} {path.Name} takes {string.Join(" or ", taken)}");
            }
        }
    }

    [Fact]
    public async Task EveryOperationThatUsesTheDatabaseListsItsStorageUnavailableAnswer()
    {
        var document = await Document();

        var missing = Operations(document)
            .Where(o => o.Name != "GET /webhooks/meta") // Meta's verify handshake reads and writes no database
            .Where(o => !ResponseCodes(o.Operation).Contains("503"))
            .Select(o => o.Name)
            .ToList();

        Assert.True(missing.Count == 0, "No 503: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task EveryTagAnOperationUsesIsDescribed()
    {
        var document = await Document();

        var used = Operations(document)
            .SelectMany(o => o.Operation.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!))
            .ToHashSet(StringComparer.Ordinal);
        var described = document.GetProperty("tags").EnumerateArray()
            .Where(t => !string.IsNullOrWhiteSpace(t.GetProperty("description").GetString()))
            .Select(t => t.GetProperty("name").GetString()!);

        Assert.Equal(used.Order(StringComparer.Ordinal), described.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task QuickSendsParametersAreTheTextTheUrlCarries()
    {
        // The API docs' table: params is one comma-separated string, not a repeated parameter.
        var parameters = Operation(await Document(), "/api/v1/quick-send", "get").GetProperty("parameters").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema").GetProperty("type").GetString());

        Assert.Equal(["button_params", "idempotency_key", "lang", "message", "params", "phone", "template"], parameters.Keys.Order(StringComparer.Ordinal));
        Assert.All(parameters, parameter => Assert.Equal("string", parameter.Value));
    }

    [Fact]
    public async Task AnswerSchemasInsideListsRequireTheFieldsTheyAlwaysCarry()
    {
        var schemas = (await Document()).GetProperty("components").GetProperty("schemas");

        // A template of /templates' list, and a button of it, are answers too: a generated client must not make their fields optional.
        Assert.Equal(["button_params", "category", "content", "display_name", "footer_text", "header_text", "header_type", "id", "language", "name", "variables"],
            Required(schemas.GetProperty("TemplateView")));
        Assert.Contains("button_index", Required(schemas.GetProperty("ButtonParameter")));
    }

    [Theory]
    [InlineData("/admin/v1/businesses", Api.OpenApi.SeedExamples.CreateBusinessRequest)]
    [InlineData("/admin/v1/businesses/{id}/api-keys", Api.OpenApi.SeedExamples.CreateApiKeyRequest)]
    [InlineData("/sandbox/v1/inbound", Api.OpenApi.SeedExamples.InboundRequest)]
    public async Task RequestsShowTheSeedsExampleBody(string path, string seed)
    {
        var example = Operation(await Document(), path, "post").GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("example");

        Assert.Equal(JsonSerializer.Serialize(JsonDocument.Parse(seed).RootElement), JsonSerializer.Serialize(example));
    }

    [Fact]
    public async Task NoTwoParametersOfAnOperationDifferOnlyInCaseOrPunctuation()
    {
        // Generators that recase names (idempotencyKey, idempotency_key) would give such two one argument, and their
        // client would not compile (openapi-typescript-codegen) or would drop one.
        var document = await Document();

        var clashes = Operations(document)
            .Where(o => o.Operation.TryGetProperty("parameters", out _))
            .SelectMany(o => o.Operation.GetProperty("parameters").EnumerateArray()
                .Select(p => p.GetProperty("name").GetString()!)
                .GroupBy(name => new string([.. name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]), StringComparer.Ordinal)
                .Where(names => names.Count() > 1)
                .Select(names => $"{o.Name}: {string.Join(", ", names)}"))
            .ToList();

        Assert.True(clashes.Count == 0, string.Join("; ", clashes));
    }

    [Fact]
    public async Task EveryOperationListsTheStatusesItsBodyAndTheServerCanCause()
    {
        var document = await Document();

        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.Contains("500", ResponseCodes(operation.Value));
                if (operation.Value.TryGetProperty("requestBody", out _) && path.Name != "/webhooks/meta")
                {
                    // Every JSON body has a size limit and must be JSON; the webhook reads Meta's bytes as they come.
                    Assert.True(ResponseCodes(operation.Value) is var codes && codes.Contains("413") && codes.Contains("415"),
                        $"{operation.Name} {path.Name} lists {string.Join(", ", ResponseCodes(operation.Value))}");
                }
            }
        }

        Assert.Contains("429", ResponseCodes(Operation(document, "/sandbox/v1/inbound", "post"))); // wrong admin keys
    }

    [Fact]
    public async Task AnswerSchemasRequireEveryFieldTheyAlwaysCarryAndListTheirValues()
    {
        var schemas = (await Document()).GetProperty("components").GetProperty("schemas");

        var status = schemas.GetProperty("MessageStatusResponse");
        // failure_reason is left out when there is none; every other field is always there, null or not.
        Assert.Equal(["api_status", "delivery_status", "message_id", "sent_at", "success", "to"], Required(status));
        Assert.Equal(["success", "failed", "pending", "unknown"], Enum(status.GetProperty("properties").GetProperty("api_status")));
        // null listed too: under OpenAPI 3.0 a nullable field's enum must list null for null to be valid.
        Assert.Equal(["sent", "delivered", "read", "failed", "null"], Enum(status.GetProperty("properties").GetProperty("delivery_status")));
        Assert.Equal(["error", "error_code", "success"], Required(schemas.GetProperty("ErrorBody")));
        Assert.Equal(["delivery_status", "message_id", "note", "phone", "success"], Required(schemas.GetProperty("SendResponse")));
        Assert.DoesNotContain("key", Required(schemas.GetProperty("ApiKeyView"))); // only when the key is created
        Assert.Equal(["Starter", "Growth", "Pro"], Enum(schemas.GetProperty("BusinessView").GetProperty("properties").GetProperty("plan")));
        Assert.Equal(["opted_out", "blocked", "undeliverable"], Enum(schemas.GetProperty("SuppressionView").GetProperty("properties").GetProperty("state")));
        Assert.Equal(["sandbox", "live"], Enum(schemas.GetProperty("HealthResponse").GetProperty("properties").GetProperty("mode")));
    }

    [Fact]
    public async Task ErrorCodeNamesEveryCodeOfTheServer()
    {
        // A client generated from the document knows the codes error_code's description names. The answers tested against
        // the document meet only some codes: each constant of ErrorCodes, every one a client may be answered, is named.
        var description = (await Document()).GetProperty("components").GetProperty("schemas").GetProperty("ErrorBody")
            .GetProperty("properties").GetProperty("error_code").GetProperty("description").GetString()!;
        var named = System.Text.RegularExpressions.Regex.Matches(description, "[A-Z][A-Z_]*[A-Z]").Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        var codes = typeof(TwaBot.Api.Errors.ErrorCodes).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Select(field => (string)field.GetValue(null)!).ToList();

        Assert.Contains("INVALID_SIGNATURE", codes);
        Assert.Empty(codes.Except(named)); // each code not named
    }

    [Fact]
    public async Task AnUnknownOutcomesFailureReasonIsOneTheDocumentDescribes()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var unknown = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540500", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } }))
            .AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");

        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(unknown.GetProperty("message_id").GetString()!)}"))
            .ReadJsonAsync(HttpStatusCode.OK);

        // Not only with delivery_status failed: a generated client's reader of the field's description is told when it comes.
        Assert.Equal("pending", status.GetProperty("api_status").GetString());
        Assert.False(string.IsNullOrEmpty(status.GetProperty("failure_reason").GetString()));
        var description = (await Document()).GetProperty("components").GetProperty("schemas").GetProperty("MessageStatusResponse")
            .GetProperty("properties").GetProperty("failure_reason").GetProperty("description").GetString();
        Assert.Contains("api_status pending", description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheErrorEnvelopesTextIsTheMessageOfAGeneratedClientsException()
    {
        var error = (await Document()).GetProperty("components").GetProperty("schemas").GetProperty("ErrorBody")
            .GetProperty("properties").GetProperty("error");

        // Kiota makes this field its exception's Message; without it, logs read "Exception of type ErrorBody was thrown".
        Assert.True(error.GetProperty("x-ms-primary-error-message").GetBoolean());
    }

    [Fact]
    public async Task AdminRequestSchemasRequireWhatTheServerRequires()
    {
        var schemas = (await Document()).GetProperty("components").GetProperty("schemas");

        Assert.Equal(["name", "plan"], Required(schemas.GetProperty("CreateBusinessRequest")));
        Assert.Equal(["name", "permissions"], Required(schemas.GetProperty("CreateApiKeyRequest")));
        Assert.Equal(["phone", "state"], Required(schemas.GetProperty("AddSuppressionRequest")));
        Assert.Equal(["category", "language", "name"], Required(schemas.GetProperty("CreateTemplateRequest")));
    }

    [Fact]
    public async Task TheSwaggerUiIsServed()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Every (path, method) the server maps, as OpenAPI writes paths; excluded endpoints left out.</summary>
    internal static IEnumerable<(string Path, string Method)> MappedRoutes(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IExcludeFromDescriptionMetadata>()?.ExcludeFromDescription != true)
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>() is not null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods
                .Where(method => !Microsoft.AspNetCore.Http.HttpMethods.IsHead(method)) // implied by GET, not listed (HeadRequestTests)
                .Select(method => (OpenApiPath(e.RoutePattern.RawText!), method)));

    private IEnumerable<(string Path, string Method)> MappedRoutes()
    {
        _ = factory.Server;
        return MappedRoutes(factory.Services);
    }

    /// <summary><c>/admin/v1/businesses/{id:long}</c> → <c>/admin/v1/businesses/{id}</c>.</summary>
    private static string OpenApiPath(string pattern) =>
        "/" + System.Text.RegularExpressions.Regex.Replace(pattern.Trim('/'), @"\{(\w+)(:[^}]*)?\}", "{$1}");

    [Fact]
    public async Task TheErrorSchemaNamesEverySuppressionStateASendCanAnswer()
    {
        var document = await Document();

        var state = document.GetProperty("components").GetProperty("schemas").GetProperty("ErrorBody").GetProperty("properties").GetProperty("suppression_state");

        Assert.Equal(["opted_out", "blocked", "undeliverable", "marketing_opted_out", "null"], Enum(state));
        Assert.Contains("stopped marketing messages", state.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    private async Task<JsonElement> Document()
    {
        using var client = factory.CreateClient();
        return await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
    }

    private static JsonElement Operation(JsonElement document, string path, string method) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method);

    private static string[] Required(JsonElement schema) =>
        [.. schema.GetProperty("required").EnumerateArray().Select(f => f.GetString()!).Order(StringComparer.Ordinal)];

    private static string[] Headers(JsonElement response) => response.TryGetProperty("headers", out var headers)
        ? [.. headers.EnumerateObject().Select(h => h.Name).Order(StringComparer.Ordinal)]
        : [];

    /// <summary>The enum's values; a JSON null as "null".</summary>
    private static string[] Enum(JsonElement schema) =>
        [.. schema.GetProperty("enum").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? "null" : v.GetString()!)];

    /// <summary>Every operation of the document, named as "GET /path".</summary>
    private static IEnumerable<(string Name, JsonElement Operation)> Operations(JsonElement document) =>
        document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => ($"{operation.Name.ToUpperInvariant()} {path.Name}", operation.Value)));

    private static string[] ResponseCodes(JsonElement operation) =>
        [.. operation.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal)];

    private static JsonElement SecurityOf(JsonElement document, string path, string method) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("security")[0];

    private static JsonElement NamedExample(JsonElement document, string path, string method, string status, string errorCode) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status)
            .GetProperty("content").GetProperty("application/json").GetProperty("examples").GetProperty(errorCode).GetProperty("value");

    private static JsonElement Example(JsonElement document, string path, string method, string status) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty(status)
            .GetProperty("content").GetProperty("application/json").GetProperty("example");
}
