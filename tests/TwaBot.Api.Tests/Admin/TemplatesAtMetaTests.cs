using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// Template creates and syncs of a live server against a scripted Meta: what a create submits, and what is kept of
/// answers and lists the sandbox's emulator never gives (another category, a refusal of a deleted name, lists with
/// duplicates, nameless items or media headers).
/// </summary>
public class TemplatesAtMetaTests
{
    private const string WabaId = "102290129340398";

    private static readonly object OrderUpdate = new
    {
        name = "order_update", language = "en", category = "UTILITY", body = "Hi {{1}}, order {{2}} is on its way.",
        variables = new[] { "Rahul", "ORD-1" },
    };

    [Fact]
    public async Task ACreateSubmitsItsVariablesAsExamplesAndKeepsTheCategoryMetaAnswers()
    {
        await using var live = await LiveAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261596","status":"PENDING","category":"MARKETING"}"""));

        var created = await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", OrderUpdate);

        var template = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal(("PENDING", "MARKETING"), (template.GetProperty("status").GetString(), template.GetProperty("category").GetString()));
        var body = JsonDocument.Parse(Assert.Single(live.Meta.Calls).Body).RootElement.GetProperty("components")[0];
        Assert.Equal(["Rahul", "ORD-1"], body.GetProperty("example").GetProperty("body_text")[0].EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task ACreateMetaMayHaveTakenStaysPendingUntilASyncSays()
    {
        await using var live = await LiveAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"success":true}""")); // no id: whether Meta has it is unknown

        var unknown = await (await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", OrderUpdate))
            .AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");

        Assert.Contains("kept here as PENDING", unknown.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(("PENDING", null), await live.StatusAsync());
        var synced = await live.SyncAsync("""
            {"data":[{"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"594425479261599",
              "components":[{"type":"BODY","text":"Hi {{1}}, order {{2}} is on its way."}]}]}
            """);
        Assert.Equal((0, 1), (synced.GetProperty("created").GetInt32(), synced.GetProperty("updated").GetInt32()));
        Assert.Equal(("APPROVED", null), await live.StatusAsync());
    }

    [Fact]
    public async Task ADeletedTemplateSubmittedAgainStaysDeletedWhenMetaRefusesAndStartsAfreshWhenMetaTakesIt()
    {
        await using var live = await LiveAsync();
        await live.SyncAsync("""
            {"data":[{"name":"order_update","language":"en","status":"REJECTED","rejected_reason":"INVALID_FORMAT","category":"UTILITY","id":"111",
              "quality_score":{"score":"RED"},"components":[{"type":"BODY","text":"Hi {{1}}, order {{2}} is on its way."}]}]}
            """);
        var synced = await live.SyncAsync("""{"data":[]}""");
        Assert.Equal(1, synced.GetProperty("removed").GetInt32());
        Assert.Equal(("DELETED", null), await live.StatusAsync());
        live.Meta.Reply(FakeMetaUpstream.Error(400, 100, "Invalid parameter"));

        await (await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", OrderUpdate))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");

        Assert.Equal(("DELETED", null), await live.StatusAsync());
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261597","status":"PENDING","category":"UTILITY"}"""));
        var created = (await (await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", OrderUpdate))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("template");
        Assert.Equal(("PENDING", "594425479261597"), (created.GetProperty("status").GetString(), created.GetProperty("meta_template_id").GetString()));
        // The quality Meta rated the deleted one with is not the new one's.
        Assert.Equal(JsonValueKind.Null, created.GetProperty("quality_score").ValueKind);
    }

    [Fact]
    public async Task ASyncCountsANameAndLanguageMetaListsTwiceOnceAndSkipsItemsWithoutOne()
    {
        await using var live = await LiveAsync();

        var synced = await live.SyncAsync("""
            {"data":[{"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"111","components":[{"type":"BODY","text":"Hi {{1}}"}]},
              {"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"112","components":[{"type":"BODY","text":"Hello {{1}}"}]},
              {"language":"en","status":"APPROVED","category":"UTILITY","id":"113","components":[{"type":"BODY","text":"Nameless"}]},
              {"name":"order_update","status":"APPROVED","category":"UTILITY","id":"114","components":[{"type":"BODY","text":"No language"}]}]}
            """);

        Assert.Equal((1, 1, 0, 0), (synced.GetProperty("total").GetInt32(), synced.GetProperty("created").GetInt32(),
            synced.GetProperty("updated").GetInt32(), synced.GetProperty("removed").GetInt32()));
        var listed = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var template = Assert.Single(listed.GetProperty("templates").EnumerateArray());
        Assert.Equal(("111", "Hi {{1}}"), (template.GetProperty("meta_template_id").GetString(), template.GetProperty("body").GetString()));
    }

    [Fact]
    public async Task AListedTemplateWithoutItsStatusCategoryOrIdKeepsTheStoredOnes()
    {
        // Stored as "", an approved template could no longer be sent, a marketing one escaped its customers' marketing stops,
        // and status webhooks, which name the template by its id, no longer found it.
        await using var live = await LiveAsync();
        await live.SyncAsync("""
            {"data":[{"name":"spring_sale","language":"en","status":"APPROVED","category":"MARKETING","id":"111","components":[{"type":"BODY","text":"Sale, {{1}}!"}]}]}
            """);

        var synced = await live.SyncAsync("""
            {"data":[{"name":"spring_sale","language":"en","components":[{"type":"BODY","text":"Sale, {{1}}!"}]}]}
            """);

        Assert.Equal(0, synced.GetProperty("updated").GetInt32());
        var listed = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        var template = Assert.Single(listed.GetProperty("templates").EnumerateArray());
        Assert.Equal(("APPROVED", "MARKETING", "111"),
            (template.GetProperty("status").GetString(), template.GetProperty("category").GetString(), template.GetProperty("meta_template_id").GetString()));
    }

    [Fact]
    public async Task ATemplateFirstListedWithoutAnIdHasNoneAndTheSameListAgainChangesNothing()
    {
        // No id is "not known yet" (null, so status webhooks still find it by name and language), not an id of "".
        await using var live = await LiveAsync();
        const string List = """
            {"data":[{"name":"spring_sale","language":"en","status":"APPROVED","category":"MARKETING","components":[{"type":"BODY","text":"Sale, {{1}}!"}]}]}
            """;
        await live.SyncAsync(List);

        var again = await live.SyncAsync(List);

        Assert.Equal((1, 0, 0), (again.GetProperty("total").GetInt32(), again.GetProperty("created").GetInt32(), again.GetProperty("updated").GetInt32()));
        var listed = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, Assert.Single(listed.GetProperty("templates").EnumerateArray()).GetProperty("meta_template_id").ValueKind);
    }

    [Fact]
    public async Task ASyncedMediaHeaderIsListedByItsFormat()
    {
        await using var live = await LiveAsync();
        await live.SyncAsync("""
            {"data":[{"name":"new_arrivals","language":"en","status":"APPROVED","category":"MARKETING","id":"111",
              "components":[{"type":"HEADER","format":"IMAGE"},{"type":"BODY","text":"New in store, {{1}}."}]}]}
            """);
        var (key, _) = await live.Server.CreateApiKeyAsync(live.BusinessId);
        using var client = live.Server.CreateApiClient(key);

        var listed = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("image", Assert.Single(listed.GetProperty("templates").EnumerateArray()).GetProperty("header_type").GetString());
    }

    [Fact]
    public async Task ASyncedTextHeaderWithTwoVariablesIsSentWithBothValuesInOrder()
    {
        // A create here allows one header variable (as Meta does), but a sync keeps the header Meta lists as it is.
        await using var live = await LiveAsync();
        await live.SyncAsync("""
            {"data":[{"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"HEADER","format":"TEXT","text":"Order {{1}} for {{2}}"},{"type":"BODY","text":"Hi {{1}}."}]}]}
            """);
        var (key, _) = await live.Server.CreateApiKeyAsync(live.BusinessId);
        using var client = live.Server.CreateApiClient(key);

        var sent = await client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "919876543210", template_name = "order_update", body_params = new[] { "Rahul" }, header_params = new[] { "ORD-1", "Rahul" },
        });

        await sent.ReadJsonAsync(HttpStatusCode.OK);
        var header = JsonDocument.Parse(Assert.Single(live.Meta.Calls).Body).RootElement.GetProperty("template").GetProperty("components")[0];
        Assert.Equal("header", header.GetProperty("type").GetString());
        Assert.Equal(["ORD-1", "Rahul"], header.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("text").GetString()));
    }

    [Theory]
    [InlineData("{\"type\":\"CAROUSEL\",\"cards\":[]}", "a carousel (Meta's CAROUSEL component)", "CAROUSEL")]
    [InlineData("{\"type\":\"limited_time_offer\",\"limited_time_offer\":{\"text\":\"Ends soon\"}}", "a limited-time offer (Meta's LIMITED_TIME_OFFER component)", "LIMITED_TIME_OFFER")]
    [InlineData("{\"type\":\"SOMETHING_NEW\"}", "a component (Meta's SOMETHING_NEW component)", "SOMETHING_NEW")]
    public async Task ASyncedTemplateWithAComponentNoSendCanFillIsRefusedBeforeMetaAndShownToTheAdmin(string component, string says, string shown)
    {
        // Its cards or offer's expiry need values this API has no field for: Meta would refuse the send (132000, 132012).
        await using var live = await LiveAsync();
        var list = $$"""
            {"data":[{"name":"summer_picks","language":"en","status":"APPROVED","category":"MARKETING","id":"111",
              "components":[{"type":"BODY","text":"Our picks for you."},{{component}}]}]}
            """;
        await live.SyncAsync(list);
        var (key, _) = await live.Server.CreateApiKeyAsync(live.BusinessId);
        using var client = live.Server.CreateApiClient(key);

        var sent = await client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919876543210", template_name = "summer_picks" });
        Assert.Empty(live.Meta.Calls); // refused here: nothing went to Meta
        var again = await live.SyncAsync(list);

        var error = await sent.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("template_name", error.GetProperty("field").GetString());
        Assert.Equal($"Template 'summer_picks' has {says}, which this API cannot fill; use a template without one.", error.GetProperty("error").GetString());
        Assert.Equal(0, again.GetProperty("updated").GetInt32()); // the same list again is no change
        var listed = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(shown, Assert.Single(listed.GetProperty("templates").EnumerateArray()).GetProperty("unsendable_component").GetString());
    }

    [Fact]
    public async Task ADeletedCarouselsNameSubmittedAgainAsAPlainTemplateIsNotRefusedAsACarousel()
    {
        await using var live = await LiveAsync();
        await live.SyncAsync("""
            {"data":[{"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, order {{2}} is on its way."},{"type":"CAROUSEL","cards":[]}]}]}
            """);
        await live.SyncAsync("""{"data":[]}""");
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"id":"594425479261598","status":"APPROVED","category":"UTILITY"}"""));

        await (await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", OrderUpdate)).ReadJsonAsync(HttpStatusCode.Created);

        await live.Server.WithDbAsync(async db => Assert.Null((await db.Templates.SingleAsync(t => t.Name == "order_update")).UnsendableComponent));
    }

    [Fact]
    public async Task ATemplateEditedAtMetaIntoOneASendCanFillIsSentAgain()
    {
        await using var live = await LiveAsync();
        await live.SyncAsync("""
            {"data":[{"name":"summer_picks","language":"en","status":"APPROVED","category":"MARKETING","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, our picks for you."},{"type":"CAROUSEL","cards":[]}]}]}
            """);
        var synced = await live.SyncAsync("""
            {"data":[{"name":"summer_picks","language":"en","status":"APPROVED","category":"MARKETING","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, our picks for you."}]}]}
            """);
        var (key, _) = await live.Server.CreateApiKeyAsync(live.BusinessId);
        using var client = live.Server.CreateApiClient(key);
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","contacts":[{"input":"919876543210","wa_id":"919876543210"}],"messages":[{"id":"wamid.picks"}]}"""));

        var sent = await client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "summer_picks", body_params = new[] { "Rahul" } });

        Assert.Equal(1, synced.GetProperty("updated").GetInt32());
        await sent.ReadJsonAsync(HttpStatusCode.OK);
        var listed = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, Assert.Single(listed.GetProperty("templates").EnumerateArray()).GetProperty("unsendable_component").ValueKind);
    }

    [Theory]
    [InlineData("green", "GREEN")]
    [InlineData("PURPLE", null)] // not one of Meta's four: not stored in their place
    public async Task ASyncedQualityScoreIsKeptAsOneOfMetasFour(string listed, string? kept)
    {
        await using var live = await LiveAsync();

        await live.SyncAsync($$"""
            {"data":[{"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "quality_score":{"score":"{{listed}}"},"components":[{"type":"BODY","text":"Hi {{1}}"}]}]}
            """);

        var templates = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(kept, Assert.Single(templates.GetProperty("templates").EnumerateArray()).GetProperty("quality_score").GetString());
    }

    [Fact]
    public async Task ACreateSentWhileASyncWaitsForMetasListIsNotRemovedByIt()
    {
        // A business's template calls take turns: out of turn, the create was written while the sync waited for Meta's list,
        // and the sync, whose list was read before the create reached Meta, then marked the new template deleted.
        await using var live = await LiveAsync();
        var held = new HeldAnswer(FakeMetaUpstream.Json(200, """{"data":[]}"""));
        live.Meta.Reply(held.Reply, FakeMetaUpstream.Json(200, """{"id":"594425479261598","status":"PENDING","category":"UTILITY"}"""));
        var sync = live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null);
        await held.ReachedMetaAsync();

        var create = live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", OrderUpdate);
        await Task.WhenAny(create, Task.Delay(TimeSpan.FromSeconds(2))); // out of turn, the create is written meanwhile
        held.Release();

        (await sync).EnsureSuccessStatusCode();
        await (await create).ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(("PENDING", null), await live.StatusAsync());
    }

    private static async Task<Live> LiveAsync()
    {
        var meta = await FakeMetaUpstream.StartAsync();
        var server = LiveMode.Against(meta);
        var live = new Live(meta, server, server.CreateAdminClient(), await server.CreateBusinessAsync());
        (await live.Admin.PutAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/whatsapp",
            new { phone_number_id = FakeMetaUpstream.Connection.PhoneNumberId, waba_id = WabaId, access_token = "EAAGtemplatesAtMetaToken0123456789" }))
            .EnsureSuccessStatusCode();
        return live;
    }

    private sealed record Live(FakeMetaUpstream Meta, TwaBotApiFactory Server, HttpClient Admin, long BusinessId) : IAsyncDisposable
    {
        /// <summary>A sync whose Meta lists <paramref name="list"/>; its counts.</summary>
        public async Task<JsonElement> SyncAsync(string list)
        {
            Meta.Reply(FakeMetaUpstream.Json(200, list));
            var synced = await (await Admin.PostAsync($"/admin/v1/businesses/{BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
            Meta.Calls.Clear();
            return synced;
        }

        /// <summary>order_update's status and reason, as the admin reads them.</summary>
        public async Task<(string?, string?)> StatusAsync()
        {
            var listed = await (await Admin.GetAsync($"/admin/v1/businesses/{BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
            var template = listed.GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "order_update");
            return (template.GetProperty("status").GetString(), template.GetProperty("status_reason").GetString());
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            await Server.DisposeAsync();
            await Meta.DisposeAsync();
        }
    }
}
