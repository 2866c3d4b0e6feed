using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Admin.TenantTemplates;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// Meta's template events (status, category, edits) as sends and the admin API see them, and which of them a sync or a
/// later event makes stale.
/// </summary>
public class TemplateEventsAdminTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    // Meta's rejection_info for an INVALID_FORMAT rejection, and the status reason it makes.
    private const string Wrong = "Two parameters ({{1}}{{2}}) sit side by side with nothing between them.";
    private const string Recommended = "Put words between the parameters so each one reads clearly.";
    private const string WhyWrong = "INVALID_FORMAT: " + Wrong + " Meta recommends: " + Recommended;

    [Fact]
    public async Task AStatusEventOlderThanASyncChangesNothing()
    {
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Meta paused order_confirmation a minute before the sync read it as APPROVED; the report of that arrives late.
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId),
            factory.Clock.GetUtcNow().AddMinutes(-1));

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
    }

    [Fact]
    public async Task AStatusEventInTheSecondASyncReadTheListIsApplied()
    {
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Event times are whole seconds: Meta may have paused it after the list was read, within that second.
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId),
            factory.Clock.GetUtcNow());

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
    }

    [Fact]
    public async Task AStatusEventInTheSecondASyncReadTheListIsAppliedWhenTheListWasReadMidSecond()
    {
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        var now = factory.Clock.GetUtcNow();
        factory.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond - (now.Ticks % TimeSpan.TicksPerSecond)) + TimeSpan.FromMilliseconds(500));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Meta dates its event to the second: one in the second the list was read may be later than the list.
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId),
            factory.Clock.GetUtcNow());

        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
    }

    [Fact]
    public async Task ATemplateASyncFoundGoneStaysGoneWhenAnOlderStatusEventArrivesLate()
    {
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation").ExecuteDeleteAsync());
        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        // Meta approved it a minute before the sync found it deleted; the report of that arrives late.
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("APPROVED", "order_confirmation", "en", metaId),
            factory.Clock.GetUtcNow().AddMinutes(-1));

        Assert.Equal(1, Count(synced, "removed"));
        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "order_confirmation");
        await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task ACategoryEventOlderThanASyncChangesNothingAndMarketingOptOutsStillApply()
    {
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
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
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
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
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId + 1),
            factory.Clock.GetUtcNow().AddSeconds(10));

        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task ASendOfATemplateMetaPausedOrRejectedSaysSoAndTheAdminSeesWhy()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        var at = factory.Clock.GetUtcNow();

        async Task<JsonElement> AfterAsync(string templateEvent, int seconds, Action<System.Text.Json.Nodes.JsonObject>? fill = null)
        {
            var change = Webhooks.MetaPayloads.TemplateStatus(templateEvent, "order_confirmation", "en", metaId);
            fill?.Invoke((System.Text.Json.Nodes.JsonObject)change["value"]!);
            await DeliverTemplateEventAsync(factory, wabaId, change, at.AddSeconds(seconds));
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

    [Theory]
    [InlineData(Wrong, Recommended, WhyWrong, "REJECTED", "INVALID_FORMAT", WhyWrong)]
    [InlineData(null, Recommended, "INVALID_FORMAT. Meta recommends: " + Recommended, "REJECTED", "INVALID_FORMAT", // a recommendation alone
        "INVALID_FORMAT. Meta recommends: " + Recommended)]
    [InlineData(null, null, "INVALID_FORMAT", "REJECTED", "INVALID_FORMAT", "INVALID_FORMAT")] // the code alone, as the list says it
    [InlineData(Wrong, Recommended, WhyWrong, "REJECTED", "INCORRECT_CATEGORY", "INCORRECT_CATEGORY")] // another code: what was said of the old one goes
    [InlineData(Wrong, Recommended, WhyWrong, "APPROVED", null, null)] // another status, as after an appeal
    public async Task ARejectionForItsFormatTellsTheAdminWhatMetaRecommendsWhichASyncKeepsWhileMetaListsTheSameRejection(
        string? wrong, string? recommended, string why, string listedStatus, string? listedReason, string? afterSync)
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateRejectedForFormat("order_confirmation", "en", metaId,
            new System.Text.Json.Nodes.JsonObject
            {
                ["reason"] = wrong, ["recommendation"] = recommended,
            }), factory.Clock.GetUtcNow().AddMinutes(-1));
        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        var send = await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        // Meta's list gives the rejection's code alone: the sync leaves what the webhook said of that code, and counts no change.
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, listedStatus).SetProperty(t => t.RejectedReason, listedReason)));
        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        var resynced = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("template");

        Assert.Equal(("REJECTED", why), (read.GetProperty("template").GetProperty("status").GetString(),
            read.GetProperty("template").GetProperty("status_reason").GetString()));
        Assert.Contains($"is REJECTED at Meta ({why})", send.GetProperty("hint").GetString(), StringComparison.Ordinal);
        Assert.Equal((afterSync == why ? 0 : 1, listedStatus, afterSync), (Count(synced, "updated"),
            resynced.GetProperty("status").GetString(), resynced.GetProperty("status_reason").GetString()));
    }

    [Theory]
    [InlineData("REJECTED", "\"fix it\"", "INVALID_FORMAT")] // not an object
    [InlineData("REJECTED", "{\"reason\":42,\"recommendation\":[\"Fix it\"]}", "INVALID_FORMAT")]
    [InlineData("REJECTED", "{\"reason\":{\"text\":\"Bad format\"},\"recommendation\":true}", "INVALID_FORMAT")]
    [InlineData("REJECTED", "{\"reason\":null,\"recommendation\":\"Fix it.\"}", "INVALID_FORMAT. Meta recommends: Fix it.")]
    [InlineData("REJECTED", "{\"reason\":\"INVALID_FORMAT\",\"recommendation\":\" \\n \"}", "INVALID_FORMAT")] // said once; blank is none
    [InlineData("REJECTED", "{\"reason\":\"Bad\\u0000\\u001b[2Jformat\\r\\nhere\\u2028now\",\"recommendation\":\"Fix\\tit\"}",
        "INVALID_FORMAT: Bad  [2Jformat  here now. Meta recommends: Fix it")]
    [InlineData("APPROVED", "{\"reason\":\"Bad format\",\"recommendation\":\"Fix it\"}", null)] // an approval has nothing to fix
    [InlineData("REJECTED", "{\"reason\":\"Is {{1}}{{2}} one parameter?\",\"recommendation\":\"Fix it\"}",
        "INVALID_FORMAT: Is {{1}}{{2}} one parameter? Meta recommends: Fix it")] // a question closes its sentence too
    [InlineData("REJECTED", "{\"reason\":\"invalid_format\"}", "INVALID_FORMAT: invalid_format")] // only the same text is said once
    [InlineData("REJECTED", "{\"recommendation\":\"Fix it.\"}", "Meta recommends: Fix it.", "NONE")] // nothing before it to close
    [InlineData("REJECTED", "null", "INVALID FORMAT", "INVALID\nFORMAT")] // Meta's code is one of its texts, on one line too
    [InlineData("PAUSED", "null", "Paused for 3 hours  because of low quality.", "NONE", "Paused for 3 hours\r\nbecause of low quality.")]
    [InlineData("rejected", "{\"reason\":\"Bad format\"}", "INVALID_FORMAT: Bad format")] // the event in any case, as its status is read
    [InlineData(" REJECTED ", "{\"reason\":\"Bad format\"}", "INVALID_FORMAT: Bad format")] // and padded
    [InlineData("REJECTED", "{\"reason\":\"Bad format\"}", "INVALID_FORMAT: Appeal by May 1: Bad format", null, "Appeal by May 1")] // code, notice, what is wrong
    public async Task ARejectionInfoOfAnyShapeIsStoredAsOneLineOfTextOrLeftOut(
        string templateEvent, string rejectionInfo, string? expected, string? templateReason = null, string? notice = null)
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        var change = Webhooks.MetaPayloads.TemplateRejectedForFormat("order_confirmation", "en", metaId,
            System.Text.Json.Nodes.JsonNode.Parse(rejectionInfo));
        change["value"]!["event"] = templateEvent;
        change["value"]!["reason"] = templateReason ?? (templateEvent == "APPROVED" ? "NONE" : "INVALID_FORMAT");
        if (notice is not null)
        {
            change["value"]!["other_info"] = new System.Text.Json.Nodes.JsonObject { ["title"] = "FIRST_PAUSE", ["description"] = notice };
        }

        await DeliverTemplateEventAsync(factory, wabaId, change, factory.Clock.GetUtcNow().AddSeconds(10));

        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((templateEvent.Trim().ToUpperInvariant(), expected), (read.GetProperty("template").GetProperty("status").GetString(),
            read.GetProperty("template").GetProperty("status_reason").GetString()));
    }

    [Fact]
    public async Task AnOutsizedRejectionInfoIsCutToTheReasonsBound()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateRejectedForFormat("order_confirmation", "en", metaId,
            new System.Text.Json.Nodes.JsonObject { ["reason"] = new string('x', 200_000), ["recommendation"] = new string('y', 200_000) }),
            factory.Clock.GetUtcNow().AddSeconds(10));

        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        var reason = read.GetProperty("template").GetProperty("status_reason").GetString()!;
        Assert.Equal(("REJECTED", 1000), (read.GetProperty("template").GetProperty("status").GetString(), reason.Length));
        Assert.StartsWith("INVALID_FORMAT: xxx", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASendInAnotherLanguageIsToldTheStatusOfThisOneAsThisLanguages()
    {
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId),
            factory.Clock.GetUtcNow().AddSeconds(10));

        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "919876543210", template_name = "order_confirmation", language = "hi", body_params = new[] { "Rahul", "ORD-1", "₹1,499" },
        });

        var json = await send.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal("'order_confirmation' is approved in no language, and Meta has it only as PAUSED in 'en', not in 'hi'.", // 'hi' was never submitted
            json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task TheAdminListShowsTemplatesOfEveryStatusWithMetasReason()
    {
        // /templates lists only approved ones, and a synced template's id is known nowhere else.
        var (tenant, wabaId, _, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
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

        await DeliverTemplateEventAsync(factory, wabaId, new System.Text.Json.Nodes.JsonObject { ["field"] = "message_template_components_update", ["value"] = value },
            at);
    }

    [Fact]
    public async Task AnEditAtMetaIsWhatSendsCheckFromItsEventOnAndALateOlderEditChangesNothing()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
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
    public async Task AnEditKeepingThePlaceholderCountKeepsTheVariablesNamedAtCreation()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        List<string> named = ["Rahul", "ORD-1", "Rs 499"]; // the examples an admin gave at creation
        await factory.WithDbAsync(db => db.Templates.Where(t => t.Id == id).ExecuteUpdateAsync(set => set.SetProperty(t => t.Variables, named)));

        await PostEditAsync(wabaId, metaId, "Hello {{1}}, order {{2}} ({{3}}) is confirmed.", factory.Clock.GetUtcNow());

        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(named, read.GetProperty("template").GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task AnEditThatNamesNoHeaderDropsTheTextHeader()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        const string Body = "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!";
        var at = factory.Clock.GetUtcNow();

        await PostEditAsync(wabaId, metaId, Body, at.AddSeconds(10), header: "Order {{1}}");
        await PostEditAsync(wabaId, metaId, Body, at.AddSeconds(20));

        var read = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("template").GetProperty("header_text").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode); // no header value asked for
    }

    [Fact]
    public async Task AnEditThatNamesNoHeaderKeepsAMediaHeader()
    {
        // Meta's edit event names text headers only: an image header it leaves unnamed is still there (a sync tells otherwise).
        var (_, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        await factory.WithDbAsync(db => db.Templates.Where(t => t.Id == id).ExecuteUpdateAsync(set => set.SetProperty(t => t.HeaderType, "image")));

        await PostEditAsync(wabaId, metaId, "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!", factory.Clock.GetUtcNow().AddSeconds(10));

        string? headerType = null;
        await factory.WithDbAsync(async db => headerType = await db.Templates.Where(t => t.Id == id).Select(t => t.HeaderType).SingleAsync());
        Assert.Equal("image", headerType);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public async Task AnEditEventWithABlankBodyChangesNothing(string body)
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        async Task<string?> BodyAsync() => (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}"))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetProperty("body").GetString();
        var before = await BodyAsync();

        await PostEditAsync(wabaId, metaId, body, factory.Clock.GetUtcNow().AddSeconds(10));

        Assert.Equal(before, await BodyAsync());
        Assert.Equal(HttpStatusCode.OK, (await SendOrderConfirmationAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task ACategoryAndQualityMetaReportedAfterASyncAskedItsListAreKept()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.QualityScore, "GREEN")));

        // Meta's list still says UTILITY and GREEN; the events are later than the list was asked for.
        await DeliverCategoryEventAsync(wabaId, metaId, "MARKETING", factory.Clock.GetUtcNow().AddSeconds(30));
        await DeliverTemplateEventAsync(factory, wabaId, new System.Text.Json.Nodes.JsonObject
        {
            ["field"] = "message_template_quality_update",
            ["value"] = new System.Text.Json.Nodes.JsonObject
            {
                ["previous_quality_score"] = "GREEN", ["new_quality_score"] = "RED",
                ["message_template_id"] = metaId, ["message_template_name"] = "order_confirmation", ["message_template_language"] = "en",
            },
        }, factory.Clock.GetUtcNow().AddSeconds(30));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template");
        Assert.Equal(("MARKETING", "RED"), (read.GetProperty("category").GetString(), read.GetProperty("quality_score").GetString()));
    }

    [Fact]
    public async Task AnOlderQualityEventArrivingLaterChangesNothing()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        var at = factory.Clock.GetUtcNow();

        await DeliverQualityEventAsync(wabaId, metaId, "RED", at.AddSeconds(30));
        await DeliverQualityEventAsync(wabaId, metaId, "YELLOW", at.AddSeconds(20)); // Meta keeps no order

        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template");
        Assert.Equal("RED", read.GetProperty("quality_score").GetString());
    }

    private Task DeliverQualityEventAsync(string wabaId, long metaId, string score, DateTimeOffset at) =>
        DeliverTemplateEventAsync(factory, wabaId, new System.Text.Json.Nodes.JsonObject
        {
            ["field"] = "message_template_quality_update",
            ["value"] = new System.Text.Json.Nodes.JsonObject
            {
                ["previous_quality_score"] = "GREEN", ["new_quality_score"] = score,
                ["message_template_id"] = metaId, ["message_template_name"] = "order_confirmation", ["message_template_language"] = "en",
            },
        }, at);

    [Fact]
    public async Task APauseNoticeStaysWithItsStatusWhenASyncListsThatStatus()
    {
        // Meta's list tells a rejection's reason, not a pause's notice: the notice the webhook gave stays.
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        var change = Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId);
        change["value"]!["other_info"] = new System.Text.Json.Nodes.JsonObject { ["title"] = "FIRST_PAUSE", ["description"] = "Paused for 3 hours." };
        await DeliverTemplateEventAsync(factory, wabaId, change, factory.Clock.GetUtcNow().AddMinutes(-1));
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED")));
        var before = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("template").GetProperty("status_reason").GetString();

        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template");
        Assert.Contains("Paused for 3 hours.", before, StringComparison.Ordinal);
        Assert.Equal(("PAUSED", before), (read.GetProperty("status").GetString(), read.GetProperty("status_reason").GetString()));
    }

    [Fact]
    public async Task AnEditMetaReportedAfterASyncAskedItsListKeepsItsText()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
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
    public async Task AnEditsButtonLabelsAndLinksAreWhatTemplatesListsThen()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "track_parcel", language = "en", category = "UTILITY", body = "Parcel {{1}} is on its way.",
            buttons = new[] { new { type = "URL", text = "Track", url = "https://shop.example/track/{{1}}" } },
        })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        var metaId = long.Parse(created.GetProperty("meta_template_id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

        await PostEditAsync(wabaId, metaId, "Parcel {{1}} is on its way.", factory.Clock.GetUtcNow().AddSeconds(10), name: "track_parcel", buttons:
        [
            new System.Text.Json.Nodes.JsonObject
            {
                ["message_template_button_type"] = "URL", ["message_template_button_text"] = "Where is my parcel?",
                ["message_template_button_url"] = "https://shop.example/where/{{1}}",
            },
        ]);

        var listed = (await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "track_parcel");
        var button = Assert.Single(listed.GetProperty("button_params").EnumerateArray());
        Assert.Equal("Where is my parcel?", button.GetProperty("text").GetString());
        Assert.Equal("https://shop.example/where/{{1}}", button.GetProperty("url").GetString()); // the create's /track/ link was edited
    }

    [Fact]
    public async Task AnEditNamingOnlySomeButtonsLeavesEachLabelWithItsButton()
    {
        // Meta's event names the link button only, not the quick reply before it: the buttons are kept, and so are their labels.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "track_or_reply", language = "en", category = "UTILITY", body = "Parcel {{1}} is on its way.",
            buttons = new object[] { new { type = "QUICK_REPLY", text = "Thanks" }, new { type = "URL", text = "Track", url = "https://shop.example/track/{{1}}" } },
        })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        var metaId = long.Parse(created.GetProperty("meta_template_id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

        await PostEditAsync(wabaId, metaId, "Parcel {{1}} is on its way.", factory.Clock.GetUtcNow().AddSeconds(10), name: "track_or_reply", buttons:
        [
            new System.Text.Json.Nodes.JsonObject
            {
                ["message_template_button_type"] = "URL", ["message_template_button_text"] = "Where is my parcel?",
                ["message_template_button_url"] = "https://shop.example/where/{{1}}",
            },
        ]);

        var listed = (await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "track_or_reply");
        var link = Assert.Single(listed.GetProperty("button_params").EnumerateArray());
        Assert.Equal((1, "Track"), (link.GetProperty("button_index").GetInt32(), link.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task AStatusEventAppliedWhileASyncWritesMetasListIsNotUndoneByThatOlderList()
    {
        // Meta lists order_confirmation APPROVED (ours says PENDING), then pauses it a minute later; the pause is applied
        // after the sync read our rows and before it wrote Meta's list. The sync wrote APPROVED over the newer pause.
        await using var server = new SyncReadPausingServer();
        var (tenant, wabaId, templateId, metaId) = await TenantWithOrderConfirmationAsync(server);
        await DeliverTemplateEventAsync(server, wabaId, Webhooks.MetaPayloads.TemplateStatus("PENDING", "order_confirmation", "en", metaId),
            server.Clock.GetUtcNow());
        using var admin = server.CreateAdminClient();

        server.PauseNextTemplatesRead();
        var sync = admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);
        await server.Paused.WaitAsync(Poll.Limit);
        var entry = Webhooks.MetaPayloads.Entry(wabaId, Webhooks.MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", metaId));
        entry["time"] = server.Clock.GetUtcNow().AddMinutes(1).ToUnixTimeSeconds();
        await server.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(entry));
        var applying = server.ApplyWebhooksAsync();
        if (!server.GateHeldWhenPaused)
        {
            await applying; // nothing holds the event back: it lands between the sync's read and its write
        }

        server.Resume();
        await (await sync).ReadJsonAsync(HttpStatusCode.OK);
        await applying;

        var stored = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/{templateId}")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("template");
        Assert.Equal("PAUSED", stored.GetProperty("status").GetString());
        await (await SendOrderConfirmationAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    private static Task<HttpResponseMessage> SendOrderConfirmationAsync(SendingTenant tenant) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });

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

        await DeliverTemplateEventAsync(factory, wabaId, new System.Text.Json.Nodes.JsonObject { ["field"] = "template_category_update", ["value"] = value },
            at);
    }

    /// <summary>
    /// A server whose next read of stored templates, once armed, pauses until the test resumes it, noting whether the
    /// reader held the write gate then (the webhook processor then waits for the reader's write).
    /// </summary>
    private sealed class SyncReadPausingServer : TwaBotApiFactory
    {
        private readonly TaskCompletionSource _read = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;

        public Task Paused => _read.Task;

        public bool GateHeldWhenPaused { get; private set; }

        /// <summary>Pauses the next read of templates (a sync's of the business's rows, when nothing else runs).</summary>
        public void PauseNextTemplatesRead() => Volatile.Write(ref _armed, 1);

        public void Resume() => _resume.TrySetResult();

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<Api.Data.TwaBotDbContext>((provider, options) =>
                options.AddInterceptors(new TemplatesRead(this, provider.GetRequiredService<Api.Data.SqliteWriteGate>()))));
        }

        private sealed class TemplatesRead(SyncReadPausingServer server, Api.Data.SqliteWriteGate gate)
            : DbCommandInterceptor
        {
            // At the reader's close: its rows are read, and nothing of it holds SQLite's lock.
            public override async ValueTask<InterceptionResult> DataReaderClosingAsync(
                System.Data.Common.DbCommand command, DataReaderClosingEventData eventData,
                InterceptionResult result)
            {
                if (command.CommandText.Contains("FROM \"templates\"", StringComparison.Ordinal) && Interlocked.Exchange(ref server._armed, 0) == 1)
                {
                    var entering = gate.EnterAsync(CancellationToken.None); // a free gate is entered and left at once
                    server.GateHeldWhenPaused = !entering.IsCompleted;
                    _ = entering.ContinueWith(turn => turn.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
                    server._read.TrySetResult();
                    await server._resume.Task;
                }

                return result;
            }
        }
    }
}
