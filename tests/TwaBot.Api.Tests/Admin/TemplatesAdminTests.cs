using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Admin.TenantTemplates;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// Submitting a template goes to Meta (here the sandbox emulator, over HTTP): what is stored, sent, or refused before or by
/// Meta. TemplateSyncTests has the sync, TemplateEventsAdminTests Meta's template events.
/// </summary>
public class TemplatesAdminTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    /// <summary>A utility template as an admin submits it; the contract test submits it too.</summary>
    internal static readonly object ShippingUpdate = new
    {
        name = "shipping_update",
        language = "en",
        category = "utility",
        display_name = "Shipping update",
        body = "Hi {{1}}, your order {{2}} has shipped.",
        header_text = "On its way",
        footer_text = "Reply STOP to opt out",
        variables = new[] { "customer_name", "order_id" },
    };

    [Fact]
    public async Task ACreatedTemplateIsSubmittedStoredListedAndSendable()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);

        var template = (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal("APPROVED", template.GetProperty("status").GetString()); // the sandbox's reviewer approves
        Assert.Equal("UTILITY", template.GetProperty("category").GetString());
        Assert.Equal("Hi {{1}}, your order {{2}} has shipped.", template.GetProperty("body").GetString());
        Assert.False(string.IsNullOrEmpty(template.GetProperty("meta_template_id").GetString()));
        var metaId = template.GetProperty("meta_template_id").GetString();
        await factory.WithDbAsync(async db =>
        {
            // By the id Meta gave, not the name: other tests of the fixture submit this name for their own accounts.
            var atMeta = await db.SandboxTemplates.SingleAsync(t => t.MetaId == metaId);
            Assert.Equal(("shipping_update", "en"), (atMeta.Name, atMeta.Language));
            Assert.Equal("On its way", atMeta.HeaderText);
        });

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "shipping_update");
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "9876543210", template_name = "shipping_update", body_params = new[] { "Rahul", "ORD-1" } });
        await send.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnAuthenticationTemplateGetsMetasOwnTextsAndSendsItsCodeToTheButton()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "login_code", language = "en_US", category = "AUTHENTICATION", code_expiration_minutes = 10 });

        var template = (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal("AUTHENTICATION", template.GetProperty("category").GetString());
        Assert.Equal("{{1}} is your verification code. For your security, do not share this code.", template.GetProperty("body").GetString());
        Assert.Equal("This code expires in 10 minutes.", template.GetProperty("footer_text").GetString());
        var metaId = template.GetProperty("meta_template_id").GetString();
        await factory.WithDbAsync(async db =>
        {
            // What Meta wrote is what we keep: a sync changes nothing.
            var atMeta = await db.SandboxTemplates.SingleAsync(t => t.MetaId == metaId);
            Assert.Equal((template.GetProperty("body").GetString(), "This code expires in 10 minutes."), (atMeta.Body, atMeta.FooterText));
        });
        // The emulator, like Meta, wants the code on the copy-code button too, from send-otp and send-template alike.
        var otp = await tenant.Client.PostAsJsonAsync("/api/v1/send-otp",
            new { phone = "919876543210", template_name = "login_code", language = "en_US", otp = "482913" });
        var asTemplate = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "login_code", language = "en_US", body_params = new[] { "482913" } });
        await otp.ReadJsonAsync(HttpStatusCode.OK);
        await asTemplate.ReadJsonAsync(HttpStatusCode.OK);
        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, Count(synced, "updated"));
    }

    [Theory]
    [InlineData("""{"name":"Order Update","language":"en","category":"UTILITY","body":"Hi"}""", "name")]
    [InlineData("""{"language":"en","category":"UTILITY","body":"Hi"}""", "name")]
    [InlineData("""{"name":"order_update","language":"english","category":"UTILITY","body":"Hi"}""", "language")]
    [InlineData("""{"name":"order_update","language":"en","category":"PROMOTION","body":"Hi"}""", "category")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY"}""", "body")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi {{1}}","variables":["a","b"]}""", "variables")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi {{1}} {{3}}"}""", "body")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi {{1}}","header_text":"Sale {{2}}"}""", "header_text")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi {{1}}","header_text":"{{1}} sale on {{2}}"}""", "header_text")] // Meta: one
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi","header_text":"{{brand}} sale on {{day}}"}""", "header_text")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi {{FirstName}}"}""", "body")] // Meta: lowercase names
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi {{first_name}}","header_text":"{{Brand}} sale"}""", "header_text")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi","footer_text":"0123456789012345678901234567890123456789012345678901234567890"}""", "footer_text")]
    [InlineData("""{"name":"order\n_update","language":"en","category":"UTILITY","body":"Hi"}""", "name")] // at the edges, a form's padding
    [InlineData("""{"name":"order_update","language":"e\nn","category":"UTILITY","body":"Hi"}""", "language")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi","header_text":"Two\nlines"}""", "header_text")]
    [InlineData("""{"name":"order_update","language":"en","category":"AUTHENTICATION","body":"Your code is {{1}}"}""", "body")]
    [InlineData("""{"name":"order_update","language":"en","category":"AUTHENTICATION","header_text":"Login {{1}}"}""", "header_text")]
    [InlineData("""{"name":"order_update","language":"en","category":"AUTHENTICATION","footer_text":"Expires soon"}""", "footer_text")]
    [InlineData("""{"name":"order_update","language":"en","category":"AUTHENTICATION","code_expiration_minutes":0}""", "code_expiration_minutes")]
    [InlineData("""{"name":"order_update","language":"en","category":"AUTHENTICATION","code_expiration_minutes":91}""", "code_expiration_minutes")]
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi","code_expiration_minutes":10}""", "code_expiration_minutes")]
    public async Task InvalidTemplatesAreRefusedBeforeMetaIsCalled(string body, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", content);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        await factory.WithDbAsync(async db => Assert.False(await db.SandboxTemplates.AnyAsync(t => t.Name == "order_update")));
    }

    /// <summary>Create requests at the edges of Meta's limits and of the variables rule, and the field each one that is refused names.</summary>
    public static TheoryData<string, string?> EdgeRequests => new()
    {
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"{{new string('a', 1024)}}"}""", null },
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"{{new string('a', 1025)}}"}""", "body" },
        // Characters as Meta and the send limits count them: an emoji is one, not .NET's two UTF-16 units.
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"{{new string('a', 1000) + string.Concat(Enumerable.Repeat("🎉", 24))}}"}""", null },
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"{{new string('a', 1001) + string.Concat(Enumerable.Repeat("🎉", 24))}}"}""", "body" },
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"Hi","header_text":"{{string.Concat(Enumerable.Repeat("🎉", 60))}}","footer_text":"{{string.Concat(Enumerable.Repeat("🛍", 60))}}"}""", null },
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"Hi","footer_text":"{{string.Concat(Enumerable.Repeat("🛍", 61))}}"}""", "footer_text" },
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"Hi","display_name":"{{new string('a', 200)}}"}""", null },
        { $$"""{"name":"edge_case","language":"en","category":"UTILITY","body":"Hi","display_name":"{{new string('a', 201)}}"}""", "display_name" },
        { $$"""{"name":"{{new string('o', 512)}}","language":"en","category":"UTILITY","body":"Hi"}""", null },
        { $$"""{"name":"{{new string('o', 513)}}","language":"en","category":"UTILITY","body":"Hi"}""", "name" },
        { """{"name":"edge_case","language":"en","category":"UTILITY","body":"Hi {{1}}","variables":[" "]}""", "variables" },
        { """{"name":"edge_case","language":"fil","category":"UTILITY","body":"Hi"}""", null },
        { """{"name":"edge_case","language":"en","category":"AUTHENTICATION","variables":["code"]}""", null }, // its one placeholder: the code
        { """{"name":"edge_case","language":"en","category":"AUTHENTICATION","variables":[]}""", "variables" },
        { """{"name":"edge_case","language":"en","category":"AUTHENTICATION","code_expiration_minutes":90}""", null },
    };

    [Theory]
    [MemberData(nameof(EdgeRequests))]
    public async Task TemplatesAtTheEdgesOfTheRulesAreTakenAndThoseBeyondRefused(string body, string? refusedField)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", content);

        if (refusedField is null)
        {
            await response.ReadJsonAsync(HttpStatusCode.Created);
        }
        else
        {
            Assert.Equal(refusedField, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        }
    }

    [Fact]
    public async Task WhatACreateGivesIsWhatTemplatesListsAndSendsCheck()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate)).ReadJsonAsync(HttpStatusCode.Created);

        var listed = (await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "shipping_update");
        Assert.Equal(("Shipping update", "text", "On its way", "Reply STOP to opt out"), (listed.GetProperty("display_name").GetString(),
            listed.GetProperty("header_type").GetString(), listed.GetProperty("header_text").GetString(), listed.GetProperty("footer_text").GetString()));
        Assert.Equal(["customer_name", "order_id"], listed.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task ANameAndLanguagePaddedByAFormAreStoredAndSubmittedTrimmed()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var created = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = " padded_update\t", language = " en_US ", category = " utility ", body = "Hi" })).ReadJsonAsync(HttpStatusCode.Created);

        var template = created.GetProperty("template");
        Assert.Equal(("padded_update", "en_US"), (template.GetProperty("name").GetString(), template.GetProperty("language").GetString()));
        var metaId = template.GetProperty("meta_template_id").GetString();
        await factory.WithDbAsync(async db => // as Meta was given it
            Assert.Equal(("padded_update", "en_US"), await db.SandboxTemplates.Where(t => t.MetaId == metaId).Select(t => ValueTuple.Create(t.Name, t.Language)).SingleAsync()));
    }

    [Fact]
    public async Task TheSameNameInAnotherLanguageIsAnotherTemplate()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate)).EnsureSuccessStatusCode();

        var hindi = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "shipping_update", language = "hi", category = "UTILITY", body = "नमस्ते {{1}}, आपका ऑर्डर {{2}} भेज दिया गया है।" });

        Assert.Equal("hi", (await hindi.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template").GetProperty("language").GetString());
        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["en", "hi"], listed.GetProperty("templates").EnumerateArray()
            .Where(t => t.GetProperty("name").GetString() == "shipping_update").Select(t => t.GetProperty("language").GetString()));
    }

    [Fact]
    public async Task AnotherBusinesssTemplateIsNotFoundUnderThisOne()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var other = await factory.CreateSendingTenantAsync();
        var (templateId, _) = await OrderConfirmationAsync(factory, other.BusinessId);
        using var admin = factory.CreateAdminClient();

        var read = await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{templateId}");

        await read.AssertErrorAsync(HttpStatusCode.NotFound, "TEMPLATE_NOT_FOUND");
        await (await admin.GetAsync($"/admin/v1/businesses/{other.BusinessId}/templates/{templateId}")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ATemplateReadUnderABusinessThatDoesNotExistSaysTheBusinessIsNotFound()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (templateId, _) = await OrderConfirmationAsync(factory, tenant.BusinessId);
        using var admin = factory.CreateAdminClient();

        var read = await admin.GetAsync($"/admin/v1/businesses/987654321/templates/{templateId}");

        await read.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    [Fact]
    public async Task ATemplateThatExistsIsAConflict()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate)).EnsureSuccessStatusCode();

        var again = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);

        await again.AssertErrorAsync(HttpStatusCode.Conflict, "CONFLICT");
    }

    [Fact]
    public async Task WithoutWhatsAppOrBusinessNothingIsSubmitted()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var submitted = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/templates", ShippingUpdate))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        await (await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        // Says what waits for the connection here (the sends' text says "before sending").
        Assert.EndsWith("before submitting or syncing templates.", submitted.GetProperty("error").GetString(), StringComparison.Ordinal);
        await (await admin.PostAsJsonAsync("/admin/v1/businesses/999999/templates", ShippingUpdate))
            .AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    [Fact]
    public async Task MetasRefusalIsReportedAndNothingIsStored()
    {
        // A connection Meta does not know: the emulator answers Graph error 100, as Meta does.
        var businessId = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(businessId, phoneNumberId: "109999999999999");
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/templates", ShippingUpdate);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");
        Assert.Contains("code 100", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(await db.Templates.AnyAsync(t => t.BusinessId == businessId)));
    }

    [Fact]
    public async Task TwoBusinessesSharingAWabaThatSubmitOneTemplateAtOnceGetItCreatedAndRefusedAsMetaRefusesIt()
    {
        // Each business's creates run in turn, two businesses' do not: the other business submits the same name and language
        // just after the emulator checked this one's. Its insert met the unique index (a 500 from the emulator), so this
        // create answered Meta's outcome unknown and kept the template PENDING for a sync; Meta refuses it as existing.
        await using var server = new ReadInterrupted(sql => sql.Contains("FROM \"sandbox_templates\"", StringComparison.Ordinal)
            && sql.Contains("EXISTS", StringComparison.Ordinal));
        var tenant = await server.CreateSendingTenantAsync();
        var sharing = await server.CreateBusinessAsync();
        using var admin = server.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{sharing}/whatsapp",
            new { sandbox = true, waba_id = await WabaIdAsync(server, tenant.BusinessId) })).EnsureSuccessStatusCode();
        server.WhileTheReadEnds = async () => await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{sharing}/templates", ShippingUpdate))
            .ReadJsonAsync(HttpStatusCode.Created);

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);

        Assert.Null(server.WhileTheReadEnds); // the other business's create ran between this one's check and its write
        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");
        Assert.Contains("already exists in en", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await server.WithDbAsync(async db =>
        {
            Assert.False(await db.Templates.AnyAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "shipping_update"));
            Assert.Equal("APPROVED", (await db.Templates.SingleAsync(t => t.BusinessId == sharing && t.Name == "shipping_update")).Status);
        });
    }

    [Fact]
    public async Task ADeletedTemplateThatMetasEventBringsBackWhileItsNameIsSubmittedAgainIsKeptAndTheSubmissionRefused()
    {
        // The create found the row deleted (a sync whose list left it out) and Meta's newer event approved it again before
        // the create wrote its pending row: the submission took the row over, Meta refused it as existing, and undoing it
        // marked the approved template deleted, without Meta's id, so its sends were refused until a sync.
        await using var server = new ReadInterrupted(sql => sql.Contains("FROM \"templates\"", StringComparison.Ordinal)
            && sql.Contains("LIMIT", StringComparison.Ordinal));
        var (tenant, wabaId, templateId, metaId) = await TenantWithOrderConfirmationAsync(server);
        await server.WithDbAsync(async db =>
        {
            var deleted = await db.Templates.SingleAsync(t => t.Id == templateId);
            (deleted.Status, deleted.StatusEventAt) = ("DELETED", server.Clock.GetUtcNow().UtcDateTime.AddMinutes(-1));
            await db.SaveChangesAsync();
        });
        server.WhileTheReadEnds = () => DeliverTemplateEventAsync(
            server, wabaId, Webhooks.MetaPayloads.TemplateStatus("APPROVED", "order_confirmation", "en", metaId), server.Clock.GetUtcNow());
        using var admin = server.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "order_confirmation", language = "en", category = "UTILITY", body = "Hello {{1}}" });

        Assert.Null(server.WhileTheReadEnds); // the event was applied between the create's read and its write
        await response.AssertErrorAsync(HttpStatusCode.Conflict, "CONFLICT");
        await server.WithDbAsync(async db =>
        {
            var kept = await db.Templates.AsNoTracking().SingleAsync(t => t.Id == templateId);
            Assert.Equal(("APPROVED", metaId.ToString(System.Globalization.CultureInfo.InvariantCulture), "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!"),
                (kept.Status, kept.MetaTemplateId, kept.Content));
        });
    }

    [Fact]
    public async Task StatusAndCategoryEventsThatOvertakeMetasAnswerToACreateAreKept()
    {
        await using var held = new TemplateCreatesHeldAtMeta();
        var tenant = await held.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(held, tenant.BusinessId);
        using var admin = held.CreateAdminClient();

        var create = admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);
        await held.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Meta's review (here a rejection) and its recategorization are reported before Meta's answer to the create comes back.
        await DeliverTemplateEventAsync(held, wabaId, Webhooks.MetaPayloads.TemplateStatus("REJECTED", "shipping_update", "en", 771234567890199),
            held.Clock.GetUtcNow());
        await DeliverTemplateEventAsync(held, wabaId, new JsonObject
        {
            ["field"] = "template_category_update",
            ["value"] = new JsonObject
            {
                ["message_template_id"] = 771234567890199, ["message_template_name"] = "shipping_update", ["message_template_language"] = "en",
                ["new_category"] = "MARKETING",
            },
        }, held.Clock.GetUtcNow());
        held.Release.SetResult();

        var template = (await (await create).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal(("REJECTED", "MARKETING"), (template.GetProperty("status").GetString(), template.GetProperty("category").GetString()));
        Assert.False(string.IsNullOrEmpty(template.GetProperty("meta_template_id").GetString()));
    }

    [Fact]
    public async Task ATemplateMetaApprovesAtCreationCanBeSentAtOnceWhileTheBusinessKeepsSending()
    {
        // Sends during the create keep the business's approved templates in memory: Meta's answer (APPROVED)
        // must drop that copy, as every other change to a template does.
        await using var held = new TemplateCreatesHeldAtMeta();
        var tenant = await held.CreateSendingTenantAsync();
        using var admin = held.CreateAdminClient();

        var create = admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);
        await held.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var sendMeanwhile = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });
        held.Release.SetResult();
        var created = (await (await create).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "9876543210", template_name = "shipping_update", body_params = new[] { "Rahul", "ORD-1" } });

        Assert.Equal(HttpStatusCode.OK, sendMeanwhile.StatusCode);
        Assert.Equal("APPROVED", created.GetProperty("status").GetString());
        await send.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ATemplateCreateWhoseCallerLeavesWhileMetaCreatesItKeepsMetasAnswer()
    {
        // Meta was asked under the caller's token: a dashboard closed while Meta created the template cancelled the call,
        // and the row stayed pending without Meta's id (sends refused, a retry answered 409) though Meta had approved it.
        await using var held = new TemplateCreatesHeldAtMeta();
        var tenant = await held.CreateSendingTenantAsync();
        using var admin = held.CreateAdminClient();

        await held.CreateWhoseCallerLeavesAtMetaAsync(admin, tenant.BusinessId);

        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var template = listed.GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "shipping_update");
        Assert.Equal("APPROVED", template.GetProperty("status").GetString()); // the sandbox's reviewer approves
        Assert.False(string.IsNullOrEmpty(template.GetProperty("meta_template_id").GetString()));
    }

    [Fact]
    public async Task ATemplateCreateWhoseCallerLeavesBeforeMetaRefusesItLeavesNoRow()
    {
        // docs/operations.md: a create whose caller hung up records Meta's answer, "or the row undone when Meta refused";
        // undone under the caller's token, the row written before asking stayed PENDING (its name taken) for good.
        await using var held = new TemplateCreatesHeldAtMeta();
        var businessId = await held.CreateBusinessAsync();
        await held.ConnectWhatsAppAsync(businessId, phoneNumberId: "109999999999999"); // the emulator refuses it: Graph error 100
        using var admin = held.CreateAdminClient();

        await held.CreateWhoseCallerLeavesAtMetaAsync(admin, businessId);

        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "shipping_update");
    }

    /// <summary>A server whose calls to create a template wait at Meta's door until the test lets them through.</summary>
    private sealed class TemplateCreatesHeldAtMeta : TwaBotApiFactory
    {
        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The admin request whose create reached Meta's door.</summary>
        public Microsoft.AspNetCore.Http.HttpContext? AskedBy { get; private set; }

        /// <summary>
        /// Creates shipping_update, its caller leaving while Meta is asked (once the server saw it leave, Meta answers);
        /// returns when the create has ended, as it goes on after its caller.
        /// </summary>
        public async Task CreateWhoseCallerLeavesAtMetaAsync(HttpClient admin, long businessId)
        {
            using var callerLeaves = new CancellationTokenSource();
            var create = admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/templates", ShippingUpdate, callerLeaves.Token);
            await Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await callerLeaves.CancelAsync();
            await Poll.UntilAsync(() => AskedBy!.RequestAborted.IsCancellationRequested, "the server to see its caller leave");
            Release.SetResult();
            await Record.ExceptionAsync(() => create); // the caller is gone: whatever it got does not matter
            var turns = Services.GetRequiredService<Api.Admin.AdminTurns>();
            await Poll.UntilAsync(() => !turns.TemplateWrites.IsInUse(businessId), "the create's end");
        }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
            {
                services.AddHttpContextAccessor();
                services.AddHttpClient<TwaBot.Api.Meta.MetaClient>().AddHttpMessageHandler(() => new Hold(this));
            });
        }

        private sealed class Hold(TemplateCreatesHeldAtMeta server) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/message_templates", StringComparison.Ordinal))
                {
                    server.AskedBy = server.Services.GetRequiredService<Microsoft.AspNetCore.Http.IHttpContextAccessor>().HttpContext;
                    server.Asked.TrySetResult();
                    await server.Release.Task.WaitAsync(cancellationToken);
                }

                return await base.SendAsync(request, cancellationToken);
            }
        }
    }

    [Fact]
    public async Task ATemplateMetaNoLongerListsCanBeCreatedAgain()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate)).EnsureSuccessStatusCode();
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.Name == "shipping_update").ExecuteDeleteAsync());
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var again = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);

        var template = (await again.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal("APPROVED", template.GetProperty("status").GetString());
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "9876543210", template_name = "shipping_update", body_params = new[] { "Rahul", "ORD-1" } });
        await send.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ATemplateSubmittedAgainAfterMetaDeletedItKeepsNoneOfTheOldOnesReason()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        using var admin = factory.CreateAdminClient();
        var first = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        // Meta deleted it, saying why.
        var deleted = Webhooks.MetaPayloads.TemplateStatus("DELETED", "shipping_update", "en",
            long.Parse(first.GetProperty("meta_template_id").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        deleted["value"]!["reason"] = "INCORRECT_CATEGORY";
        await DeliverTemplateEventAsync(factory, wabaId, deleted, factory.Clock.GetUtcNow());
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "shipping_update").ExecuteDeleteAsync());

        var again = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");

        Assert.Equal(first.GetProperty("id").GetInt64(), again.GetProperty("id").GetInt64());
        Assert.Equal(("APPROVED", null), (again.GetProperty("status").GetString(), again.GetProperty("status_reason").GetString()));
    }

    [Fact]
    public async Task AHeaderAndBodyThatNumberAndNamePlaceholdersAreRefused()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "mixed", language = "en", category = "UTILITY", body = "Hi {{first_name}}", header_text = "Order {{1}}" });

        Assert.Equal("header_text", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        await factory.WithDbAsync(async db => Assert.False(await db.SandboxTemplates.AnyAsync(t => t.Name == "mixed")));
    }

    [Fact]
    public async Task TheAdminViewGivesEachButtonsLabelAndLinkBesideItsKind()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "festive_sale", language = "en", category = "MARKETING", body = "Hi {{1}}, the festive sale is on.",
            buttons = new object[]
            {
                new { type = "QUICK_REPLY", text = "Stop promotions" },
                new { type = "URL", text = "Track order", url = "https://shop.example/track/{{1}}" },
                new { type = "URL", text = "Our shop", url = "https://shop.example/" },
                new { type = "COPY_CODE", example = "SAVE10" },
            },
        })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        var id = created.GetProperty("id").GetInt64();
        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template");
        var listed = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);

        foreach (var template in new[] { created, read, listed })
        {
            Assert.Equal(["none", "url_suffix", "none", "coupon_code"], template.GetProperty("buttons").EnumerateArray().Select(b => b.GetString())); // as before
            var details = template.GetProperty("button_details").EnumerateArray().ToList();
            Assert.All(details, button => Assert.Equal(["kind", "text", "url"], button.PropertyNames()));
            Assert.Equal(
                [("none", "Stop promotions", null), ("url_suffix", "Track order", "https://shop.example/track/{{1}}"), ("none", "Our shop", "https://shop.example/"), ("coupon_code", null, null)],
                details.Select(b => (b.GetProperty("kind").GetString(), b.GetProperty("text").GetString(), b.GetProperty("url").GetString())));
        }
    }

    [Fact]
    public async Task ATemplateWithNamedPlaceholdersIsCreatedAndSentByName()
    {
        // The emulator, like Meta, takes {{first_name}} only from a template submitted as NAMED, and each
        // value only with its parameter_name.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var created = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "order_ready", language = "en", category = "UTILITY", body = "Hi {{first_name}}, order {{order_id}} is ready." });
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_ready", body_params = new[] { "Rahul", "ORD-1" } });

        await created.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("order_ready", (await send.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetString());
    }
}
