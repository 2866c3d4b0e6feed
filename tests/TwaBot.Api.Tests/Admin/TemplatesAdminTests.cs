using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>Template submission and sync go to Meta (here the sandbox emulator, over HTTP).</summary>
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
    public async Task TemplateCallsLeaveNothingBehindForTheBusinessIdsTheyName()
    {
        // Each id named once kept a lock object for the life of the process, a mistyped or made-up one too.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        const long Unknown = 987_654_321; // the map is static: ids of other tests' servers may be in it meanwhile

        var synced = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);
        var missing = await admin.PostAsync($"/admin/v1/businesses/{Unknown}/templates/sync", null);

        Assert.Equal(HttpStatusCode.OK, synced.StatusCode);
        await missing.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        Assert.False(TwaBot.Api.Admin.TemplatesAdmin.HoldsTurnOf(Unknown));
    }

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
        await factory.WithDbAsync(async db =>
        {
            var atMeta = await db.SandboxTemplates.SingleAsync(t => t.Name == "shipping_update");
            Assert.Equal(template.GetProperty("meta_template_id").GetString(), atMeta.MetaId);
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
        await factory.WithDbAsync(async db =>
        {
            // What Meta wrote is what we keep: a sync changes nothing.
            var atMeta = await db.SandboxTemplates.SingleAsync(t => t.Name == "login_code");
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
    [InlineData("""{"name":"order_update","language":"en","category":"UTILITY","body":"Hi","footer_text":"0123456789012345678901234567890123456789012345678901234567890"}""", "footer_text")]
    [InlineData("""{"name":"order_update\n","language":"en","category":"UTILITY","body":"Hi"}""", "name")]
    [InlineData("""{"name":"order_update","language":"en\n","category":"UTILITY","body":"Hi"}""", "language")]
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
    public async Task ARejectedAccessTokenSaysReconnect()
    {
        // Meta knows the WABA (the sandbox tenant's) but not this token: Graph error 190.
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "108888888888888", waba_id = wabaId, access_token = "EAAG-revoked" })).EnsureSuccessStatusCode();

        var response = await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        Assert.Contains("access token", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SyncAddsChangesAndRetiresTemplatesToMatchMeta()
    {
        var tenant = await factory.CreateSendingTenantAsync(); // order_confirmation and otp_verification on both sides
        await factory.WithDbAsync(async db =>
        {
            var wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId;
            // At Meta: a new template, order_confirmation paused by Meta, and otp_verification deleted.
            db.SandboxTemplates.Add(new SandboxTemplate
            {
                WabaId = wabaId, MetaId = "771234567890123", Name = "delivery_slot", Language = "hi", Category = "UTILITY",
                Status = "APPROVED", Body = "आपका ऑर्डर {{1}} कल आएगा।", FooterText = "TwaBot",
            });
            await db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
                .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED"));
            await db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "otp_verification").ExecuteDeleteAsync();
            await db.SaveChangesAsync();
        });
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);

        var counts = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((2, 1, 1, 1), (Count(counts, "total"), Count(counts, "created"), Count(counts, "updated"), Count(counts, "removed")));
        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var template = Assert.Single(listed.GetProperty("templates").EnumerateArray());
        Assert.Equal("delivery_slot", template.GetProperty("name").GetString());
        Assert.Equal("आपका ऑर्डर {{1}} कल आएगा।", template.GetProperty("content").GetString());
        Assert.Equal("TwaBot", template.GetProperty("footer_text").GetString());

        var again = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((0, 0, 0), (Count(again, "created"), Count(again, "updated"), Count(again, "removed")));
    }

    [Fact]
    public async Task SyncsAtOnceEachSucceedAndAddATemplateOnce()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await AddAtMetaAsync(tenant.BusinessId, new SandboxTemplate
        {
            WabaId = "", MetaId = "771234567890124", Name = "back_in_stock", Language = "en", Category = "MARKETING",
            Status = "APPROVED", Body = "{{1}} is back in stock.",
        });
        using var admin = factory.CreateAdminClient();

        // Each read the same rows and inserted back_in_stock; the unique index refused all but one (500).
        var syncs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)));

        Assert.All(syncs, sync => Assert.Equal(HttpStatusCode.OK, sync.StatusCode));
        await factory.WithDbAsync(async db =>
            Assert.Equal(1, await db.Templates.CountAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "back_in_stock")));
    }

    private static int Count(JsonElement json, string name) => json.GetProperty(name).GetInt32();

    /// <summary>Puts <paramref name="template"/> at (emulated) Meta, in the business's WhatsApp account.</summary>
    private async Task AddAtMetaAsync(long businessId, SandboxTemplate template)
    {
        var wabaId = await WabaIdAsync(factory, businessId);
        await factory.WithDbAsync(async db =>
        {
            template.WabaId = wabaId;
            db.SandboxTemplates.Add(template);
            await db.SaveChangesAsync();
        });
    }

    private static async Task<string> WabaIdAsync(TwaBotApiFactory server, long businessId)
    {
        var wabaId = "";
        await server.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).WabaId);
        return wabaId;
    }

    [Fact]
    public async Task AStatusEventThatOvertakesMetasAnswerToACreateIsKept()
    {
        await using var held = new TemplateCreatesHeldAtMeta();
        var tenant = await held.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(held, tenant.BusinessId);
        using var admin = held.CreateAdminClient();

        var create = admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", ShippingUpdate);
        await held.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Meta's review (here a rejection) is reported before Meta's answer to the create comes back.
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("REJECTED", "shipping_update", "en", 771234567890199));
        entry["time"] = held.Clock.GetUtcNow().ToUnixTimeSeconds();
        await held.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await held.ApplyWebhooksAsync();
        held.Release.SetResult();

        var template = (await (await create).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal("REJECTED", template.GetProperty("status").GetString());
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

    /// <summary>A server whose calls to create a template wait at Meta's door until the test lets them through.</summary>
    private sealed class TemplateCreatesHeldAtMeta : TwaBotApiFactory
    {
        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
                services.AddHttpClient<TwaBot.Api.Meta.MetaClient>().AddHttpMessageHandler(() => new Hold(this)));
        }

        private sealed class Hold(TemplateCreatesHeldAtMeta server) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/message_templates", StringComparison.Ordinal))
                {
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
    public async Task SyncedTemplatesListTheirPlaceholdersAsVariables()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await AddAtMetaAsync(tenant.BusinessId, new SandboxTemplate
        {
            WabaId = "", MetaId = "771234567890125", Name = "pickup_ready", Language = "en", Category = "UTILITY",
            Status = "APPROVED", Body = "Hi {{1}}, order {{2}} is ready at {{3}}.",
        });
        using var admin = factory.CreateAdminClient();

        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var pickup = listed.GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "pickup_ready");
        Assert.Equal(["1", "2", "3"], pickup.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
        // Names given at creation stay.
        var confirmation = listed.GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "order_confirmation");
        Assert.Equal(["customer_name", "order_id", "amount"], confirmation.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task AStatusEventOlderThanASyncChangesNothing()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Meta paused order_confirmation a minute before the sync read it as APPROVED; the report of that arrives late.
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId));
        entry["time"] = factory.Clock.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
    }

    [Fact]
    public async Task AStatusEventInTheSecondASyncReadTheListIsApplied()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Event times are whole seconds: Meta may have paused it after the list was read, within that second.
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId));
        entry["time"] = factory.Clock.GetUtcNow().ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
    }

    [Fact]
    public async Task ATemplateASyncFoundGoneStaysGoneWhenAnOlderStatusEventArrivesLate()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation").ExecuteDeleteAsync());
        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Meta approved it a minute before the sync found it deleted; the report of that arrives late.
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("APPROVED", "order_confirmation", "en", metaId));
        entry["time"] = factory.Clock.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(1, Count(synced, "removed"));
        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
        await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task ACategoryEventOlderThanASyncChangesNothingAndMarketingOptOutsStillApply()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", "Stop promotions");
        // Meta moved order_confirmation to MARKETING; the sync reads that.
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Category, "MARKETING")));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Meta's notice of the coming change, sent a day before it, still naming UTILITY as the current category, arrives late.
        await DeliverCategoryEventAsync(wabaId, metaId, "UTILITY", factory.Clock.GetUtcNow().AddDays(-1), correctCategory: "MARKETING");

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("MARKETING", listed.GetProperty("templates").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == "order_confirmation").GetProperty("category").GetString());
        var refused = await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task ACategoryEventOlderThanTheLastOneAppliedChangesNothing()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", "Stop promotions");
        await DeliverCategoryEventAsync(wabaId, metaId, "MARKETING", factory.Clock.GetUtcNow().AddSeconds(20));
        await DeliverCategoryEventAsync(wabaId, metaId, "UTILITY", factory.Clock.GetUtcNow().AddSeconds(10)); // redelivered late

        var refused = await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task AStatusEventNamingAnotherTemplateIdLeavesTheStoredOneAsItIs()
    {
        // Meta's id names one template; the same name and language may be a successor Meta made outside this server.
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId + 1));
        entry["time"] = factory.Clock.GetUtcNow().AddSeconds(10).ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task ASendOfATemplateMetaPausedOrRejectedSaysSoAndTheAdminSeesWhy()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        var at = factory.Clock.GetUtcNow();

        async Task<JsonElement> AfterAsync(string templateEvent, int seconds, Action<System.Text.Json.Nodes.JsonObject>? fill = null)
        {
            var change = Webhooks.MetaPayloads.TemplateStatus(templateEvent, "order_confirmation", "en", metaId);
            fill?.Invoke((System.Text.Json.Nodes.JsonObject)change["value"]!);
            var entry = Webhooks.MetaPayloads.Entry(wabaId, change);
            entry["time"] = at.AddSeconds(seconds).ToUnixTimeSeconds();
            await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
            await factory.ApplyWebhooksAsync();
            var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);
            return read.GetProperty("template");
        }

        var paused = await AfterAsync("PAUSED", 10, value => value["other_info"] = new System.Text.Json.Nodes.JsonObject
        {
            ["title"] = "FIRST_PAUSE", ["description"] = "Paused for 3 hours because of low quality.",
        });
        var pausedSend = await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        var rejected = await AfterAsync("REJECTED", 20, value => value["reason"] = "INVALID_FORMAT");
        var rejectedSend = await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        var approved = await AfterAsync("APPROVED", 30);

        Assert.Equal(("PAUSED", "Paused for 3 hours because of low quality."),
            (paused.GetProperty("status").GetString(), paused.GetProperty("status_reason").GetString()));
        Assert.Equal("Template 'order_confirmation' not found or not approved.", pausedSend.GetProperty("error").GetString());
        Assert.Equal("'order_confirmation' in 'en' is PAUSED at Meta (Paused for 3 hours because of low quality.), not APPROVED: only approved templates can be sent.",
            pausedSend.GetProperty("hint").GetString());
        Assert.Equal(("REJECTED", "INVALID_FORMAT"), (rejected.GetProperty("status").GetString(), rejected.GetProperty("status_reason").GetString()));
        Assert.Contains("is REJECTED at Meta (INVALID_FORMAT)", rejectedSend.GetProperty("hint").GetString(), StringComparison.Ordinal);
        Assert.Equal(("APPROVED", JsonValueKind.Null), (approved.GetProperty("status").GetString(), approved.GetProperty("status_reason").ValueKind));
        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task ASendInAnotherLanguageIsNotToldTheStatusOfThisOne()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId));
        entry["time"] = factory.Clock.GetUtcNow().AddSeconds(10).ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();

        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "919876543210", template_name = "order_confirmation", language = "hi", body_params = new[] { "Rahul", "ORD-1", "₹1,499" },
        });

        var json = await send.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Null(json.TryGetProperty("hint", out var hint) ? hint.GetString() : null); // 'hi' was never submitted
    }

    [Fact]
    public async Task TheAdminListShowsTemplatesOfEveryStatusWithMetasReason()
    {
        // /templates lists only approved ones, and a synced template's id is known nowhere else.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        var change = Webhooks.MetaPayloads.TemplateStatus("REJECTED", "order_confirmation", "en", metaId);
        change["value"]!["reason"] = "INCORRECT_CATEGORY";
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry(wabaId, change)));
        await factory.ApplyWebhooksAsync();

        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var missing = await admin.GetAsync("/admin/v1/businesses/987654321/templates");

        Assert.Equal(
            [("order_confirmation", "REJECTED", "INCORRECT_CATEGORY"), ("otp_verification", "APPROVED", null)],
            listed.GetProperty("templates").EnumerateArray().Select(t => (
                t.GetProperty("name").GetString(), t.GetProperty("status").GetString(), t.GetProperty("status_reason").GetString())));
        await missing.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    /// <summary>Meta's components event for order_confirmation after an edit at Meta, triggered at <paramref name="at"/>.</summary>
    private async Task PostEditAsync(string wabaId, long metaId, string body, DateTimeOffset at, string? footer = null, string? header = null,
        string name = "order_confirmation", System.Text.Json.Nodes.JsonArray? buttons = null)
    {
        var value = new System.Text.Json.Nodes.JsonObject
        {
            ["message_template_id"] = metaId, ["message_template_name"] = name, ["message_template_language"] = "en",
            ["message_template_element"] = body,
        };
        if (buttons is not null)
        {
            value["message_template_buttons"] = buttons;
        }

        if (header is not null)
        {
            value["message_template_title"] = header;
        }

        if (footer is not null)
        {
            value["message_template_footer"] = footer;
        }

        var entry = Webhooks.MetaPayloads.Entry(wabaId, new System.Text.Json.Nodes.JsonObject { ["field"] = "message_template_components_update", ["value"] = value });
        entry["time"] = at.ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();
    }

    [Fact]
    public async Task AnEditAtMetaIsWhatSendsCheckFromItsEventOnAndALateOlderEditChangesNothing()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode); // the send path now holds the old text
        const string Edited = "Hi {{1}}, order {{2}} is confirmed.";
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Body, Edited).SetProperty(t => t.FooterText, (string?)null)));
        var at = factory.Clock.GetUtcNow();

        await PostEditAsync(wabaId, metaId, Edited, at, header: "Order update");
        var oldCount = await SendOrderConfirmationAsync(tenant);
        var newCount = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1" }, header_params = Array.Empty<string>() });
        // An earlier edit, with the old placeholder count, reported late.
        await PostEditAsync(wabaId, metaId, "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!", at.AddMinutes(-1), footer: "Old footer");
        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        await oldCount.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal(HttpStatusCode.OK, newCount.StatusCode);
        var template = read.GetProperty("template");
        Assert.Equal((Edited, "Order update", JsonValueKind.Null), (template.GetProperty("body").GetString(),
            template.GetProperty("header_text").GetString(), template.GetProperty("footer_text").ValueKind));
        Assert.Equal(["1", "2"], template.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task AnEditThatNamesNoHeaderDropsTheTextHeader()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        const string Body = "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!";
        var at = factory.Clock.GetUtcNow();

        await PostEditAsync(wabaId, metaId, Body, at.AddSeconds(10), header: "Order {{1}}");
        await PostEditAsync(wabaId, metaId, Body, at.AddSeconds(20));

        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("template").GetProperty("header_text").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode); // no header value asked for
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task AnEditEventWithABlankBodyChangesNothing(string body)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        async Task<string?> BodyAsync() => (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}"))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetProperty("body").GetString();
        var before = await BodyAsync();

        await PostEditAsync(wabaId, metaId, body, factory.Clock.GetUtcNow().AddSeconds(10));

        Assert.Equal(before, await BodyAsync());
        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task AnEditMetaReportedAfterASyncAskedItsListKeepsItsText()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        const string Edited = "Hi {{1}}, order {{2}} is confirmed.";

        // Meta's list still has the old text; the edit's event is later than the list was asked for.
        await PostEditAsync(wabaId, metaId, Edited, factory.Clock.GetUtcNow().AddSeconds(30));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(Edited, read.GetProperty("template").GetProperty("body").GetString());
    }

    [Fact]
    public async Task AnEditsLinkButtonsReplaceTheStoredOnesOnlyWhenMetaNamesThemAll()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        async Task<(long Id, long MetaId)> CreateAsync(string name, object[] buttons)
        {
            var created = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
                new { name, language = "en", category = "UTILITY", body = "Parcel {{1}} is on its way.", buttons })).ReadJsonAsync(HttpStatusCode.Created);
            var template = created.GetProperty("template");
            return (template.GetProperty("id").GetInt64(), long.Parse(template.GetProperty("meta_template_id").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        }

        static System.Text.Json.Nodes.JsonArray FixedLink() =>
        [
            new System.Text.Json.Nodes.JsonObject
            {
                ["message_template_button_type"] = "URL", ["message_template_button_text"] = "Track",
                ["message_template_button_url"] = "https://shop.example/track",
            },
        ];

        var linkOnly = await CreateAsync("track_parcel", [new { type = "URL", text = "Track", url = "https://shop.example/track/{{1}}" }]);
        var withReply = await CreateAsync("track_or_reply", [
            new { type = "QUICK_REPLY", text = "Thanks" }, new { type = "URL", text = "Track", url = "https://shop.example/track/{{1}}" }]);
        var at = factory.Clock.GetUtcNow().AddSeconds(10);

        // The link no longer ends in a variable. Meta names link and phone buttons only: the quick reply is not in its event.
        await PostEditAsync(wabaId, linkOnly.MetaId, "Parcel {{1}} is on its way.", at, name: "track_parcel", buttons: FixedLink());
        await PostEditAsync(wabaId, withReply.MetaId, "Parcel {{1}} is on its way.", at, name: "track_or_reply", buttons: FixedLink());

        async Task<string> ButtonsAsync(long id) => string.Join(",", (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK))
                .GetProperty("template").GetProperty("buttons").EnumerateArray().Select(b => b.GetString()));
        Assert.Equal("none", await ButtonsAsync(linkOnly.Id));
        Assert.Equal("none,url_suffix", await ButtonsAsync(withReply.Id));
        Assert.Contains(factory.Logs.Events, e => e.MessageTemplate.Text.Contains("its buttons kept", StringComparison.Ordinal)
            && e.Properties["Name"].ToString() == "\"track_or_reply\"");
    }

    [Fact]
    public async Task ASyncKeepsTheReasonMetaRejectedATemplateFor()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        // Meta rejected it: its status webhook said why, and Meta's list says so too.
        var change = Webhooks.MetaPayloads.TemplateStatus("REJECTED", "order_confirmation", "en", metaId);
        change["value"]!["reason"] = "INCORRECT_CATEGORY";
        var entry = Webhooks.MetaPayloads.Entry(wabaId, change);
        entry["time"] = factory.Clock.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();
        // A template rejected at Meta with no webhook heard of it.
        await AddAtMetaAsync(tenant.BusinessId, new SandboxTemplate
        {
            WabaId = "", MetaId = "771234567890125", Name = "flash_sale", Language = "en", Category = "MARKETING",
            Status = "REJECTED", RejectedReason = "INVALID_FORMAT", Body = "{{1}} off today only.",
        });
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "REJECTED").SetProperty(t => t.RejectedReason, "INCORRECT_CATEGORY")));

        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(
            [("flash_sale", "REJECTED", "INVALID_FORMAT"), ("order_confirmation", "REJECTED", "INCORRECT_CATEGORY"), ("otp_verification", "APPROVED", null)],
            listed.GetProperty("templates").EnumerateArray().Select(t => (
                t.GetProperty("name").GetString(), t.GetProperty("status").GetString(), t.GetProperty("status_reason").GetString())));
        Assert.Equal(id, listed.GetProperty("templates")[1].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task ASyncTellsTheReasonMetaNowGivesAndDropsOneItsStatusNoLongerHas()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (_, orderId) = await OrderConfirmationAsync(tenant.BusinessId);
        var otpId = 0L;
        await factory.WithDbAsync(async db => otpId = long.Parse(
            (await db.Templates.SingleAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "otp_verification")).MetaTemplateId!,
            System.Globalization.CultureInfo.InvariantCulture));
        async Task StatusAsync(string templateEvent, string name, long metaId, string field, System.Text.Json.Nodes.JsonNode reason)
        {
            var change = Webhooks.MetaPayloads.TemplateStatus(templateEvent, name, "en", metaId);
            change["value"]![field] = reason;
            var entry = Webhooks.MetaPayloads.Entry(wabaId, change);
            entry["time"] = factory.Clock.GetUtcNow().AddMinutes(-1).ToUnixTimeSeconds();
            await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
            await factory.ApplyWebhooksAsync();
        }

        // A minute before the sync: order_confirmation rejected for one reason, which Meta's list now gives as another;
        // otp_verification paused, which Meta's list shows approved again.
        await StatusAsync("REJECTED", "order_confirmation", orderId, "reason", "INCORRECT_CATEGORY");
        await StatusAsync("PAUSED", "otp_verification", otpId, "other_info", new System.Text.Json.Nodes.JsonObject { ["description"] = "Paused for 3 hours." });
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "REJECTED").SetProperty(t => t.RejectedReason, "INVALID_FORMAT")));

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, Count(synced, "updated")); // a new reason alone is a change too
        Assert.Equal([("order_confirmation", "REJECTED", "INVALID_FORMAT"), ("otp_verification", "APPROVED", null)],
            listed.GetProperty("templates").EnumerateArray().Select(t => (
                t.GetProperty("name").GetString(), t.GetProperty("status").GetString(), t.GetProperty("status_reason").GetString())));
    }

    [Fact]
    public async Task TheAdminSeesMetasQualityScoreFromASyncAndThenItsQualityEvents()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var (id, metaId) = await OrderConfirmationAsync(tenant.BusinessId);
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.QualityScore, "GREEN")));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        var synced = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);

        async Task QualityAsync(string previous, string score, int seconds)
        {
            var entry = Webhooks.MetaPayloads.Entry(wabaId, new System.Text.Json.Nodes.JsonObject
            {
                ["field"] = "message_template_quality_update",
                ["value"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["previous_quality_score"] = previous, ["new_quality_score"] = score,
                    ["message_template_id"] = metaId, ["message_template_name"] = "order_confirmation", ["message_template_language"] = "en",
                },
            });
            entry["time"] = factory.Clock.GetUtcNow().AddSeconds(seconds).ToUnixTimeSeconds();
            await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
            await factory.ApplyWebhooksAsync();
        }

        await QualityAsync("GREEN", "YELLOW", 10);
        await QualityAsync("UNKNOWN", "GREEN", -60); // older than the sync and the event before it: stale
        await QualityAsync("GREEN", "RED", 5); // newer than the sync, older than the YELLOW event: stale
        await QualityAsync("YELLOW", "PURPLE", 20); // none of Meta's four scores: kept out of the documented field
        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal([("order_confirmation", "GREEN"), ("otp_verification", "UNKNOWN")],
            synced.GetProperty("templates").EnumerateArray().Select(t => (t.GetProperty("name").GetString(), t.GetProperty("quality_score").GetString())));
        Assert.Equal("YELLOW", read.GetProperty("template").GetProperty("quality_score").GetString());
    }

    private async Task<(long Id, long MetaId)> OrderConfirmationAsync(long businessId)
    {
        (long, long) ids = default;
        await factory.WithDbAsync(async db =>
        {
            var template = await db.Templates.SingleAsync(t => t.BusinessId == businessId && t.Name == "order_confirmation");
            ids = (template.Id, long.Parse(template.MetaTemplateId!, System.Globalization.CultureInfo.InvariantCulture));
        });
        return ids;
    }

    private static Task<HttpResponseMessage> SendOrderConfirmationAsync(SendingTenant tenant) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });

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

    /// <summary>Meta's <c>template_category_update</c> for order_confirmation, with the entry's time <paramref name="at"/>.</summary>
    private async Task DeliverCategoryEventAsync(string wabaId, long metaId, string newCategory, DateTimeOffset at, string? correctCategory = null)
    {
        var value = new System.Text.Json.Nodes.JsonObject
        {
            ["message_template_id"] = metaId, ["message_template_name"] = "order_confirmation", ["message_template_language"] = "en",
            ["new_category"] = newCategory,
        };
        if (correctCategory is not null)
        {
            value["correct_category"] = correctCategory;
        }

        var entry = Webhooks.MetaPayloads.Entry(wabaId, new System.Text.Json.Nodes.JsonObject { ["field"] = "template_category_update", ["value"] = value });
        entry["time"] = at.ToUnixTimeSeconds();
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        await factory.ApplyWebhooksAsync();
    }
}
