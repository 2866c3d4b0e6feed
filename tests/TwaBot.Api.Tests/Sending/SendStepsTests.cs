using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>Each step of the send pipeline refusing, with its error, and the order the steps run in.</summary>
public class SendStepsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly object ValidTemplate = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    [Theory]
    [InlineData("/api/v1/send-template")]
    [InlineData("/api/v1/send-text")]
    [InlineData("/api/v1/send-media")]
    [InlineData("/api/v1/send-otp")]
    public async Task StarterGets403OnEverySend(string path)
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Starter");

        var response = await tenant.Client.PostAsJsonAsync(path, new { phone = "919876543210" });

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
    }

    [Fact]
    public async Task StarterGets403OnQuickSend()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Starter");

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation");

        var json = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
        Assert.Equal("Sending is not available on the Starter plan. Upgrade to Growth or Pro to send messages.", json.GetProperty("error").GetString());
    }

    [Theory] // the 403 is for sends only: what needs no permission needs no plan either
    [InlineData("/api/v1/health", HttpStatusCode.OK, null)]
    [InlineData("/api/v1/templates", HttpStatusCode.OK, null)]
    [InlineData("/api/v1/message-status/wamid.HBgMOTE5ODc2NTQzMjEw", HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND")]
    public async Task StarterStillReadsWhatNeedsNoSend(string path, HttpStatusCode status, string? errorCode)
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Starter");

        var response = await tenant.Client.GetAsync(path);

        var json = await response.ReadJsonAsync(status);
        Assert.Equal(errorCode, json.TryGetProperty("error_code", out var code) ? code.GetString() : null);
    }

    [Theory]
    [InlineData("send_text", "/api/v1/send-template", "send_template")]
    [InlineData("send_template", "/api/v1/send-text", "send_text")]
    [InlineData("send_template", "/api/v1/send-media", "send_media")]
    [InlineData("send_template", "/api/v1/send-otp", "send_otp")]
    public async Task AKeyWithoutThePermissionGets403NamingIt(string held, string path, string needed)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: [held]);

        var response = await tenant.Client.PostAsJsonAsync(path, ValidTemplate);

        var json = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        Assert.Contains(needed, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory] // an Idempotency-Key is looked at only after plan and permission: a key never lets a refused caller send
    [InlineData("Starter", "send_template", "PLAN_NOT_ALLOWED")]
    [InlineData("Growth", "send_text", "PERMISSION_DENIED")]
    public async Task ASendWithAnIdempotencyKeyIsStillRefusedByPlanAndPermission(string plan, string held, string errorCode)
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: plan, permissions: [held]);
        var key = Guid.NewGuid().ToString();

        for (var attempt = 0; attempt < 2; attempt++) // the refusal is not kept for the key either
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(ValidTemplate) };
            request.Headers.Add("Idempotency-Key", key);
            await (await tenant.Client.SendAsync(request)).AssertErrorAsync(HttpStatusCode.Forbidden, errorCode);
        }

        await factory.WithDbAsync(async db => Assert.Equal(0, await db.Messages.CountAsync(m => m.BusinessId == tenant.BusinessId)));
    }

    [Theory]
    [InlineData("send_template", "message=hi", "send_text")]
    [InlineData("send_text", "template=order_confirmation&params=a,b,c", "send_template")]
    public async Task QuickSendNeedsThePermissionOfItsMode(string held, string query, string needed)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: [held]);

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        Assert.Contains(needed, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/send-template", """{"phone":"919876543210"}""", "VALIDATION_FAILED", "template_name")]
    [InlineData("/api/v1/send-template", """{"template_name":"order_confirmation"}""", "VALIDATION_FAILED", "phone")]
    [InlineData("/api/v1/send-template", """{"phone":"98765","template_name":"order_confirmation"}""", "INVALID_PHONE", "phone")]
    [InlineData("/api/v1/send-template", """{"phone":919876543210,"template_name":"order_confirmation"}""", "VALIDATION_FAILED", "phone")]
    [InlineData("/api/v1/send-template", """{"phone":"919876543210","template_name":"x","body_params":"Rahul"}""", "VALIDATION_FAILED", "body_params")]
    [InlineData("/api/v1/send-text", """{"phone":"919876543210"}""", "VALIDATION_FAILED", "message")]
    [InlineData("/api/v1/send-media", """{"phone":"919876543210","media_type":"gif","media_url":"https://e.com/a.gif"}""", "VALIDATION_FAILED", "media_type")]
    [InlineData("/api/v1/send-media", """{"phone":"919876543210","media_type":"image","media_url":"not a url"}""", "VALIDATION_FAILED", "media_url")]
    [InlineData("/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification","otp":"12"}""", "VALIDATION_FAILED", "otp")]
    public async Task BadFieldsAreRefusedNamingTheField(string path, string body, string code, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, code)).GetProperty("field").GetString());
    }

    [Theory] // PRODUCT §2: "bad body / field" comes before "bad phone"
    [InlineData("/api/v1/send-template", """{"phone":"12"}""", "template_name")]
    [InlineData("/api/v1/send-template", """{"phone":"12","template_name":"x","language":"not a code"}""", "language")]
    [InlineData("/api/v1/send-text", """{"phone":"12"}""", "message")]
    [InlineData("/api/v1/send-media", """{"phone":"12","media_type":"gif","media_url":"https://e.com/a.gif"}""", "media_type")]
    [InlineData("/api/v1/send-media", """{"phone":"12","media_type":"image","media_url":"not a url"}""", "media_url")]
    [InlineData("/api/v1/send-otp", """{"phone":"12","template_name":"otp_verification","otp":"1"}""", "otp")]
    public async Task ABadFieldAnswersBeforeABadlyFormedPhone(string path, string body, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("phone=12&template=order_confirmation&lang=not+a+code", "VALIDATION_FAILED", "lang")]
    [InlineData("phone=12&message=", "VALIDATION_FAILED", "message")]
    [InlineData("phone=12&message=Hello", "INVALID_PHONE", "phone")]
    public async Task QuickSendChecksItsFieldsBeforeThePhonesFormat(string query, string code, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?{query}");

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, code)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task QuickSendWithNeitherTemplateNorMessageNamesBoth()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.StartsWith("template or message is required", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory] // "Hello {{1}}" would reach the customer as written: values fill only a template
    [InlineData("message=Hello+%7B%7B1%7D%7D&params=Rahul", "params")]
    [InlineData("message=Hi&params=+&button_params=SUMMER", "button_params")]
    [InlineData("message=Hi&params=Rahul&button_params=SUMMER", "params")] // both: the first of them is named
    public async Task QuickSendValuesBesideATextWithNoTemplateAreRefusedNamingThem(string query, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["send_text"]);

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.StartsWith($"{field} fills a template's placeholders, and no template= is given", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory] // a form builder's URL carries every parameter, blank ones too
    [InlineData("params=&button_params=")]
    [InlineData("params=&button_params=+")] // a space is as blank as nothing
    public async Task QuickSendBlankValuesBesideATextAreLeftOut(string values)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["send_text"]);

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&message=Hi&{values}");

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED"); // past validation, at the window
    }

    [Theory] // the key may send templates, so what is missing is template= (template_name=, the POST's name, is refused naming it)
    [InlineData("send_template", "name=order_confirmation&params=a,b,c")]
    [InlineData("send_template", "template=+&params=a,b,c")]
    [InlineData("send_text", "text=Hello")]
    public async Task QuickSendWithNeitherTemplateNorMessageNamesBothWhateverTheKeyMaySend(string held, string query)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: [held]);

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.StartsWith("template or message is required", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact] // the API docs: quick-send's "Permission required: send_template or *"
    public async Task QuickSendWithNeitherModeNeedsSendTemplateOfAKeyThatMaySendNeither()
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["send_media"]);

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210");

        var json = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        Assert.Contains("'send_template'", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyLanguageMeansTheDefault()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var post = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", language = "", body_params = new[] { "a", "b", "c" } });
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543211&template=order_confirmation&params=a,b,c&lang=");

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, quickSend.StatusCode);
    }

    [Fact]
    public async Task ATemplateParameterWithALineBreakIsRefusedBeforeAnythingIsSent()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var post = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "919876543210",
            template_name = "order_confirmation",
            body_params = new[] { "Rahul", "ORD-12345\nPaid", "₹1,499" },
        });
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD%0912345,x");

        var json = await post.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("body_params[1]", json.GetProperty("field").GetString());
        Assert.Contains("body_params[1]", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("params[1]", (await quickSend.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        await factory.WithDbAsync(async db =>
            Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == tenant.BusinessId)));
    }

    [Fact]
    public async Task AnInvalidPhoneIsNamedInTheError()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = "12-34", template_name = "order_confirmation" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE");
        Assert.Contains("12-34", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextLongerThan4096CharactersIsRefused()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = new string('x', 4097) });

        Assert.Equal("message", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task ABusinessWithoutWhatsAppCannotSend()
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.PostAsJsonAsync("/api/v1/send-template", ValidTemplate);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
    }

    [Fact]
    public async Task AnUnknownTemplateGetsTheDocsText()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919876543210", template_name = "wrong_name" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal("Template 'wrong_name' not found or not approved.", json.GetProperty("error").GetString());
        Assert.False(json.TryGetProperty("hint", out _));
    }

    [Theory]
    [InlineData("/api/v1/send-template", "template_name", "language")]
    [InlineData("/api/v1/quick-send", "template", "lang")]
    public async Task ATemplateAskedForInAnotherLanguageKeepsTheDocsTextAndHintsAtItsLanguages(string path, string templateField, string languageField)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = path.EndsWith("quick-send", StringComparison.Ordinal)
            ? await tenant.Client.GetAsync($"{path}?phone=919876543210&template=order_confirmation&lang=en_US&params=Rahul,ORD-1,1")
            : await tenant.Client.PostAsJsonAsync(path, new
            {
                phone = "919876543210", template_name = "order_confirmation", language = "en_US", body_params = new[] { "Rahul", "ORD-1", "1" },
            });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal("Template 'order_confirmation' not found or not approved.", json.GetProperty("error").GetString());
        Assert.Equal(templateField, json.GetProperty("field").GetString()); // each endpoint's own name for the template
        Assert.Equal($"'order_confirmation' is approved in en, not in 'en_US': set {languageField} to en.", json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task ATemplateApprovedInSeveralOtherLanguagesHintsAtEach()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await StoreTemplateAsync(tenant.BusinessId, "order_confirmation", "hi", "APPROVED");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "919876543210", template_name = "order_confirmation", language = "en_US", body_params = new[] { "Rahul", "ORD-1", "1" },
        });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal("'order_confirmation' is approved in en, hi, not in 'en_US': set language to one of those.", json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task AnUnapprovedTemplateIsNotFound()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED")));

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", ValidTemplate);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Theory] // a pending template is worth waiting for; a deleted one is gone, as if never made (no hint about its status)
    [InlineData("PENDING", "'order_confirmation' in 'en' is PENDING at Meta, not APPROVED: it can be sent once Meta approves it.")]
    [InlineData("REJECTED", "'order_confirmation' in 'en' is REJECTED at Meta, not APPROVED: only approved templates can be sent.")]
    [InlineData("DELETED", null)]
    public async Task ATemplateNotApprovedAtMetaHintsAtItsStatusUnlessDeleted(string status, string? hint)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, status).SetProperty(t => t.StatusReason, (string?)null)));

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", ValidTemplate);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal(hint, json.TryGetProperty("hint", out var answered) ? answered.GetString() : null);
    }

    [Fact]
    public async Task ATemplateNotApprovedInTheLanguageAskedForHintsAtItsStatusThereBeforeOtherLanguages()
    {
        // Paused in English and approved in Hindi: the English send is refused for the pause, which is what the user
        // meant to send; pointing at Hindi would change the message's language.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED").SetProperty(t => t.StatusReason, (string?)null)));
        await StoreTemplateAsync(tenant.BusinessId, "order_confirmation", "hi", "APPROVED");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", ValidTemplate);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal("'order_confirmation' in 'en' is PAUSED at Meta, not APPROVED: only approved templates can be sent.", json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task ATemplateApprovedInNoLanguageHintsAtWhatMetaMadeOfItInTheOthers()
    {
        // Submitted in Hindi and sent in English while Meta still reviews it: "not found" alone would send the user
        // looking for a typo. The hint names its status and language, never pending in the language asked for.
        var tenant = await factory.CreateSendingTenantAsync();
        await StoreTemplateAsync(tenant.BusinessId, "festival_offer", "hi", "PENDING");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "festival_offer", language = "en", body_params = new[] { "Rahul", "ORD-1", "1" } });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal("'festival_offer' is approved in no language, and Meta has it only as PENDING in 'hi', not in 'en'.",
            json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task AnOtpThroughATemplateThatIsNotAuthenticationIsRefusedNamingTheTemplate()
    {
        // The OTP's one value is the code, never the client's to count: what is wrong is the template it named.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919876543210", template_name = "order_confirmation", otp = "123456" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("template_name", json.GetProperty("field").GetString());
        Assert.Equal("Template 'order_confirmation' is a UTILITY template; OTPs need an approved AUTHENTICATION template.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnOtpThroughAnAuthenticationTemplateWithoutOnePlaceholderIsRefusedNamingTheTemplate()
    {
        // The code is the OTP's one value whatever the client sends: a count that does not fit is the template's doing.
        var tenant = await factory.CreateSendingTenantAsync();
        await AddTemplateAsync(tenant.BusinessId, "login_code", headerType: null, category: "AUTHENTICATION", body: "Your login code is ready.");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919876543210", template_name = "login_code", otp = "123456" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("template_name", json.GetProperty("field").GetString());
        Assert.StartsWith("Template 'login_code' has 0 body variable(s)", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Rahul")]
    [InlineData("a", "b", "c", "d")]
    public async Task BodyParamsMustMatchTheTemplatesPlaceholders(params string[] bodyParams)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = bodyParams });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("body_params", json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task HeaderParamsMustMatchTheTemplatesHeaderPlaceholders()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "flash_sale", language = "en", category = "MARKETING", body = "Hi {{1}}, the sale is on.", header_text = "Sale ends {{1}}" }))
            .EnsureSuccessStatusCode();

        async Task<HttpResponseMessage> Send(string template, string[] bodyParams, string[]? headerParams) =>
            await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876543210", template_name = template, body_params = bodyParams, header_params = headerParams });

        var none = await Send("flash_sale", ["Rahul"], null);
        var two = await Send("flash_sale", ["Rahul"], ["today", "tomorrow"]);
        var onHeaderless = await Send("order_confirmation", ["a", "b", "c"], ["x"]);
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=flash_sale&params=Rahul");
        var one = await Send("flash_sale", ["Rahul"], ["today"]);

        foreach (var refused in new[] { none, two, onHeaderless })
        {
            Assert.Equal("header_params", (await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).GetProperty("field").GetString());
        }

        var quickSendError = await quickSend.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Contains("quick-send cannot fill", quickSendError.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
    }

    [Fact]
    public async Task HeaderValuesForATemplateWithoutHeaderVariablesAreRefused()
    {
        // More values than the header has variables: Meta would refuse the send (132000) after it was answered "queued".
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" }, header_params = new[] { "ORD-1" },
        });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("header_params", json.GetProperty("field").GetString());
        Assert.Equal("Template 'order_confirmation' has 0 header variable(s); header_params gave 1.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ATextHeadersValueIsAtMost60Characters()
    {
        // Meta's send reference caps a header's text parameter at 60 characters (a body's at 1024): refused here, naming
        // the value, instead of answered "queued" and failed by Meta. Counted as the other limits are: an emoji is one.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "flash_sale", language = "en", category = "MARKETING", body = "Hi {{1}}, the sale is on.", header_text = "Sale: {{1}}" }))
            .EnsureSuccessStatusCode();

        async Task<HttpResponseMessage> Send(string headerValue) => await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "flash_sale", body_params = new[] { "Rahul" }, header_params = new[] { headerValue } });

        var tooLong = await Send(new string('a', 61));
        var aLongLink = await Send("https://shop.example/sale/" + new string('a', 40)); // a URL is text in a text header
        var atTheLimit = await Send(new string('a', 59) + "🎉");

        foreach (var refused in new[] { tooLong, aLongLink })
        {
            var json = await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
            Assert.Equal("header_params[0]", json.GetProperty("field").GetString());
            Assert.Contains("at most 60 characters", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        }

        await atTheLimit.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task MetasRefusalOfAHeaderNamesTheHeadersField()
    {
        // The header Meta holds is not the one stored here yet (edited at Meta, its event not applied): Meta's refusal
        // names the header ("header: …"), which send-template fills with header_params and quick-send cannot fill at all,
        // so pointing the CRM at the body's values would have it change what was right.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            var wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId;
            db.Templates.Add(new TwaBot.Api.Templates.Template
            {
                BusinessId = tenant.BusinessId, Name = "weekend_sale", Language = "en", Content = "Hi {{1}}, the sale is on.", Category = "MARKETING",
                Status = "APPROVED", MetaTemplateId = "8877", UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            });
            db.SandboxTemplates.Add(new TwaBot.Api.Sandbox.SandboxTemplate
            {
                WabaId = wabaId, MetaId = "8877", Name = "weekend_sale", Language = "en", Category = "MARKETING", Status = "APPROVED",
                Body = "Hi {{1}}, the sale is on.", HeaderText = "Sale ends {{1}}",
            });
            await db.SaveChangesAsync();
        });

        var sendTemplate = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "weekend_sale", body_params = new[] { "Rahul" } });
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=weekend_sale&params=Rahul");

        var json = await sendTemplate.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.StartsWith("Meta refused the template parameters: header:", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("header_params", json.GetProperty("field").GetString());
        Assert.Equal("template", (await quickSend.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task QuickSendParamsAreCountedAfterSplitting()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var twoParams = await tenant.Client.GetAsync(@"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,₹1\,499");
        var threeParams = await tenant.Client.GetAsync(@"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,₹1\,499");

        await twoParams.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal(HttpStatusCode.OK, threeParams.StatusCode);
    }

    [Theory]
    [InlineData("Order_Confirmation", "Template names match exactly, case included: set template to 'order_confirmation'.")]
    [InlineData("Order Confirmation", "'Order Confirmation' is the display name of 'order_confirmation': set template to its name.")]
    [InlineData("order_confirmations", null)]
    public async Task ATemplateNameThatIsAlmostAnApprovedOneIsNamed(string given, string? hint)
    {
        // /templates shows people "Order Confirmation"; a CRM user types that, or the name in another case, into a form.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync(
            $"/api/v1/quick-send?phone=919876543210&template={Uri.EscapeDataString(given)}&params=Rahul,ORD-12345,100");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal($"Template '{given}' not found or not approved.", json.GetProperty("error").GetString());
        Assert.Equal(hint, json.TryGetProperty("hint", out var answered) ? answered.GetString() : null);
    }

    [Fact]
    public async Task ANameAlmostApprovedOnlyInAnotherLanguageIsNotNamed()
    {
        // Named, it would still not be found in 'hi': the hint would send the user round in a circle.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=Order_Confirmation&lang=hi&params=Rahul,ORD-12345,100");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Null(json.TryGetProperty("hint", out var hint) ? hint.GetString() : null);
    }

    [Fact]
    public async Task TooManyQuickSendParamsPointAtTheCommaInsideAValue()
    {
        // An HTML form's "Rahul,ORD-12345,₹1,499" (its commas encoded as %2C) reads as four values: the answer says how to keep one.
        var tenant = await factory.CreateSendingTenantAsync();

        var tooMany = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul%2CORD-12345%2C%E2%82%B91%2C499");
        var tooFew = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul");
        var bodyParams = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c", "d" } });

        var json = await tooMany.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("Template 'order_confirmation' has 3 body variable(s); params gave 4.", json.GetProperty("error").GetString());
        Assert.Equal(@"params are split at every comma: write a comma inside a value as \, (₹1\,499 for ₹1,499, %5C%2C in a URL).",
            json.GetProperty("hint").GetString());
        Assert.False((await tooFew.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).TryGetProperty("hint", out _));
        Assert.False((await bodyParams.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).TryGetProperty("hint", out _));
    }

    [Theory]
    [InlineData("Rahul;ORD-12345;%E2%82%B91499", ";")] // a spreadsheet's list separator where commas are decimal marks
    [InlineData("Rahul|ORD-12345", "|")]               // another gateway's separator
    public async Task TooFewQuickSendParamsJoinedByAnotherSeparatorSayParamsAreCommaSeparated(string parameters, string separator)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params={parameters}");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("params", json.GetProperty("field").GetString());
        Assert.Equal($"params are separated by commas, not by '{separator}': write params=Rahul,ORD-12345,₹1499.", json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task AMediaHeaderTakesItsFilesUrlAsTheOneHeaderParam()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await AddTemplateAsync(tenant.BusinessId, "catalogue_photo", "image");
        await AddTemplateAsync(tenant.BusinessId, "store_location", "location");

        async Task<HttpResponseMessage> Send(string template, string[]? headerParams) =>
            await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876543210", template_name = template, body_params = new[] { "Rahul" }, header_params = headerParams });

        var withUrl = await Send("catalogue_photo", ["https://cdn.example.com/p.jpg"]);
        var signed = await Send("catalogue_photo", ["https://bucket.s3.amazonaws.com/p.jpg?X-Amz-Signature=" + new string('a', 1500)]);
        var without = await Send("catalogue_photo", null);
        var notAUrl = await Send("catalogue_photo", ["spring sale"]);
        var twoUrls = await Send("catalogue_photo", ["https://cdn.example.com/p.jpg", "https://cdn.example.com/q.jpg"]); // a header shows one file
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=catalogue_photo&params=Rahul");
        var location = await Send("store_location", null);

        await withUrl.ReadJsonAsync(HttpStatusCode.OK);
        await signed.ReadJsonAsync(HttpStatusCode.OK); // longer than a text parameter may be
        foreach (var refused in new[] { without, notAUrl, twoUrls })
        {
            Assert.Equal("header_params", (await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).GetProperty("field").GetString());
        }

        Assert.Equal("template", (await quickSend.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).GetProperty("field").GetString());
        Assert.Contains("location header", (await location.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID")).GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A template of three body variables in <paramref name="language"/>, in our table only: what a sync left of one Meta holds in that status.</summary>
    private Task StoreTemplateAsync(long businessId, string name, string language, string status) => factory.WithDbAsync(db =>
    {
        db.Templates.Add(new TwaBot.Api.Templates.Template
        {
            BusinessId = businessId, Name = name, Language = language, Content = "नमस्ते {{1}}, ऑर्डर {{2}}: {{3}}", Category = "UTILITY",
            Status = status, MetaTemplateId = $"99{name.Length}{language}", UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
        });
        return db.SaveChangesAsync();
    });

    /// <summary>An approved template with a header of <paramref name="headerType"/>, on both sides, as a sync from Meta would leave it.</summary>
    private Task AddTemplateAsync(long businessId, string name, string? headerType, string category = "MARKETING", string body = "Hi {{1}}, have a look.") => factory.WithDbAsync(async db =>
    {
        var wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).WabaId;
        db.Templates.Add(new TwaBot.Api.Templates.Template
        {
            BusinessId = businessId, Name = name, Language = "en", Content = body, Category = category,
            Status = "APPROVED", HeaderType = headerType, MetaTemplateId = "88" + name.Length, UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
        });
        db.SandboxTemplates.Add(new TwaBot.Api.Sandbox.SandboxTemplate
        {
            WabaId = wabaId, MetaId = "88" + name.Length, Name = name, Language = "en", Category = category, Status = "APPROVED", Body = body,
        });
        await db.SaveChangesAsync();
    });
}
