using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Admin.TenantTemplates;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// A sync reads the templates Meta lists (here the sandbox emulator, over HTTP) and adds, changes and retires its own to
/// match, with Meta's reasons and quality scores.
/// </summary>
public class TemplateSyncTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task TemplateCallsLeaveNothingBehindForTheBusinessIdsTheyName()
    {
        // Each id named once kept a lock object for the life of the process, a mistyped or made-up one too.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        const long Unknown = 987_654_321;

        var synced = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);
        var missing = await admin.PostAsync($"/admin/v1/businesses/{Unknown}/templates/sync", null);

        Assert.Equal(HttpStatusCode.OK, synced.StatusCode);
        await missing.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        var turns = factory.Services.GetRequiredService<TwaBot.Api.Admin.AdminTurns>().TemplateWrites;
        Assert.False(turns.IsInUse(Unknown));
        Assert.False(turns.IsInUse(tenant.BusinessId));
    }

    [Fact]
    public async Task ABusinessNewToTheSandboxSyncsNoTemplatesUnlessItSharesAnAccountThatHasThem()
    {
        // As README says: a WABA of its own starts empty; the Sandbox Business's waba_id brings that account's templates.
        var tenant = await factory.CreateSendingTenantAsync(); // order_confirmation and otp_verification at the emulator
        var (alone, sharing) = (await factory.CreateBusinessAsync(), await factory.CreateBusinessAsync());
        using var admin = factory.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{alone}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{sharing}/whatsapp",
            new { sandbox = true, waba_id = await WabaIdAsync(factory, tenant.BusinessId) })).EnsureSuccessStatusCode();

        var aloneSynced = await (await admin.PostAsync($"/admin/v1/businesses/{alone}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        var sharingSynced = await (await admin.PostAsync($"/admin/v1/businesses/{sharing}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(0, Count(aloneSynced, "total"));
        Assert.Equal((2, 2), (Count(sharingSynced, "total"), Count(sharingSynced, "created")));
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
    public async Task AnAuthenticationTemplatesCodeButtonAsMetaListsItIsNoChange()
    {
        // Meta lists an authentication template with its OTP button and that button's label; the code fills the
        // button, so neither is stored (nor given by a create), and a sync finds nothing changed.
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "otp_verification")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.ButtonsJson, """[{"type":"OTP","otp_type":"COPY_CODE","text":"Copy code"}]""")));
        using var admin = factory.CreateAdminClient();

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((2, 0, 0, 0), (Count(synced, "total"), Count(synced, "created"), Count(synced, "updated"), Count(synced, "removed")));
    }

    [Fact]
    public async Task ALinkChangedAtMetaIsAnUpdateThatTemplatesListsAfterTheSync()
    {
        // The link a button's value ends is part of the template: a sync that finds only it changed counts an update.
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        using var admin = factory.CreateAdminClient();
        await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "track_parcel", language = "en", category = "UTILITY", body = "Parcel {{1}} is on its way.",
            buttons = new[] { new { type = "URL", text = "Track", url = "https://shop.example/track/{{1}}" } },
        })).ReadJsonAsync(HttpStatusCode.Created);
        var unchanged = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, Count(unchanged, "updated")); // the create stored the link as Meta lists it
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "track_parcel")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.ButtonsJson, """[{"type":"URL","text":"Track","url":"https://track.shop.example/parcels/{{1}}"}]""")));

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((0, 1, 0), (Count(synced, "created"), Count(synced, "updated"), Count(synced, "removed")));
        var listed = (await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "track_parcel");
        Assert.Equal("https://track.shop.example/parcels/{{1}}", Assert.Single(listed.GetProperty("button_params").EnumerateArray()).GetProperty("url").GetString());
    }

    [Theory]
    [InlineData("category", "MARKETING")]
    [InlineData("header", "Order update")]
    [InlineData("footer", "Thanks for shopping")]
    [InlineData("meta id", "771234567890126")] // deleted and created again at Meta under the same name
    [InlineData("body", "Hi {{1}}, order {{2}} of {{3}} is confirmed.")]
    [InlineData("status", "PAUSED")]
    [InlineData("button label", "Thank you")]
    public async Task EachChangeMetaListsCountsAsAnUpdateAndIsStored(string change, string changedTo)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        using var admin = factory.CreateAdminClient();
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.ButtonsJson, """[{"type":"QUICK_REPLY","text":"Thanks"}]""")));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        await factory.WithDbAsync(db =>
        {
            var atMeta = db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation");
            return change switch
            {
                "button label" => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.ButtonsJson, $$"""[{"type":"QUICK_REPLY","text":"{{changedTo}}"}]""")),
                "category" => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.Category, changedTo)),
                "header" => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.HeaderText, changedTo)),
                "footer" => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.FooterText, changedTo)),
                "meta id" => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.MetaId, changedTo)),
                "body" => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.Body, changedTo)),
                _ => atMeta.ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, changedTo)),
            };
        });

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((0, 1, 0), (Count(synced, "created"), Count(synced, "updated"), Count(synced, "removed")));
        var listed = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var template = listed.GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "order_confirmation");
        var stored = change switch
        {
            "button label" => template.GetProperty("button_details")[0].GetProperty("text").GetString(),
            "category" => template.GetProperty("category").GetString(),
            "header" => template.GetProperty("header_text").GetString(),
            "footer" => template.GetProperty("footer_text").GetString(),
            "meta id" => template.GetProperty("meta_template_id").GetString(),
            "body" => template.GetProperty("body").GetString(),
            _ => template.GetProperty("status").GetString(),
        };
        Assert.Equal(changedTo, stored);
        var again = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(0, Count(again, "updated"));
    }

    [Fact]
    public async Task ATemplateStoredWithoutItsVariablesGetsThemFromASync()
    {
        // As a row stored before variables were kept: Meta's copy is the same, ours lacks the names a send is told of.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Variables, new List<string>())));
        using var admin = factory.CreateAdminClient();

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, Count(synced, "updated"));
        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["1", "2", "3"], listed.GetProperty("templates").EnumerateArray()
            .Single(t => t.GetProperty("name").GetString() == "order_confirmation").GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task ATemplateMetaReportsAfterASyncAskedItsListIsNotRetiredByThatList()
    {
        // Meta's list, asked for now, lacks otp_verification; Meta's report that it approved it a minute later came first.
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = await WabaIdAsync(factory, tenant.BusinessId);
        var otpId = 0L;
        await factory.WithDbAsync(async db => otpId = long.Parse(
            (await db.Templates.SingleAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "otp_verification")).MetaTemplateId!,
            System.Globalization.CultureInfo.InvariantCulture));
        await DeliverTemplateEventAsync(factory, wabaId, Webhooks.MetaPayloads.TemplateStatus("APPROVED", "otp_verification", "en", otpId),
            factory.Clock.GetUtcNow().AddMinutes(1));
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "otp_verification").ExecuteDeleteAsync());
        using var admin = factory.CreateAdminClient();

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(0, Count(synced, "removed"));
        var listed = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(listed.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "otp_verification");
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
    public async Task ASyncKeepsTheReasonMetaRejectedATemplateFor()
    {
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        // Meta rejected it: its status webhook said why, and Meta's list says so too.
        var change = Webhooks.MetaPayloads.TemplateStatus("REJECTED", "order_confirmation", "en", metaId);
        change["value"]!["reason"] = "INCORRECT_CATEGORY";
        await DeliverTemplateEventAsync(factory, wabaId, change, factory.Clock.GetUtcNow().AddMinutes(-1));
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
        var (_, orderId) = await OrderConfirmationAsync(factory, tenant.BusinessId);
        var otpId = 0L;
        await factory.WithDbAsync(async db => otpId = long.Parse(
            (await db.Templates.SingleAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "otp_verification")).MetaTemplateId!,
            System.Globalization.CultureInfo.InvariantCulture));
        async Task StatusAsync(string templateEvent, string name, long metaId, string field, System.Text.Json.Nodes.JsonNode reason)
        {
            var change = Webhooks.MetaPayloads.TemplateStatus(templateEvent, name, "en", metaId);
            change["value"]![field] = reason;
            await DeliverTemplateEventAsync(factory, wabaId, change, factory.Clock.GetUtcNow().AddMinutes(-1));
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
        var (tenant, wabaId, id, metaId) = await TenantWithOrderConfirmationAsync(factory);
        using var admin = factory.CreateAdminClient();
        await factory.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.QualityScore, "GREEN")));
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        var synced = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);

        async Task QualityAsync(string previous, string score, int seconds)
        {
            await DeliverTemplateEventAsync(factory, wabaId, new System.Text.Json.Nodes.JsonObject
            {
                ["field"] = "message_template_quality_update",
                ["value"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["previous_quality_score"] = previous, ["new_quality_score"] = score,
                    ["message_template_id"] = metaId, ["message_template_name"] = "order_confirmation", ["message_template_language"] = "en",
                },
            }, factory.Clock.GetUtcNow().AddSeconds(seconds));
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
}
