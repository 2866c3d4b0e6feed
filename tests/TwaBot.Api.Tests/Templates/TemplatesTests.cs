using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Templates;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Templates;

public class TemplatesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task ListsTheCallersApprovedTemplatesInTheSeedsShape()
    {
        var (businessId, client, _) = await factory.CreateTenantAsync();
        var other = await factory.CreateBusinessAsync();
        await factory.WithDbAsync(async db =>
        {
            db.Templates.AddRange(
                OrderConfirmation(businessId),
                OtherTemplate(businessId, "promo_pending", "PENDING"),
                OtherTemplate(businessId, "old_rejected", "REJECTED"),
                OtherTemplate(other, "someone_elses", Template.Approved));
            await db.SaveChangesAsync();
        });

        var json = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.True(json.GetProperty("success").GetBoolean());
        var template = Assert.Single(json.GetProperty("templates").EnumerateArray());
        Assert.Equal(
            ["id", "name", "display_name", "content", "category", "language", "header_type", "header_text", "footer_text", "variables", "button_params"],
            template.PropertyNames()); // the docs' fields in their order, then our one addition
        Assert.Equal(System.Text.Json.JsonValueKind.Number, template.GetProperty("id").ValueKind); // the docs' "id": 12
        Assert.Equal("order_confirmation", template.GetProperty("name").GetString());
        Assert.Equal("Order Confirmation", template.GetProperty("display_name").GetString());
        Assert.Equal("Hi {{1}}, your order {{2}} of {{3}} has been confirmed!", template.GetProperty("content").GetString());
        Assert.Equal("UTILITY", template.GetProperty("category").GetString());
        Assert.Equal("en", template.GetProperty("language").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, template.GetProperty("header_type").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, template.GetProperty("header_text").ValueKind);
        Assert.Equal("TwaBot - WhatsApp Business", template.GetProperty("footer_text").GetString());
        Assert.Equal(["customer_name", "order_id", "amount"], template.GetProperty("variables").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(0, template.GetProperty("button_params").GetArrayLength()); // no button takes a value
    }

    [Fact]
    public async Task EachTemplateListsTheButtonValuesASendMustGive()
    {
        // A CRM fills button_params from /templates: which buttons take a value, of what kind, and their labels.
        var tenant = await factory.CreateSendingTenantAsync(); // order_confirmation: no buttons
        using var admin = factory.CreateAdminClient();
        await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "track_parcel", language = "en", category = "UTILITY", body = "Your parcel {{1}} is on its way.",
            buttons = new object[]
            {
                new { type = "PHONE_NUMBER", text = "Call us", phone_number = "+919876500000" },
                new { type = "URL", text = "Track parcel", url = "https://shop.example/track/{{1}}", example = "ORD-1" },
                new { type = "URL", text = "Our shop", url = "https://shop.example/" }, // a fixed link takes nothing
            },
        })).ReadJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "festive_coupon", language = "en", category = "MARKETING", body = "Hi {{1}}, 10% off with this code.",
            buttons = new object[] { new { type = "QUICK_REPLY", text = "Stop promotions" }, new { type = "COPY_CODE", example = "SAVE10" } },
        })).ReadJsonAsync(HttpStatusCode.Created);

        var listed = (await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("button_params"));

        var link = Assert.Single(listed["track_parcel"].EnumerateArray());
        Assert.Equal(["kind", "button_index", "text", "url"], link.PropertyNames());
        Assert.Equal(("url_suffix", 1, "Track parcel"), (link.GetProperty("kind").GetString(), link.GetProperty("button_index").GetInt32(), link.GetProperty("text").GetString()));
        Assert.Equal("https://shop.example/track/{{1}}", link.GetProperty("url").GetString()); // what the value is appended to
        var coupon = Assert.Single(listed["festive_coupon"].EnumerateArray());
        Assert.Equal(["kind", "button_index", "text", "url"], coupon.PropertyNames());
        Assert.Equal(("coupon_code", 1), (coupon.GetProperty("kind").GetString(), coupon.GetProperty("button_index").GetInt32()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, coupon.GetProperty("text").ValueKind); // Meta labels copy-code buttons itself
        Assert.Equal(System.Text.Json.JsonValueKind.Null, coupon.GetProperty("url").ValueKind); // a coupon has no link
        Assert.Equal(0, listed["order_confirmation"].GetArrayLength());

        // The values as listed are what a send takes.
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "track_parcel", body_params = new[] { "ORD-1" }, button_params = new[] { "ORD-1" } })).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Theory] // a template stored before labels (then links) were kept knows less of its buttons; Meta's list tells the rest
    [InlineData(false)] // stored with its buttons' kinds only
    [InlineData(true)]  // stored with their kinds and labels: the link alone changes
    public async Task ASyncTellsWhatATemplateStoredBeforeKnewNotOfItsButton(bool labelStored)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            var wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId;
            db.Templates.Add(new Template
            {
                BusinessId = tenant.BusinessId, Name = "track_order", Language = "en", Content = "Shipped", Category = "UTILITY",
                Status = Template.Approved, MetaTemplateId = "7701", Buttons = ["url_suffix"], ButtonTexts = labelStored ? ["Track order"] : [],
                UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            });
            db.SandboxTemplates.Add(new TwaBot.Api.Sandbox.SandboxTemplate
            {
                WabaId = wabaId, MetaId = "7701", Name = "track_order", Language = "en", Category = "UTILITY", Status = "APPROVED", Body = "Shipped",
                ButtonsJson = """[{"type":"URL","text":"Track order","url":"https://shop.example/track/{{1}}"}]""",
            });
            await db.SaveChangesAsync();
        });
        async Task<System.Text.Json.JsonElement> ListedButtonAsync() => Assert.Single((await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "track_order").GetProperty("button_params").EnumerateArray());
        var before = await ListedButtonAsync();
        Assert.Equal(("url_suffix", labelStored ? "Track order" : null), (before.GetProperty("kind").GetString(), before.GetProperty("text").GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, before.GetProperty("url").ValueKind); // not known yet, rather than guessed
        using var admin = factory.CreateAdminClient();

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, synced.GetProperty("updated").GetInt32());
        var after = await ListedButtonAsync();
        Assert.Equal(("Track order", "https://shop.example/track/{{1}}"), (after.GetProperty("text").GetString(), after.GetProperty("url").GetString()));
    }

    [Fact]
    public async Task TemplatesAreListedByNameThenLanguageWithTheirTextHeader()
    {
        var (businessId, client, _) = await factory.CreateTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            // Stored in an order that is neither by name nor by language.
            var welcome = OtherTemplate(businessId, "welcome", Template.Approved);
            var alertHindi = OtherTemplate(businessId, "alert", Template.Approved);
            alertHindi.Language = "hi";
            var alertEnglish = OtherTemplate(businessId, "alert", Template.Approved);
            alertEnglish.HeaderType = "text";
            alertEnglish.HeaderText = "Order {{1}} update";
            db.Templates.AddRange(welcome, alertHindi, alertEnglish);
            await db.SaveChangesAsync();
        });

        var templates = (await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().ToList();

        Assert.Equal(["alert/en", "alert/hi", "welcome/en"],
            templates.Select(t => $"{t.GetProperty("name").GetString()}/{t.GetProperty("language").GetString()}"));
        Assert.Equal(("text", "Order {{1}} update"),
            (templates[0].GetProperty("header_type").GetString(), templates[0].GetProperty("header_text").GetString()));
    }

    [Fact]
    public async Task NoTemplatesIsAnEmptyList()
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var json = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(0, json.GetProperty("templates").GetArrayLength());
    }

    [Theory]
    [InlineData("Hi {{1}}, your order {{2}} of {{3}} has been confirmed!", 3)]
    [InlineData("{{1}} is your verification code.", 1)]
    [InlineData("No placeholders here.", 0)]
    [InlineData("{{1}} and {{1}} again, then {{ 2 }}", 2)]
    [InlineData("Named {{first_name}} and {{order}}", 2)]
    [InlineData("Empty {{}} and {{ }} braces", 0)] // braces without a name are text, not a parameter to give
    public void CountsBodyPlaceholders(string content, int expected)
    {
        Assert.Equal(expected, Template.CountPlaceholders(content));
    }

    [Theory]
    [InlineData("Hi {{2}}, your order {{1}}, again {{2}}, of {{10}}", "1,2,10")]     // numbered: in the order sends fill them
    [InlineData("Named {{first_name}}, order {{order_id}}, {{first_name}}", "first_name,order_id")] // named: by first appearance
    [InlineData("No placeholders here.", "")]
    public void PlaceholdersAreListedByTheirOwnNames(string content, string expected)
    {
        Assert.Equal(expected, string.Join(",", Template.PlaceholderNames(content)));
    }

    [Theory]
    [InlineData("Hi {{1}}, your order {{2}} of {{3}}", true)]
    [InlineData("{{2}} before {{1}}", true)]
    [InlineData("No placeholders here.", true)]
    [InlineData("Named {{first_name}} and {{order}}", true)]
    [InlineData("Hi {{1}} {{3}}", false)]       // a gap: parameters are given by position
    [InlineData("Hi {{2}}", false)]             // not from 1
    [InlineData("Hi {{0}}", false)]
    [InlineData("Hi {{1}} and {{name}}", false)] // numbered and named mixed
    [InlineData("Ship to {{line1}}, {{line2}}", true)] // a name may hold digits
    public void PlaceholdersMustBeNumberedWithoutGapsOrAllNamed(string content, bool expected)
    {
        Assert.Equal(expected, Template.PlaceholdersAreWellNumbered(content));
    }

    [Theory]
    [InlineData("Hi {{first_name}}, order {{order_id2}}", null)]
    [InlineData("Hi {{1}}, order {{2}}", null)]                  // numbered: no names to check
    [InlineData("No placeholders here.", null)]
    [InlineData("Hi {{FirstName}}", "FirstName")]               // Meta: lowercase letters, digits and underscores only
    [InlineData("Hi {{first_name}}, order {{Order_ID}}", "Order_ID")]
    [InlineData("Hi {{FirstName}} {{LastName}}", "FirstName")]  // the first one is named
    public void ANamedPlaceholderHoldsOnlyWhatMetaTakesInAName(string content, string? refused)
    {
        Assert.Equal(refused, Template.NameMetaRefuses(content));
    }

    [Theory]
    [InlineData("GREEN", "GREEN")]
    [InlineData("green", "GREEN")] // Meta's word in any case is stored as the admin API documents it
    [InlineData(" Yellow ", "YELLOW")]
    [InlineData("UNKNOWN", "UNKNOWN")]
    [InlineData("red", "RED")]
    [InlineData("PURPLE", null)]
    [InlineData(null, null)]
    public void OnlyMetasFourQualityScoresAreKeptUpperCased(string? score, string? kept)
    {
        Assert.Equal(kept, Template.KnownQualityScore(score));
    }

    [Theory]
    [InlineData("Hi {{first_name}}, order {{order_id}}, {{first_name}}", "first_name,order_id")] // by first appearance
    [InlineData("Ship to {{line1}}, {{line2}}", "line1,line2")] // a name may hold digits
    [InlineData("Hi {{1}} and {{2}}", null)]           // numbered: given by position, not by name
    [InlineData("Hi {{1}} and {{name}}", null)]        // mixed
    [InlineData("No placeholders here.", null)]
    [InlineData(null, null)]
    public void OnlyANamedParameterTextHasParameterNames(string? content, string? expected)
    {
        var names = Template.ParameterNames(content);
        Assert.Equal(expected, names is null ? null : string.Join(",", names));
    }

    [Theory]
    [InlineData("en", true)]
    [InlineData("fil", true)]
    [InlineData("en_US", true)]
    [InlineData("pt_BR", true)]
    [InlineData("zh_HANT", true)]   // up to four capitals after the line
    [InlineData("e", false)]
    [InlineData("engl", false)]
    [InlineData("EN", false)]
    [InlineData("en_us", false)]
    [InlineData("en-US", false)]
    [InlineData("en_U", false)]
    [InlineData("en_HANTX", false)]
    [InlineData(" en", false)]
    [InlineData("en\n", false)]    // no line break after it, which $ would let through
    [InlineData("", false)]
    public void ALanguageIsWrittenAsMetaWritesIt(string value, bool expected)
    {
        Assert.Equal(expected, Template.IsLanguageCode(value));
    }

    public static TheoryData<string[], string[], ButtonParameter[]> ButtonViews => new()
    {
        { ["Stop", "Track", ""], ["", "https://shop.example/t/{{1}}", ""],
            [new("url_suffix", 1, "Track", "https://shop.example/t/{{1}}"), new("coupon_code", 2, null, null)] },
        { [], [], [new("url_suffix", 1, null, null), new("coupon_code", 2, null, null)] }, // stored before labels and links were kept
        { ["Stop"], [""], [new("url_suffix", 1, null, null), new("coupon_code", 2, null, null)] }, // fewer known than buttons
        { ["Stop", "", ""], ["", "", ""], [new("url_suffix", 1, null, null), new("coupon_code", 2, null, null)] }, // kept, but blank: none known
    };

    [Theory]
    [MemberData(nameof(ButtonViews))]
    public void EachButtonValueIsShownWithItsButtonsPlaceLabelAndLink(string[] texts, string[] urls, ButtonParameter[] expected)
    {
        var template = OtherTemplate(1, "diwali_offer", Template.Approved);
        template.Buttons = ["none", "url_suffix", "coupon_code"];
        template.ButtonTexts = [.. texts];
        template.ButtonUrls = [.. urls];

        Assert.Equal(expected, template.ButtonParameterViews());
    }

    [Theory]
    [InlineData(null, null)] // a code that does not expire has no footer
    [InlineData(1, "This code expires in 1 minutes.")] // Meta's fixed words, even for one minute
    [InlineData(Template.MaxCodeExpirationMinutes, "This code expires in 90 minutes.")]
    public void AnAuthenticationFooterGivesTheCodesExpiry(int? minutes, string? footer)
    {
        Assert.Equal(footer, Template.AuthenticationFooter(minutes));
    }

    [Theory]
    [InlineData("AUTHENTICATION", true, false)]
    [InlineData("authentication", true, false)] // a category is Meta's word in any case
    [InlineData("Marketing", false, true)]
    [InlineData("marketing", false, true)]
    [InlineData("UTILITY", false, false)]
    public void TheCategoryIsReadInAnyCase(string category, bool authentication, bool marketing)
    {
        var template = OtherTemplate(1, "any_case", Template.Approved);
        template.Category = category;

        Assert.Equal((authentication, marketing), (template.IsAuthentication, template.IsMarketing));
    }

    [Theory]
    [InlineData("image", true)]
    [InlineData("video", true)]
    [InlineData("document", true)]
    [InlineData("text", false)]
    [InlineData(null, false)]
    public void OnlyAFileHeaderIsAMediaHeader(string? headerType, bool expected)
    {
        var template = OtherTemplate(1, "with_header", Template.Approved);
        template.HeaderType = headerType;

        Assert.Equal(expected, template.HasMediaHeader);
    }

    private static Template OrderConfirmation(long businessId) => new()
    {
        BusinessId = businessId,
        Name = "order_confirmation",
        DisplayName = "Order Confirmation",
        Content = "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!",
        Category = "UTILITY",
        Language = "en",
        FooterText = "TwaBot - WhatsApp Business",
        Variables = ["customer_name", "order_id", "amount"],
        Status = Template.Approved,
    };

    private static Template OtherTemplate(long businessId, string name, string status) => new()
    {
        BusinessId = businessId,
        Name = name,
        Content = "Hello {{1}}",
        Category = "MARKETING",
        Language = "en",
        Status = status,
    };
}
