using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Templates;

/// <summary>
/// Templates with buttons: submitted through the admin API, read back by sync, and sent with button_params filling
/// the buttons that take a value (a link's end, a coupon code), all against the emulated Meta over HTTP.
/// </summary>
public class TemplateButtonsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    /// <summary>A marketing template with a quick reply (takes nothing), a tracking link and a coupon code.</summary>
    private static readonly object DiwaliOffer = new
    {
        name = "diwali_offer",
        language = "en",
        category = "MARKETING",
        body = "Hi {{1}}, your Diwali offer is here.",
        buttons = new object[]
        {
            new { type = "QUICK_REPLY", text = "Stop promotions" },
            new { type = "url", text = "Track order", url = "https://shop.example/track/{{1}}", example = "ORD 1" },
            new { type = "COPY_CODE", example = "SAVE10" },
        },
    };

    private async Task<Infrastructure.SendingTenant> TenantWithDiwaliOfferAsync()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var created = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", DiwaliOffer)).ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal(["none", "url_suffix", "coupon_code"],
            created.GetProperty("template").GetProperty("buttons").EnumerateArray().Select(b => b.GetString()));
        return tenant;
    }

    private static Task<HttpResponseMessage> SendOfferAsync(Infrastructure.SendingTenant tenant, string[]? buttonParams) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "9876543210", template_name = "diwali_offer", body_params = new[] { "Rahul" }, button_params = buttonParams });

    [Fact]
    public async Task ATemplatesButtonsAreSubmittedToMetaWithAWholeExampleLink()
    {
        var tenant = await TenantWithDiwaliOfferAsync();

        await factory.WithDbAsync(async db =>
        {
            var atMeta = await db.SandboxTemplates.SingleAsync(t => t.Name == "diwali_offer" && t.WabaId == db.WhatsAppConnections.Single(w => w.BusinessId == tenant.BusinessId).WabaId);
            Assert.Equal(
                """[{"type":"QUICK_REPLY","text":"Stop promotions"},{"type":"URL","text":"Track order","url":"https://shop.example/track/{{1}}","example":["https://shop.example/track/ORD%201"]},{"type":"COPY_CODE","example":"SAVE10"}]""",
                atMeta.ButtonsJson);
        });
    }

    [Fact]
    public async Task ABlankLinkExampleIsSubmittedAsTheDefaultOne()
    {
        // A form builder sends every field: a blank example is left out, not a link with an empty end for Meta to review.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "track_link", language = "en", category = "UTILITY", body = "Shipped",
            buttons = new[] { new { type = "URL", text = "Track", url = "https://shop.example/t/{{1}}", example = "  " } },
        })).ReadJsonAsync(HttpStatusCode.Created);

        await factory.WithDbAsync(async db => Assert.Contains(
            "\"example\":[\"https://shop.example/t/example\"]",
            (await db.SandboxTemplates.SingleAsync(t => t.Name == "track_link" && t.WabaId == db.WhatsAppConnections.Single(w => w.BusinessId == tenant.BusinessId).WabaId)).ButtonsJson,
            StringComparison.Ordinal));
    }

    /// <summary>
    /// The template's link button changed at Meta to a fixed link and no sync has run: Meta refuses the value
    /// a send still gives it, which is button_params'.
    /// </summary>
    private Task LinkMadeFixedAtMetaAsync(Infrastructure.SendingTenant tenant) => factory.WithDbAsync(async db =>
    {
        var wabaId = db.WhatsAppConnections.Single(w => w.BusinessId == tenant.BusinessId).WabaId;
        var atMeta = await db.SandboxTemplates.SingleAsync(t => t.Name == "diwali_offer" && t.WabaId == wabaId);
        atMeta.ButtonsJson = """[{"type":"QUICK_REPLY","text":"Stop promotions"},{"type":"URL","text":"Shop","url":"https://shop.example/"},{"type":"COPY_CODE","example":"SAVE10"}]""";
        await db.SaveChangesAsync();
    });

    [Fact]
    public async Task MetasRefusalOfAButtonValueNamesButtonParams()
    {
        var tenant = await TenantWithDiwaliOfferAsync();
        await LinkMadeFixedAtMetaAsync(tenant);

        var refused = await (await SendOfferAsync(tenant, ["ORD-1", "SAVE10"])).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");

        Assert.Equal("button_params", refused.GetProperty("field").GetString());
        Assert.Contains("button at index 1", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetasRefusalOfAQuickSendsButtonValueNamesButtonParams()
    {
        var tenant = await TenantWithDiwaliOfferAsync();
        await LinkMadeFixedAtMetaAsync(tenant);

        var refused = await (await tenant.Client.GetAsync("/api/v1/quick-send?phone=9876543210&template=diwali_offer&params=Rahul&button_params=ORD-1,SAVE10"))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");

        Assert.Equal("button_params", refused.GetProperty("field").GetString());
    }

    [Fact]
    public async Task TheReadmeSaysTheEmulatorChecksButtonValues()
    {
        // The emulator refuses a send whose buttons are not filled as the template needs (the tests above and the sandbox's).
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var checks = readme[readme.IndexOf("What it checks of a send", StringComparison.Ordinal)..];
        checks = checks[..checks.IndexOf("\n\n", StringComparison.Ordinal)];

        Assert.Contains("each other button's value at its index", checks, StringComparison.Ordinal);
        Assert.DoesNotContain("other buttons.", checks, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASendFillsTheButtonsThatTakeAValueAndMetaAcceptsIt()
    {
        var tenant = await TenantWithDiwaliOfferAsync();

        var sent = await (await SendOfferAsync(tenant, ["ORD-1", "SAVE10"])).ReadJsonAsync(HttpStatusCode.OK);

        Assert.StartsWith("wamid.", sent.GetProperty("message_id").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "TEMPLATE_PARAMS_INVALID", "button_params", "has 2 button value(s) to give (url_suffix, coupon_code); button_params gave 0")]
    [InlineData(new[] { "ORD-1" }, "TEMPLATE_PARAMS_INVALID", "button_params", "button_params gave 1")]
    [InlineData(new[] { "ORD-1", "SAVE-10" }, "TEMPLATE_PARAMS_INVALID", "button_params[1]", "at most 15 letters and digits")]
    [InlineData(new[] { "ORD-1", "SAVE10SAVE10SAVE" }, "TEMPLATE_PARAMS_INVALID", "button_params[1]", "at most 15 letters and digits")]
    [InlineData(new[] { "ORD 1", "SAVE10" }, "TEMPLATE_PARAMS_INVALID", "button_params[0]", "write its spaces as %20")]
    [InlineData(new[] { "", "SAVE10" }, "VALIDATION_FAILED", "button_params[0]", "non-empty")]
    [InlineData(new[] { "ORD\u200B1", "SAVE10" }, "TEMPLATE_PARAMS_INVALID", "button_params[0]", "invisible characters")] // a zero-width space
    [InlineData(new[] { "\u200FORD-1", "SAVE10" }, "TEMPLATE_PARAMS_INVALID", "button_params[0]", "invisible characters")] // a direction mark
    [InlineData(new[] { "ORD-1", "SAVE\u0661\u0660" }, "TEMPLATE_PARAMS_INVALID", "button_params[1]", "(A-Z, a-z, 0-9)")] // Arabic-Indic digits
    public async Task AMissingOrUnfitButtonValueIsRefusedBeforeMetaNamingIt(string[]? buttonParams, string code, string field, string says)
    {
        var tenant = await TenantWithDiwaliOfferAsync();

        var refused = await (await SendOfferAsync(tenant, buttonParams)).AssertErrorAsync(HttpStatusCode.BadRequest, code);

        Assert.Equal(field, refused.GetProperty("field").GetString());
        Assert.Contains(says, refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == tenant.BusinessId)));
    }

    [Fact]
    public async Task ButtonValuesForATemplateWithoutSuchButtonsAreRefused()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var refused = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" }, button_params = new[] { "x" },
        })).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");

        Assert.Equal("button_params", refused.GetProperty("field").GetString());
        Assert.Contains("has no button that takes a value", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuickSendFillsButtonsFromButtonParamsSplitLikeParams()
    {
        var tenant = await TenantWithDiwaliOfferAsync();

        // A comma inside a value is written \, as in params (%5C%2C in the URL).
        var sent = await (await tenant.Client.GetAsync("/api/v1/quick-send?phone=9876543210&template=diwali_offer&params=Rahul&button_params=ORD-1%5C%2C2,SAVE10"))
            .ReadJsonAsync(HttpStatusCode.OK);

        Assert.StartsWith("wamid.", sent.GetProperty("message_id").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "button_params", "button_params gave 0")]
    [InlineData("&button_params=ORD-1", "button_params", "button_params gave 1")]
    [InlineData("&button_params=ORD-1,SAVE-10", "button_params[1]", "at most 15 letters and digits")]
    [InlineData("&button_params=ORD-1,", "button_params[1]", "non-empty")]
    public async Task QuickSendIsRefusedAsSendTemplateIsForMissingOrUnfitButtonValues(string buttonParams, string field, string says)
    {
        var tenant = await TenantWithDiwaliOfferAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=9876543210&template=diwali_offer&params=Rahul" + buttonParams);

        var refused = await response.AssertErrorAsync(HttpStatusCode.BadRequest, says == "non-empty" ? "VALIDATION_FAILED" : "TEMPLATE_PARAMS_INVALID");
        Assert.Equal(field, refused.GetProperty("field").GetString());
        Assert.Contains(says, refused.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AQuickSendIdempotencyKeyCoversItsButtonValues()
    {
        var tenant = await TenantWithDiwaliOfferAsync();
        const string url = "/api/v1/quick-send?phone=9876543210&template=diwali_offer&params=Rahul&idempotency_key=offer-1&button_params=";

        var first = await (await tenant.Client.GetAsync(url + "ORD-1,SAVE10")).ReadJsonAsync(HttpStatusCode.OK);
        var again = await tenant.Client.GetAsync(url + "ORD-1,SAVE10");
        var changed = await tenant.Client.GetAsync(url + "ORD-2,SAVE10");

        Assert.Equal(first.GetProperty("message_id").GetString(), (await again.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
        Assert.Equal(422, (int)changed.StatusCode);
    }

    [Fact]
    public async Task SyncReadsWhichButtonsTakeAValue()
    {
        var tenant = await TenantWithDiwaliOfferAsync();
        // As a template synced before buttons were read: its row knows none.
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId && t.Name == "diwali_offer")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Buttons, new List<string>())));
        using var admin = factory.CreateAdminClient();

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, synced.GetProperty("updated").GetInt32());
        await factory.WithDbAsync(async db => Assert.Equal(["none", "url_suffix", "coupon_code"],
            (await db.Templates.SingleAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "diwali_offer")).Buttons));
        await (await SendOfferAsync(tenant, ["ORD-1", "SAVE10"])).ReadJsonAsync(HttpStatusCode.OK);
    }

    public static TheoryData<string, string, string> BadButtons => new()
    {
        { """{"category":"AUTHENTICATION","body":null,"buttons":[{"type":"QUICK_REPLY","text":"No"}]}""", "buttons", "not allowed for an AUTHENTICATION template" },
        { """{"buttons":[null]}""", "buttons[0]", "must be an object" },
        { """{"buttons":[{"type":"FLOW","text":"Go"}]}""", "buttons[0].type", "one of QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE" },
        { """{"buttons":[{"text":"Go"}]}""", "buttons[0].type", "one of QUICK_REPLY" },
        { """{"buttons":[{"type":"QUICK_REPLY"}]}""", "buttons[0].text", "required" },
        { """{"buttons":[{"type":"QUICK_REPLY","text":"This label is far too long!"}]}""", "buttons[0].text", "at most 25 characters" },
        { """{"buttons":[{"type":"QUICK_REPLY","text":"Yes","url":"https://a.example"}]}""", "buttons[0].url", "only for URL buttons" },
        { """{"buttons":[{"type":"QUICK_REPLY","text":"Yes","example":"x"}]}""", "buttons[0].example", "only for URL and COPY_CODE" },
        { """{"buttons":[{"type":"URL","text":"Go"}]}""", "buttons[0].url", "required" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{1}}/x"}]}""", "buttons[0].url", "may end in {{1}}" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{1}}{{2}}"}]}""", "buttons[0].url", "may end in {{1}}" },
        // One variable only: the same {{1}} twice is still two variables for Meta, as is a spaced {{ 1 }}.
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{1}}{{1}}"}]}""", "buttons[0].url", "may end in {{1}}" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{1}}?ref={{1}}"}]}""", "buttons[0].url", "may end in {{1}}" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{ 1 }}/{{1}}"}]}""", "buttons[0].url", "may end in {{1}}" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{x}}"}]}""", "buttons[0].url", "may end in {{1}}" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"ftp://a.example/x"}]}""", "buttons[0].url", "absolute http(s) link" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"/track/{{1}}"}]}""", "buttons[0].url", "absolute http(s) link" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/x","example":"y"}]}""", "buttons[0].example", "only for a link that ends in {{1}}" },
        { """{"buttons":[{"type":"URL","text":"A","url":"https://a.example"},{"type":"URL","text":"B","url":"https://b.example"},{"type":"URL","text":"C","url":"https://c.example"}]}""", "buttons[2].type", "at most 2 URL" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"call me"}]}""", "buttons[0].phone_number", "digits only" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+919876543210","url":"https://a.example"}]}""", "buttons[0].url", "only for URL buttons" },
        { """{"category":"UTILITY","buttons":[{"type":"COPY_CODE","example":"SAVE10"}]}""", "buttons[0].type", "MARKETING templates only" },
        { """{"buttons":[{"type":"COPY_CODE","text":"Copy","example":"SAVE10"}]}""", "buttons[0].text", "WhatsApp writes the label" },
        { """{"buttons":[{"type":"COPY_CODE"}]}""", "buttons[0].example", "required for COPY_CODE" },
        { """{"buttons":[{"type":"COPY_CODE","example":"SAVE-10"}]}""", "buttons[0].example", "letters and digits" },
        { """{"buttons":[{"type":"COPY_CODE","example":" "}]}""", "buttons[0].example", "required for COPY_CODE" },
        { """{"buttons":[{"type":"COPY_CODE","example":"SAVE10SAVE10SAVE"}]}""", "buttons[0].example", "at most 15 letters and digits" },
        { """{"buttons":[{"type":"COPY_CODE","example":"A1"},{"type":"COPY_CODE","example":"B2"}]}""", "buttons[1].type", "at most 1 COPY_CODE" },
        { """{"buttons":[{"type":"QUICK_REPLY","text":"A"},{"type":"URL","text":"Go","url":"https://a.example"},{"type":"QUICK_REPLY","text":"B"}]}""", "buttons[2].type", "must each be together" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example"},{"type":"QUICK_REPLY","text":"A"},{"type":"PHONE_NUMBER","text":"Call","phone_number":"+919876543210"}]}""", "buttons[2].type", "must each be together" },
        { "{\"buttons\":[" + string.Join(",", Enumerable.Repeat("""{"type":"QUICK_REPLY","text":"Yes"}""", 11)) + "]}", "buttons", "at most 10 buttons" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/my order/{{1}}"}]}""", "buttons[0].url", "without spaces" },
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/x}}/{{1}}"}]}""", "buttons[0].url", "may end in {{1}}" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+"}]}""", "buttons[0].phone_number", "digits only" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call"}]}""", "buttons[0].phone_number", "phone_number is required" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"-919876543210"}]}""", "buttons[0].phone_number", "digits only" }, // only a + may come before the digits
        { """{"buttons":[{"type":"QUICK_REPLY","text":"Yes","phone_number":"+919876543210"}]}""", "buttons[0].phone_number", "only for PHONE_NUMBER buttons" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+12345678901234567890"}]}""", "buttons[0].phone_number", "digits only" }, // 21 characters
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+919876543210","example":"x"}]}""", "buttons[0].example", "only for URL and COPY_CODE" },
        { """{"buttons":[{"type":"QUICK_REPLY","text":"Twenty-six characters long"}]}""", "buttons[0].text", "at most 25 characters" }, // 26 characters
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/""" + new string('a', 1983) + "\"}]}", "buttons[0].url", "at most 2000 characters" }, // 2001
        { """{"buttons":[{"type":"URL","text":"Go","url":"https://a.example/{{1}}","example":"ORD\n1"}]}""", "buttons[0].example", "control characters" },
        { "{\"buttons\":[{\"type\":\"URL\",\"text\":\"Go\",\"url\":\"https://a.example/{{1}}\",\"example\":\"" + new string('a', 2001) + "\"}]}", "buttons[0].example", "at most 2000 characters" },
        { """{"buttons":[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+919876543210"},{"type":"PHONE_NUMBER","text":"Call","phone_number":"+919876543211"}]}""", "buttons[1].type", "at most 1 PHONE_NUMBER" },
    };

    /// <summary>Buttons at the edges of Meta's rules, which it takes.</summary>
    public static TheoryData<string, string[]> ButtonsAtTheLimits => new()
    {
        { "[" + string.Join(",", Enumerable.Repeat("""{"type":"QUICK_REPLY","text":"Yes"}""", 10)) + "]", Enumerable.Repeat("none", 10).ToArray() },
        { """[{"type":"URL","text":"Shop","url":"http://shop.example"},{"type":"URL","text":"Track","url":"https://shop.example/t/{{1}}"}]""", ["none", "url_suffix"] },
        { """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+1234567890123456789"}]""", ["none"] }, // 20 characters
        { """[{"type":"COPY_CODE","example":"SAVE10SAVE10SAV"}]""", ["coupon_code"] }, // 15 characters
        { """[{"type":"QUICK_REPLY","text":"Twenty-five characters ok"}]""", ["none"] }, // 25 characters
        { """[{"type":"QUICK_REPLY","text":"Order more 🛒🛒🛒🛒🛒🛒🛒🛒🛒🛒🛒🛒🛒🛒"}]""", ["none"] }, // 25 characters, 39 UTF-16 units
        { """[{"type":"URL","text":"Go","url":"https://a.example/""" + new string('a', 1982) + "\"}]", ["none"] }, // 2000 characters
        { """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"919876543210"}]""", ["none"] }, // the country code without its +
    };

    [Theory]
    [MemberData(nameof(ButtonsAtTheLimits))]
    public async Task ButtonsAtTheEdgesOfMetasRulesAreTaken(string buttons, string[] takes)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var request = JsonSerializer.SerializeToNode(new { name = "edge_buttons", language = "en", category = "MARKETING", body = "Hi" })!.AsObject();
        request["buttons"] = JsonNode.Parse(buttons);

        var created = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json"))).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(takes, created.GetProperty("template").GetProperty("buttons").EnumerateArray().Select(b => b.GetString()));
    }

    [Theory]
    [MemberData(nameof(BadButtons))]
    public async Task ButtonsMetaWouldRefuseAreRefusedNamingTheFieldAndNothingIsStored(string overrides, string field, string says)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var request = JsonSerializer.SerializeToNode(new { name = "promo_buttons", language = "en", category = "MARKETING", body = "Hi" })!.AsObject();
        foreach (var (key, value) in JsonNode.Parse(overrides)!.AsObject().ToList())
        {
            request[key] = value?.DeepClone();
        }

        var refused = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json"))).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");

        Assert.Equal(field, refused.GetProperty("field").GetString());
        Assert.Contains(says, refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db =>
        {
            Assert.False(await db.Templates.AnyAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "promo_buttons"));
            Assert.False(await db.SandboxTemplates.AnyAsync(t => t.Name == "promo_buttons"));
        });
    }

    [Fact]
    public async Task QuickRepliesMayComeAfterTheOtherButtons()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var created = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "links_then_replies", language = "en", category = "UTILITY", body = "Hi",
            buttons = new object[]
            {
                new { type = "URL", text = "Track", url = "https://shop.example/t/{{1}}" }, new { type = "QUICK_REPLY", text = "Thanks" },
                new { type = "QUICK_REPLY", text = "Help" },
            },
        })).ReadJsonAsync(HttpStatusCode.Created);

        Assert.Equal(["url_suffix", "none", "none"], created.GetProperty("template").GetProperty("buttons").EnumerateArray().Select(b => b.GetString()));
    }

    [Fact]
    public async Task ATemplateWithAMultiProductButtonIsRefusedNamingTheTemplate()
    {
        // Synced from Meta (the admin API does not submit them): its products would have to be listed at each send.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation")
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Buttons, new List<string> { "unsupported" })));

        var refused = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");

        Assert.Equal("template_name", refused.GetProperty("field").GetString());
        Assert.Contains("multi-product button", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("URL", "https://shop.example/t/{{1}}", "url_suffix")]
    [InlineData("url", "https://shop.example/t/{{1}}", "url_suffix")]
    [InlineData("URL", "https://shop.example/t", "none")]
    [InlineData("COPY_CODE", null, "coupon_code")]
    [InlineData("MPM", null, "unsupported")]
    [InlineData("CATALOG", null, "none")]
    [InlineData("QUICK_REPLY", null, "none")]
    [InlineData("PHONE_NUMBER", null, "none")]
    [InlineData(null, null, "none")]
    public void EachOfMetasButtonTypesTakesWhatASendGivesIt(string? type, string? url, string takes) =>
        Assert.Equal(takes, Api.Templates.TemplateButtons.Of(type, url));
}
