using System.Net;
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
            ["id", "name", "display_name", "content", "category", "language", "header_type", "header_text", "footer_text", "variables"],
            template.PropertyNames());
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
    public void PlaceholdersMustBeNumberedWithoutGapsOrAllNamed(string content, bool expected)
    {
        Assert.Equal(expected, Template.PlaceholdersAreWellNumbered(content));
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
