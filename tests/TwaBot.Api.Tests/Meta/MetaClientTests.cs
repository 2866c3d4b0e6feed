using System.Text;
using System.Text.Json;
using TwaBot.Api.Meta;
using TwaBot.Api.Templates;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Meta;

/// <summary>What the client sends to Meta and how it reads Meta's answers.</summary>
public class MetaClientTests
{
    [Fact]
    public async Task ATextSendPostsMetasFormatWithTheBusinessTokenAndCallbackData()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection,
            MetaOutgoingMessage.Text("919876543210", "Hi Rahul! Your appointment is confirmed.", "twb:42"), default);

        var accepted = Assert.IsType<MetaSendResult.Accepted>(result);
        Assert.Equal("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", accepted.Wamid);
        Assert.Equal("16505551234", accepted.WaId);
        var call = Assert.Single(meta.Calls);
        Assert.Equal("POST", call.Method);
        Assert.Equal("/v23.0/106540352242922/messages", call.PathAndQuery);
        Assert.Equal("Bearer EAAGtesttoken", call.Authorization);
        Assert.Equal("application/json", call.ContentType);
        var body = JsonDocument.Parse(call.Body).RootElement;
        Assert.Equal("whatsapp", body.GetProperty("messaging_product").GetString());
        Assert.Equal("individual", body.GetProperty("recipient_type").GetString());
        Assert.Equal("919876543210", body.GetProperty("to").GetString());
        Assert.Equal("twb:42", body.GetProperty("biz_opaque_callback_data").GetString());
        Assert.Equal("text", body.GetProperty("type").GetString());
        Assert.Equal("Hi Rahul! Your appointment is confirmed.", body.GetProperty("text").GetProperty("body").GetString());
        Assert.False(body.GetProperty("text").GetProperty("preview_url").GetBoolean());
    }

    [Theory]
    [InlineData("<html>Bad gateway</html>")]
    [InlineData("[]")]
    [InlineData("\"data\"")]
    public async Task AnAnswerThatIsNotMetasTemplateAnswerIsAFailureNotAnException(string answer)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, answer), FakeMetaUpstream.Json(200, answer));

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);
        var created = await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection,
            new MetaTemplateDefinition("spring_sale", "en", "MARKETING", "Hi {{1}}", null, null, ["Rahul"]), default);

        Assert.Equal(MetaFailureKind.Unavailable, listed.Failure?.Kind);
        Assert.Equal(MetaFailureKind.Unavailable, created.Failure?.Kind);
    }

    [Fact]
    public async Task OddItemsInATemplateListAreSkipped()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"data":[1,"x",{"name":"spring_sale","language":"en","status":"APPROVED","components":[7,{"type":"BODY","text":"Hi"}]}]}"""));

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        var template = Assert.Single(listed.Value!);
        Assert.Equal("spring_sale", template.Name);
        Assert.Equal("Hi", template.Text("BODY"));
    }

    [Theory]
    [InlineData("""{"error":{"code":"100","message":"m"}}""")]
    [InlineData("""{"error":"Invalid parameter"}""")]
    [InlineData("""{"error":{"code":100.5}}""")]
    public async Task AnErrorBodyOfAnotherShapeIsStillAFailure(string answer)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(400, answer));

        var sent = await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);

        var failure = Assert.IsType<MetaSendResult.Failed>(sent).Failure;
        Assert.Null(failure.Error);
    }

    [Fact]
    public async Task AnAcceptedSendWithAnOddContactsListIsStillAccepted()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","contacts":[1],"messages":[{"id":"wamid.odd"}]}"""));

        var sent = await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);

        var accepted = Assert.IsType<MetaSendResult.Accepted>(sent);
        Assert.Equal("wamid.odd", accepted.Wamid);
        Assert.Null(accepted.WaId);
    }

    [Theory]
    [InlineData("EAAG\r\nX-Injected: 1")]
    [InlineData("EAAG\0")]
    [InlineData("EAAG token")]
    [InlineData("EAAGété")]
    public async Task ATokenNoHeaderCanCarryIsRefusedAsMetaWouldWithoutACall(string token)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        var connection = FakeMetaUpstream.Connection with { AccessToken = token };
        using var counted = meta.CallsCounted();

        var sent = await meta.Client.SendAsync(connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);
        var listed = await meta.Client.ListTemplatesAsync(connection, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(sent).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.True(failure.Error!.IsAuthorization);
        Assert.False(failure.MayHaveBeenSent);
        Assert.Equal(MetaFailureKind.Rejected, listed.Failure!.Kind);
        Assert.Empty(meta.Calls);
        // Counted under the answer it got (docs/operations.md), so an alert on refused tokens sees a stored token gone bad.
        Assert.Equal(["send_message rejected 190", "list_templates rejected 190"], counted.GetMeasurementSnapshot()
            .Select(m => $"{m.Tags["twabot.meta.operation"]} {m.Tags["twabot.meta.outcome"]} {m.Tags["twabot.meta.error_code"]}"));
    }

    [Theory]
    [InlineData("EAAGm0PX4ZCpsBAKZAZBmZCZCpT1x2", true)]
    [InlineData("sandbox_0123456789abcdef", true)]
    [InlineData("abc-._~+/==", true)]
    [InlineData("", false)]
    [InlineData("=", false)]
    [InlineData("abc=def", false)]
    [InlineData("abc def", false)]
    [InlineData("abc\tdef", false)]
    [InlineData("abc\n", false)]
    [InlineData("abc\0", false)]
    [InlineData("abcé", false)]
    [InlineData(null, false)]
    public void AWellFormedTokenHasOnlyBearerTokenCharacters(string? token, bool wellFormed) =>
        Assert.Equal(wellFormed, MetaAccessToken.IsWellFormed(token));

    [Theory]
    [InlineData("document", true, true)]
    [InlineData("image", true, false)]
    [InlineData("video", true, false)]
    [InlineData("audio", false, false)]
    public async Task MediaCarriesTheLinkAndOnlyTheFieldsMetaTakesForItsType(string type, bool hasCaption, bool hasFilename)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Media(
            "919876543210", type, "https://example.com/invoice-123.pdf", "Here is your invoice", "Invoice-123.pdf", "twb:1"), default);

        var root = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement;
        Assert.Equal(type, root.GetProperty("type").GetString());
        var media = root.GetProperty(type);
        Assert.Equal("https://example.com/invoice-123.pdf", media.GetProperty("link").GetString());
        Assert.Equal(hasCaption, media.TryGetProperty("caption", out _));
        Assert.Equal(hasFilename, media.TryGetProperty("filename", out _));
    }

    [Fact]
    public async Task ATemplateSendHasLanguageAndHeaderAndBodyParameters()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Template(
            "919876543210", "order_confirmation", "en", ["Rahul", "ORD-12345", "₹1,499"], ["Spring sale"], "twb:7"), default);

        var template = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("template");
        Assert.Equal("order_confirmation", template.GetProperty("name").GetString());
        Assert.Equal("en", template.GetProperty("language").GetProperty("code").GetString());
        var components = template.GetProperty("components");
        Assert.Equal("header", components[0].GetProperty("type").GetString());
        Assert.Equal("Spring sale", components[0].GetProperty("parameters")[0].GetProperty("text").GetString());
        Assert.Equal("body", components[1].GetProperty("type").GetString());
        Assert.Equal(["Rahul", "ORD-12345", "₹1,499"],
            components[1].GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task OnlyAnAuthenticationTemplateGivesAValueToAButton()
    {
        // A utility template has no copy-code button at index 0; Meta refuses a send that fills a button it lacks.
        await using var meta = await FakeMetaUpstream.StartAsync();

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Template(
            "919876543210", "order_confirmation", "en", ["Rahul", "ORD-12345", "₹1,499"], [], "twb:7"), default);

        var components = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("template").GetProperty("components");
        Assert.Equal(["body"], components.EnumerateArray().Select(c => c.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task ButtonValuesGoToTheButtonsThatTakeThemAtTheirIndexes()
    {
        // A quick reply at 0 takes nothing; the link's end goes to index 1, the coupon code to index 2 in Meta's coupon shape.
        await using var meta = await FakeMetaUpstream.StartAsync();
        var shape = TemplateShape.Positional with { Buttons = [TemplateButtons.None, TemplateButtons.UrlSuffix, TemplateButtons.CouponCode] };

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Template(
            "919876543210", "diwali_offer", "en", ["Rahul"], [], "twb:8", shape, ["ORD-1", "SAVE10"]), default);

        var components = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("template").GetProperty("components");
        Assert.Equal(
            """[{"type":"body","parameters":[{"type":"text","text":"Rahul"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]},{"type":"button","sub_type":"copy_code","index":"2","parameters":[{"type":"coupon_code","coupon_code":"SAVE10"}]}]""",
            components.GetRawText());
    }

    [Fact]
    public async Task ListedButtonsAreReadWithTheirLinksAndExamples()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """
            {"data":[{"name":"track","language":"en","status":"APPROVED","category":"UTILITY","id":"1","components":[
              {"type":"BODY","text":"Hi"},
              {"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop"},
                {"type":"URL","text":"Track","url":"https://shop.example/t/{{1}}","example":["https://shop.example/t/ORD-1"]},
                {"type":"COPY_CODE","example":"SAVE10"},{"type":"URL","text":"Shop","url":"https://shop.example","example":[]},
                {"type":"PHONE_NUMBER","text":"Call us","phone_number":"+15550783881"}]}]}]}
            """));

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Equal(
            [new MetaTemplateButton("QUICK_REPLY", "Stop"), new MetaTemplateButton("URL", "Track", "https://shop.example/t/{{1}}", null, "https://shop.example/t/ORD-1"),
             new MetaTemplateButton("COPY_CODE", null, null, null, "SAVE10"), new MetaTemplateButton("URL", "Shop", "https://shop.example"),
             new MetaTemplateButton("PHONE_NUMBER", "Call us", null, "+15550783881")],
            Assert.Single(listed.Value!).Component("BUTTONS")!.Buttons);
    }

    [Fact]
    public async Task ListedComponentsAreFoundWhateverTheCaseOfTheirType()
    {
        // The sync reads texts by Component("BODY"), and UnsendableComponent trims and upper-cases the type: both must agree
        // that a lower-case "body" (or a padded one) is the body, or a template would count as sendable while its texts were never read.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """
            {"data":[{"name":"track","language":"en","status":"APPROVED","category":"UTILITY","id":"1","components":[
              {"type":"header","format":"TEXT","text":"Order"},{"type":"body","text":"Hi {{1}}"},{"type":" Footer ","text":"Thanks"},
              {"type":"buttons","buttons":[{"type":"QUICK_REPLY","text":"Stop"}]}]}]}
            """));

        var template = Assert.Single((await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default)).Value!);

        Assert.Equal(("Order", "Hi {{1}}", "Thanks", null), (template.Text("HEADER"), template.Text("BODY"), template.Text("FOOTER"), template.UnsendableComponent));
        Assert.Equal([new MetaTemplateButton("QUICK_REPLY", "Stop")], template.Component("BUTTONS")!.Buttons);
    }

    [Fact]
    public async Task ListedTemplatesAreReadWithTheirRejectionReasonAndQualityScore()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """
            {"data":[
              {"name":"a","language":"en","status":"REJECTED","category":"MARKETING","id":"1","rejected_reason":" INVALID_FORMAT ","quality_score":{"score":" yellow "},"components":[]},
              {"name":"b","language":"en","status":"APPROVED","category":"MARKETING","id":"2","rejected_reason":"none","quality_score":{"score":"PURPLE"},"components":[]},
              {"name":"c","language":"en","status":"APPROVED","category":"MARKETING","id":"3","rejected_reason":" ","quality_score":"GREEN","components":[]}]}
            """));

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Equal([("a", "INVALID_FORMAT", "YELLOW"), ("b", null, null), ("c", null, null)],
            listed.Value!.Select(t => (t.Name, t.RejectedReason, t.QualityScore)));
    }

    [Fact]
    public async Task AnAuthenticationTemplateCarriesTheCodeInTheBodyAndTheCopyCodeButton()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();

        await meta.Client.SendAsync(FakeMetaUpstream.Connection,
            MetaOutgoingMessage.Authentication("919876543210", "otp_verification", "en", "482913", "twb:9"), default);

        var components = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("template").GetProperty("components");
        Assert.Equal("body", components[0].GetProperty("type").GetString());
        Assert.Equal("482913", components[0].GetProperty("parameters")[0].GetProperty("text").GetString());
        Assert.Equal("button", components[1].GetProperty("type").GetString());
        Assert.Equal("url", components[1].GetProperty("sub_type").GetString());
        Assert.Equal("0", components[1].GetProperty("index").GetString());
        Assert.Equal("482913", components[1].GetProperty("parameters")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task MetasErrorIsParsedIntoATypedRejection()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(400, 131056, "(Business Account, Consumer Account) pair rate limit hit", subcode: 2494055));

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "hi", "twb:1"), default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.Equal(131056, failure.Error!.Code);
        Assert.Equal(2494055, failure.Error.Subcode);
        Assert.Equal("OAuthException", failure.Error.Type);
        Assert.Equal("(Business Account, Consumer Account) pair rate limit hit details", failure.Error.Details);
        Assert.Equal("AbCdEf123", failure.Error.FbtraceId);
        Assert.Equal(400, failure.Error.HttpStatus);
    }

    [Theory]
    [InlineData("""{"error":{"message":"m","type":"OAuthException","code":190,"error_subcode":463,"error_data":"Session has expired","fbtrace_id":"x"}}""", 190, 463, "Session has expired")]
    [InlineData("""{"error":{"message":"m","code":100}}""", 100, null, null)]
    [InlineData("""{"error":{"message":"m","code":100,"error_data":"\ud800"}}""", 100, null, null)] // no valid text: none, not an exception
    // Blank details are none, so an answer quotes Meta's message, or its user message, rather than nothing.
    [InlineData("""{"error":{"message":"m","code":131009,"error_data":{"messaging_product":"whatsapp","details":" "}}}""", 131009, null, null)]
    [InlineData("""{"error":{"message":"Invalid parameter","code":100,"error_data":"","error_user_msg":"Reduce the variables."}}""", 100, null, "Reduce the variables.")]
    // A template Meta refuses to create: the reason is in error_user_title and error_user_msg.
    [InlineData("""{"error":{"message":"Invalid parameter","code":100,"error_subcode":2388043,"error_user_title":"Message template has too many variables","error_user_msg":"This template has too many variables for its length."}}""",
        100, 2388043, "Message template has too many variables: This template has too many variables for its length.")]
    [InlineData("""{"error":{"message":"Invalid parameter","code":100,"error_user_msg":"Reduce the variables."}}""", 100, null, "Reduce the variables.")]
    public void ErrorDataMayBeAnObjectOrAString(string json, int code, int? subcode, string? details)
    {
        var error = MetaError.TryParse(System.Text.Encoding.UTF8.GetBytes(json), 401);

        Assert.NotNull(error);
        Assert.Equal(code, error.Code);
        Assert.Equal(subcode, error.Subcode);
        Assert.Equal(details, error.Details);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<html>bad gateway</html>")]
    [InlineData("""{"error":"oops"}""")]
    [InlineData("""{"messages":[]}""")]
    public void NonErrorBodiesAreNotErrors(string body)
    {
        Assert.Null(MetaError.TryParse(System.Text.Encoding.UTF8.GetBytes(body), 500));
    }

    [Theory]
    [InlineData(4, true, false)]
    [InlineData(80007, true, false)]
    [InlineData(130429, true, false)]
    [InlineData(131056, false, false)]
    [InlineData(190, false, true)]
    [InlineData(10, false, true)]
    [InlineData(131047, false, false)]
    public void ErrorsKnowTheirClass(int code, bool throttling, bool authorization)
    {
        var error = new MetaError(code, null, "", null, null, null, 400);

        Assert.Equal(throttling, error.IsThrottling);
        Assert.Equal(authorization, error.IsAuthorization);
    }

    [Fact]
    public async Task TemplatesAreListedAcrossPages()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(
            FakeMetaUpstream.Json(200, """
                {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"1",
                  "components":[{"type":"BODY","text":"Hi {{1}}"},{"type":"FOOTER","text":"Thanks"}]}],
                 "paging":{"cursors":{"before":"A","after":"CURSOR2"},"next":"https://graph.facebook.com/next"}}
                """),
            FakeMetaUpstream.Json(200, """
                {"data":[{"name":"promo","language":"en_US","status":"PENDING","category":"MARKETING","id":"2","components":[]}],
                 "paging":{"cursors":{"before":"B","after":"C"}}}
                """));

        var result = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Null(result.Failure);
        Assert.Equal(["order_confirmation", "promo"], result.Value!.Select(t => t.Name));
        Assert.Equal("Hi {{1}}", result.Value![0].Text("BODY"));
        var calls = meta.Calls.ToList();
        // Every field a template is stored with, and Meta's largest page (its default of 25 would reach the page cap at 2,500 templates).
        Assert.Equal("/v23.0/102290129340398/message_templates?fields=name,status,category,language,components,parameter_format,rejected_reason,quality_score,id&limit=100",
            calls[0].PathAndQuery);
        Assert.EndsWith("&after=CURSOR2", calls[1].PathAndQuery, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACursorWithBase64sSignsGoesBackToMetaAsItWasGiven()
    {
        // Meta's cursors are base64: sent unescaped, a '+' is read back as a space, and the next page is not the one it named.
        const string cursor = "QVFIUk+x/y2Z==";
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(
            FakeMetaUpstream.Json(200, $$$"""{"data":[],"paging":{"cursors":{"after":"{{{cursor}}}"},"next":"https://graph.facebook.com/next"}}"""),
            FakeMetaUpstream.Json(200, """{"data":[]}"""));

        var result = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Null(result.Failure);
        var query = new Uri(new Uri("http://meta"), meta.Calls.ToList()[1].PathAndQuery).Query;
        Assert.Equal(cursor, System.Web.HttpUtility.ParseQueryString(query)["after"]);
    }

    [Fact]
    public async Task ACallItsCallerGivesUpOnIsCancelledNotReportedAsMetaTooSlow()
    {
        // The sync and the connect pass their request's token: a caller who hung up is no Meta that did not answer.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"data":[]}""", delay: TimeSpan.FromSeconds(30)));
        using var callerLeaves = new CancellationTokenSource();

        var listing = meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, callerLeaves.Token);
        await Poll.UntilAsync(() => !meta.Calls.IsEmpty, "the call reached Meta");
        await callerLeaves.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listing);
        Assert.DoesNotContain(meta.ClientLogLines, line => line.Contains("did not answer in time", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CreatingATemplateSubmitsItsComponents()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261596","status":"PENDING","category":"UTILITY"}"""));

        var result = await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection, new MetaTemplateDefinition(
            "order_confirmation", "en", "UTILITY", "Hi {{1}}, your order {{2}} is confirmed!", "Order update", "Thanks", ["Rahul", "ORD-1"]), default);

        Assert.Equal(new MetaTemplateCreated("594425479261596", "PENDING", "UTILITY"), result.Value);
        Assert.Equal("application/json", Assert.Single(meta.Calls).ContentType);
        var body = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement;
        Assert.Equal("order_confirmation", body.GetProperty("name").GetString());
        var components = body.GetProperty("components");
        Assert.Equal("HEADER", components[0].GetProperty("type").GetString());
        Assert.Equal("BODY", components[1].GetProperty("type").GetString());
        Assert.Equal("Rahul", components[1].GetProperty("example").GetProperty("body_text")[0][0].GetString());
        Assert.Equal("FOOTER", components[2].GetProperty("type").GetString());
    }

    private static readonly MetaTemplateDefinition[] Submitted =
    [
        new("order_update", "en_US", "utility", "Hi {{1}}", "Order {{1}}", "Thanks", ["Rahul"]),
        new("shipped", "en", "UTILITY", "Your order has shipped.", null, null, []),
        new("login_code", "en", "authentication", "", null, null, [], CodeExpirationMinutes: 10),
        new("diwali_offer", "en", "MARKETING", "Hi", null, null, [])
        {
            Buttons = [new("QUICK_REPLY", "Stop promotions"), new("URL", "Track", "https://shop.example/t/{{1}}", Example: "https://shop.example/t/ORD-1"),
                new("PHONE_NUMBER", "Call us", PhoneNumber: "+919876543210"), new("COPY_CODE", null, Example: "SAVE10")],
        },
        new("order_ready", "en", "UTILITY", "Hi {{first_name}}, order {{order_id}} is ready.", null, null, ["Rahul"]),
    ];

    [Theory]
    [InlineData(0, """{"name":"order_update","language":"en_US","category":"UTILITY","components":[{"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["example 1"]}},{"type":"BODY","text":"Hi {{1}}","example":{"body_text":[["Rahul"]]}},{"type":"FOOTER","text":"Thanks"}]}""")]
    [InlineData(1, """{"name":"shipped","language":"en","category":"UTILITY","components":[{"type":"BODY","text":"Your order has shipped."}]}""")] // no placeholders: no example
    [InlineData(2, """{"name":"login_code","language":"en","category":"AUTHENTICATION","components":[{"type":"BODY","add_security_recommendation":true},{"type":"FOOTER","code_expiration_minutes":10},{"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"COPY_CODE"}]}]}""")]
    [InlineData(3, """{"name":"diwali_offer","language":"en","category":"MARKETING","components":[{"type":"BODY","text":"Hi"},{"type":"BUTTONS","buttons":[{"type":"QUICK_REPLY","text":"Stop promotions"},{"type":"URL","text":"Track","url":"https://shop.example/t/{{1}}","example":["https://shop.example/t/ORD-1"]},{"type":"PHONE_NUMBER","text":"Call us","phone_number":"\u002B919876543210"},{"type":"COPY_CODE","example":"SAVE10"}]}]}""")]
    [InlineData(4, """{"name":"order_ready","language":"en","category":"UTILITY","parameter_format":"NAMED","components":[{"type":"BODY","text":"Hi {{first_name}}, order {{order_id}} is ready.","example":{"body_text_named_params":[{"param_name":"first_name","example":"Rahul"},{"param_name":"order_id","example":"example 2"}]}}]}""")] // fewer examples than names
    public void ATemplateIsSubmittedToMetaExactlyInItsShape(int definition, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(Submitted[definition].ToJsonBytes()));

    [Fact]
    public async Task AnAuthenticationTemplateIsSubmittedWithACopyCodeButton()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"id":"1","status":"APPROVED","category":"AUTHENTICATION"}"""));

        await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection,
            new MetaTemplateDefinition("otp_verification", "en", "AUTHENTICATION", "{{1}} is your verification code.", null, null, []), default);

        var components = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("components");
        Assert.True(components[0].GetProperty("add_security_recommendation").GetBoolean());
        Assert.Equal("OTP", components[1].GetProperty("buttons")[0].GetProperty("type").GetString());
        Assert.Equal("COPY_CODE", components[1].GetProperty("buttons")[0].GetProperty("otp_type").GetString());
    }

    [Fact]
    public void TheConnectionNeverPrintsItsToken()
    {
        Assert.DoesNotContain("EAAGtesttoken", FakeMetaUpstream.Connection.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"messages":[{"id":null}]}""")]
    [InlineData("""{"messages":[{"id":""}]}""")]
    [InlineData("""{"messages":[]}""")]
    [InlineData("")]
    [InlineData("""{"messages":[{"id":"wamid.""")]
    public async Task A200WithoutAMessageIdIsNeitherASuccessNorARefusal(string answer)
    {
        // Meta took the call, so the message may go out; only its status webhook can tell.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, answer));

        var sent = await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);

        var failure = Assert.IsType<MetaSendResult.Failed>(sent).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.True(failure.MayHaveBeenSent);
    }

    [Fact]
    public async Task TheTokenIsTakenOutOfMetasErrorTexts()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        var token = FakeMetaUpstream.Connection.AccessToken;
        meta.Reply(FakeMetaUpstream.Json(400,
            "{\"error\":{\"message\":\"Malformed access token " + token + "\",\"code\":100,"
            + "\"error_data\":{\"details\":\"token " + token + " and EAAB0123456789abcdefghij0123\"}}}"));

        var sent = await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);

        var error = Assert.IsType<MetaSendResult.Failed>(sent).Failure.Error!;
        Assert.Equal("Malformed access token [redacted]", error.Message);
        Assert.DoesNotContain(token, error.Details, StringComparison.Ordinal);
        Assert.DoesNotContain("EAAB0123456789", error.Details, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("token METATOKtwo/abc+def.ghi~jkl-mno_pqr= rejected")]
    [InlineData("token METATOKtwo%2Fabc%2Bdef.ghi~jkl-mno_pqr%3D rejected")]   // URL-encoded, as an echoed query value
    [InlineData("token METATOKtwo%2fabc%2bdef.ghi%7ejkl-mno_pqr%3d rejected")]
    [InlineData("token METATOKtwo/abc def.ghi~jkl-mno_pqr= rejected")]       // its '+' read as a space
    public void AnEchoedTokenIsTakenOutInTheFormsAnUpstreamEchoesIt(string details)
    {
        const string token = "METATOKtwo/abc+def.ghi~jkl-mno_pqr=";
        var error = new MetaError(190, null, details, "OAuthException", details, null, 401).WithoutSecrets(token);

        Assert.Equal("token [redacted] rejected", error.Message);
        Assert.Equal("token [redacted] rejected", error.Details);
    }

    [Theory]
    [InlineData("""{}""")]                                                             // a 200 from something that is not Meta
    [InlineData("""{"data":null}""")]
    [InlineData("""{"data":[],"paging":{"next":"https://graph.facebook.com/next"}}""")] // a next page without a cursor
    public async Task ATemplateListThatCannotBeReadToItsEndIsAFailureNotAShorterList(string answer)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, answer));
        using var counted = meta.CallsCounted();

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Equal(MetaFailureKind.Unavailable, listed.Failure?.Kind);
        Assert.Equal(["unavailable"], counted.GetMeasurementSnapshot().Select(m => (string?)m.Tags["twabot.meta.outcome"])); // not ok: the sync fails
        Assert.Contains(meta.ClientLogLines, line => line.Contains($"Meta answered HTTP 200 with a body we could not read, for WhatsApp number {FakeMetaUpstream.Connection.PhoneNumberId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATemplateListThatNeverEndsIsAFailure()
    {
        // The same cursor again, or more pages than Meta can hold, would make a sync mark the rest deleted.
        await using var meta = await FakeMetaUpstream.StartAsync();
        const string Page = """{"data":[{"name":"t","language":"en","status":"APPROVED"}],"paging":{"cursors":{"after":"SAME"},"next":"https://graph.facebook.com/next"}}""";
        meta.Reply(FakeMetaUpstream.Json(200, Page), FakeMetaUpstream.Json(200, Page), FakeMetaUpstream.Json(200, Page));
        using var counted = meta.CallsCounted();

        var repeated = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);
        var calls = meta.Calls.Count;
        var outcomes = counted.GetMeasurementSnapshot().Select(m => (string?)m.Tags["twabot.meta.outcome"]).ToList();
        for (var page = 0; page < 101; page++)
        {
            meta.Reply(FakeMetaUpstream.Json(200, Page.Replace("SAME", $"C{page}", StringComparison.Ordinal)));
        }

        var endless = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Equal(MetaFailureKind.Unavailable, repeated.Failure?.Kind);
        Assert.Equal(2, calls);
        Assert.Equal(["ok", "unavailable"], outcomes); // the page whose cursor came again could not be followed
        Assert.Equal(MetaFailureKind.Unavailable, endless.Failure?.Kind);
        Assert.Equal(2 + 100, meta.Calls.Count);
    }

    [Fact]
    public async Task ANamedParameterTemplateNamesEachValueAndAMediaHeaderLinksItsFile()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        var shape = new TemplateShape("image", null, ["first_name", "order_id"]);

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Template(
            "919876543210", "order_ready", "en", ["Rahul", "ORD-1"], ["https://cdn.example.com/p.jpg"], "twb:7", shape), default);

        var components = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("template").GetProperty("components");
        Assert.Equal("header", components[0].GetProperty("type").GetString());
        var header = components[0].GetProperty("parameters")[0];
        Assert.Equal("image", header.GetProperty("type").GetString());
        Assert.Equal("https://cdn.example.com/p.jpg", header.GetProperty("image").GetProperty("link").GetString());
        Assert.Equal(["first_name:Rahul", "order_id:ORD-1"], components[1].GetProperty("parameters").EnumerateArray()
            .Select(p => p.GetProperty("parameter_name").GetString() + ":" + p.GetProperty("text").GetString()));
    }

    [Theory]
    [InlineData("Hi {{first_name}}, order {{order_id}} is ready.", "Order {{order_id}}")]
    [InlineData("Your order is ready.", "Order {{order_id}}")] // a named header alone makes the template named too
    public async Task ATemplateWithNamedPlaceholdersIsSubmittedAsNamedWithExamples(string bodyText, string header)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261597","status":"PENDING","category":"UTILITY"}"""));
        var examples = Template.CountPlaceholders(bodyText) == 0 ? Array.Empty<string>() : ["Rahul", "ORD-1"];

        await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection,
            new MetaTemplateDefinition("order_ready", "en", "UTILITY", bodyText, header, null, examples), default);

        var body = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement;
        Assert.Equal("NAMED", body.GetProperty("parameter_format").GetString());
        var components = body.GetProperty("components");
        Assert.Equal(["order_id"], components[0].GetProperty("example").GetProperty("header_text_named_params").EnumerateArray()
            .Select(p => p.GetProperty("param_name").GetString()));
        if (examples.Length > 0)
        {
            Assert.Equal(["first_name=Rahul", "order_id=ORD-1"], components[1].GetProperty("example").GetProperty("body_text_named_params").EnumerateArray()
                .Select(p => p.GetProperty("param_name").GetString() + "=" + p.GetProperty("example").GetString()));
        }
    }

    [Fact]
    public async Task APositionalHeaderVariableIsSubmittedWithAnExample()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261598","status":"PENDING","category":"UTILITY"}"""));

        await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection,
            new MetaTemplateDefinition("order_ready", "en", "UTILITY", "Hi {{1}}", "Order {{1}}", null, ["Rahul"]), default);

        var body = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement;
        Assert.False(body.TryGetProperty("parameter_format", out _));
        Assert.Equal(["example 1"], body.GetProperty("components")[0].GetProperty("example").GetProperty("header_text").EnumerateArray().Select(e => e.GetString()));
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(199, false)]
    [InlineData(200, true)]    // "(#200) Permissions error": the whole 200-299 permission range is the token's
    [InlineData(299, true)]
    [InlineData(300, false)]
    public void ThePermissionRangeIsAuthorization(int code, bool authorization)
    {
        Assert.Equal(authorization, new MetaError(code, null, "", null, null, null, 400).IsAuthorization);
    }

    [Theory]
    [InlineData("template id")]
    [InlineData("template name")]
    [InlineData("template language")]
    [InlineData("template status")]
    [InlineData("template category")]
    [InlineData("component type")]
    [InlineData("button type")]
    [InlineData("phone number id")]
    public void AFieldMetaLeavesOutOfAListingIsReadAsEmpty(string field)
    {
        // Empty is "not said": a sync skips a template without a name or language and keeps its stored status, category and
        // id, a component without a type is no unsendable one, a button without a type is none a send fills.
        using var template = JsonDocument.Parse("""{"components":[{"text":"Hi"},{"type":"BUTTONS","buttons":[{"text":"Stop"}]}]}""");
        var listed = MetaTemplate.Parse(template.RootElement);
        using var number = JsonDocument.Parse("""{"display_phone_number":"+1 631-555-0199"}""");

        var read = field switch
        {
            "template id" => listed.Id,
            "template name" => listed.Name,
            "template language" => listed.Language,
            "template status" => listed.Status,
            "template category" => listed.Category,
            "component type" => listed.Components[0].Type,
            "button type" => Assert.Single(listed.Components[1].Buttons).Type,
            _ => MetaPhoneNumber.Parse(number.RootElement).Id,
        };
        Assert.Equal("", read);
        Assert.Null(listed.UnsendableComponent);
    }

    [Fact]
    public void AnErrorWithoutAMessageHasAnEmptyOne()
    {
        var error = MetaError.TryParse("""{"error":{"code":100}}"""u8, 400);

        Assert.NotNull(error);
        Assert.Equal("", error.Message);
    }

    [Fact]
    public void NoTokenMeansNothingToTakeOut()
    {
        var error = new MetaError(100, null, "Invalid parameter", null, "bad value", null, 400).WithoutSecrets("");

        Assert.Equal(("Invalid parameter", "bad value"), (error.Message, error.Details));
    }

    [Theory]
    [InlineData("en_US")]
    [InlineData("hi")]
    [InlineData("pt_BR")]
    public async Task ATemplatesLanguageGoesToMetaAsGiven(string language)
    {
        // Meta matches a template by name and language: "en" for an en_US template is a send Meta refuses (132001).
        await using var meta = await FakeMetaUpstream.StartAsync();

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Template(
            "919876543210", "order_confirmation", language, ["Rahul"], [], "twb:7"), default);
        await meta.Client.SendAsync(FakeMetaUpstream.Connection,
            MetaOutgoingMessage.Authentication("919876543210", "otp_verification", language, "482913", "twb:9"), default);

        Assert.Equal([language, language], meta.Calls.Select(call =>
            JsonDocument.Parse(call.Body).RootElement.GetProperty("template").GetProperty("language").GetProperty("code").GetString()));
    }

    [Theory]
    [InlineData(Template.Authentication, true)]
    [InlineData("authentication", true)]
    [InlineData(Template.Utility, false)]
    [InlineData(Template.Marketing, false)]
    public async Task AStoredAuthenticationTemplateSentByNameFillsItsCopyCodeButton(string category, bool codeButton)
    {
        // send-template may name an authentication template: its code must reach the copy-code button, as send-otp's does.
        await using var meta = await FakeMetaUpstream.StartAsync();
        var template = new Template { Name = "login_code", Language = "en", Content = "{{1}} is your verification code.", Category = category, Status = Template.Approved };

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Template(
            "919876543210", "login_code", "en", ["482913"], [], "twb:9", TemplateShape.Of(template)), default);

        var components = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("template").GetProperty("components");
        Assert.Equal(codeButton
                ? """[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"482913"}]}]"""
                : """[{"type":"body","parameters":[{"type":"text","text":"482913"}]}]""",
            components.GetRawText());
    }

    [Fact]
    public async Task ACreatedTemplateMetaGivesOnlyAnIdForIsPendingInItsOwnCategory()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261596"}"""));

        var result = await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection,
            new MetaTemplateDefinition("spring_sale", "en", "MARKETING", "Hi {{1}}", null, null, ["Rahul"]), default);

        Assert.Equal(new MetaTemplateCreated("594425479261596", Template.Pending, "MARKETING"), result.Value);
    }

    [Theory]
    [InlineData(401, "OAuth \"Facebook Platform\" \"invalid_token\" \"Error validating access token\"", 190)]
    [InlineData(401, "Bearer error=\"invalid_token\"", 190)]
    [InlineData(401, "bearer realm=\"graph\"", 190)]
    [InlineData(401, "Basic realm=\"proxy\"", null)]
    [InlineData(403, "OAuth \"Facebook Platform\" \"insufficient_scope\"", null)]
    [InlineData(407, "Bearer realm=\"proxy\"", null)]
    public async Task OnlyA401WithAnOAuthOrBearerChallengeAndNoErrorBodyIsARefusedToken(int status, string challenge, int? code)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(context =>
        {
            context.Response.StatusCode = status;
            context.Response.Headers.WWWAuthenticate = challenge;
            return Task.CompletedTask;
        });

        var sent = await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);

        var failure = Assert.IsType<MetaSendResult.Failed>(sent).Failure;
        Assert.Equal(code, failure.Error?.Code);
        Assert.Equal(code is null ? MetaFailureKind.Unavailable : MetaFailureKind.Rejected, failure.Kind);
        Assert.DoesNotContain("validating", failure.Error?.Message ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void EveryTextOfMetasErrorLosesTheToken()
    {
        // The type and fbtrace id reach stored failure reasons and the log too, whatever an upstream put in them.
        const string token = "EAAGtesttoken";
        var error = new MetaError(190, null, "bad " + token, "OAuth " + token, "for " + token, "trace-" + token, 401).WithoutSecrets(token);

        Assert.Equal(("bad [redacted]", "OAuth [redacted]", "for [redacted]", "trace-[redacted]"),
            (error.Message, error.Type, error.Details, error.FbtraceId));
    }

    [Theory]
    [InlineData(990, "EAAGlongtexttoken", 50, "[redacted]…")] // a token across the cut is taken out whole, then the text is cut
    [InlineData(999, "\U0001F600", 50, "…")]                  // an emoji across the cut is left out, not halved
    [InlineData(996, "tail", 0, "tail")]                       // exactly the longest text: kept whole
    public void AnOverlongTextIsCutAfterItsTokenIsTakenOut(int leading, string middle, int trailing, string expectedEnd)
    {
        var text = new string('a', leading) + middle + new string('b', trailing);
        var error = new MetaError(100, null, text, null, text, null, 400).WithoutSecrets("EAAGlongtexttoken");

        Assert.Equal(new string('a', leading) + expectedEnd, error.Message);
        Assert.Equal(error.Message, error.Details);
    }

    [Fact]
    public void AnOverlongTypeOrTraceIdIsCutShorterThanAText()
    {
        // Meta's type is a word and its trace id some 27 characters: one of 150 is not Meta's, and is cut at an id's length.
        var id = new string('t', 150);
        var error = new MetaError(100, null, "m", id, null, id, 400).WithoutSecrets("EAAGlongtexttoken");

        Assert.Equal(new string('t', MetaError.MaxIdLength) + "…", error.FbtraceId);
        Assert.Equal(error.FbtraceId, error.Type);
    }

    [Fact]
    public async Task OnlyAStoredConnectionsRefusedTokenIsLoggedAsOneToConnectAgain()
    {
        // The connect's check runs with a token not stored yet: Meta refusing it refuses the connect, and telling the
        // operator that the business "must connect WhatsApp again" would send them after a connection that never was.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.ReplyToNumberList(FakeMetaUpstream.Error(401, 190, "Error validating access token"));
        meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token"));

        var checkedNumbers = await meta.Client.ListPhoneNumbersAsync(FakeMetaUpstream.Connection, default);
        Assert.Equal(190, checkedNumbers.Failure?.Error?.Code);
        Assert.DoesNotContain(meta.ClientLogLines, line => line.Contains("must connect WhatsApp again", StringComparison.Ordinal));

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, MetaOutgoingMessage.Text("919876543210", "Hi", "twb:1"), default);
        Assert.Single(meta.ClientLogLines, line => line.Contains("must connect WhatsApp again", StringComparison.Ordinal));
    }
}
