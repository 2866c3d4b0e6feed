using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Templates;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>What Meta's template status and category events do to what /templates lists, and which of them are stale.</summary>
public class TemplateWebhookTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Theory]
    [InlineData("PENDING", "APPROVED", true)]
    [InlineData("APPROVED", "PAUSED", false)]
    [InlineData("PAUSED", "REINSTATED", true)]
    [InlineData("APPROVED", "", true)]
    [InlineData("APPROVED", "LOCKED", true)]           // about editing, not sending
    [InlineData("APPROVED", "UNLOCKED", true)]
    [InlineData("APPROVED", "LIMIT_EXCEEDED", true)]   // about the account's template count
    [InlineData("ARCHIVED", "UNARCHIVED", true)]
    [InlineData("ARCHIVED", " unarchived ", true)]   // read whatever its letter case and spaces
    [InlineData("APPROVED", "FLAGGED", true)]          // negative feedback: still sendable until Meta pauses it
    [InlineData("APPROVED", "SOMETHING_NEW", true)]    // an event this server does not know changes nothing
    [InlineData("APPROVED", "PENDING_DELETION", false)]
    [InlineData("APPROVED", "PENDING", false)]
    [InlineData("APPROVED", "REJECTED", false)]
    [InlineData("APPROVED", "DISABLED", false)]
    [InlineData("APPROVED", "IN_APPEAL", false)]
    [InlineData("APPROVED", "DELETED", false)]
    [InlineData("APPROVED", "ARCHIVED", false)]
    public async Task ATemplateStatusUpdateChangesWhatTemplatesLists(string before, string templateEvent, bool listedAfter)
    {
        var (wabaId, client) = await SpringSaleTemplateAsync(before);
        var listed = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);

        await factory.PostWebhookAsync(Delivery(Entry(wabaId, TemplateStatus(templateEvent, "spring_sale", "en_US", 594425479261596))));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(before == "APPROVED" ? 1 : 0, listed.GetProperty("templates").GetArrayLength());
        Assert.Equal(listedAfter ? ["spring_sale"] : [],
            after.GetProperty("templates").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("REINSTATED", 0, "PAUSED", -600, true)]  // a late, older PAUSED is stale
    [InlineData("PAUSED", 0, "REINSTATED", 600, true)]   // in order
    [InlineData("REINSTATED", 0, "PAUSED", 600, false)]  // a newer PAUSED counts
    public async Task AnOlderTemplateEventArrivingLaterChangesNothing(string first, int firstAt, string then, int thenAt, bool listedAfter)
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");

        foreach (var (templateEvent, offset) in new[] { (first, firstAt), (then, thenAt) })
        {
            var entry = Entry(wabaId, TemplateStatus(templateEvent, "spring_sale", "en_US", 594425479261596));
            entry["time"] = T0.AddSeconds(offset).ToUnixTimeSeconds();
            await factory.PostWebhookAsync(Delivery(entry));
            await factory.ApplyWebhooksAsync();
        }

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(listedAfter ? 1 : 0, after.GetProperty("templates").GetArrayLength());
    }

    [Fact]
    public async Task ATemplateEventFromTheFutureDoesNotOutrankLaterEvents()
    {
        // Dated a year ahead, a PAUSED used to make every later event (and sync) look older, so the template stayed paused.
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");
        var future = Entry(wabaId, TemplateStatus("PAUSED", "spring_sale", "en_US", 594425479261596));
        future["time"] = factory.Clock.GetUtcNow().AddYears(1).ToUnixTimeSeconds();
        var later = Entry(wabaId, TemplateStatus("REINSTATED", "spring_sale", "en_US", 594425479261596));
        later["time"] = factory.Clock.GetUtcNow().ToUnixTimeSeconds();

        await factory.PostWebhookAsync(Delivery(future));
        await factory.ApplyWebhooksAsync();
        await factory.PostWebhookAsync(Delivery(later));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(1, after.GetProperty("templates").GetArrayLength());
    }

    [Fact]
    public async Task AnEntryTimeNoCalendarHoldsLeavesTheTemplateEventToApplyAsItComes()
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("PAUSED");
        var entry = Entry(wabaId, TemplateStatus("REINSTATED", "spring_sale", "en_US", 594425479261596));
        entry["time"] = 99_999_999_999_999; // milliseconds far beyond year 9999 as seconds

        await factory.PostWebhookAsync(Delivery(entry));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(1, after.GetProperty("templates").GetArrayLength()); // an unreadable delivery would have left it paused
    }

    [Fact]
    public async Task AnEventForAnotherTemplateIdOfTheSameNameChangesNothing()
    {
        // A late report about a deleted predecessor of the same name and language must not pause its successor.
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");

        await factory.PostWebhookAsync(Delivery(Entry(wabaId, TemplateStatus("PENDING_DELETION", "spring_sale", "en_US", 999999999999))));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(1, after.GetProperty("templates").GetArrayLength());
    }

    [Theory]
    [InlineData("UTILITY", 600, "MARKETING", 0, "UTILITY")]    // a late, older change is stale
    [InlineData("MARKETING", 0, "UTILITY", 600, "UTILITY")]    // in order
    [InlineData("UTILITY", 0, "MARKETING", 600, "MARKETING")]
    public async Task AnOlderCategoryChangeArrivingLaterChangesNothing(string first, int firstAt, string then, int thenAt, string listed)
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");

        foreach (var (category, offset) in new[] { (first, firstAt), (then, thenAt) })
        {
            var entry = Entry(wabaId, new JsonObject
            {
                ["field"] = "template_category_update",
                ["value"] = new JsonObject
                {
                    ["message_template_id"] = 594425479261596, ["message_template_name"] = "spring_sale", ["message_template_language"] = "en_US",
                    ["new_category"] = category,
                },
            });
            entry["time"] = T0.AddSeconds(offset).ToUnixTimeSeconds();
            await factory.PostWebhookAsync(Delivery(entry));
            await factory.ApplyWebhooksAsync();
        }

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(listed, Assert.Single(after.GetProperty("templates").EnumerateArray()).GetProperty("category").GetString());
    }

    [Theory]
    [InlineData("UTILITY")]
    [InlineData(" utility ")] // Meta writes categories in capitals; one written otherwise is the same category
    public async Task ACategoryChangeIsWhatTemplatesListsAfterwards(string newCategory)
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");

        await factory.PostWebhookAsync(Delivery(Entry(wabaId, new JsonObject
        {
            ["field"] = "template_category_update",
            ["value"] = new JsonObject
            {
                ["message_template_id"] = 594425479261596, ["message_template_name"] = "spring_sale", ["message_template_language"] = "en_US",
                ["previous_category"] = "MARKETING", ["new_category"] = newCategory,
            },
        })));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal("UTILITY", Assert.Single(after.GetProperty("templates").EnumerateArray()).GetProperty("category").GetString());
    }

    [Fact]
    public async Task AStaleStatusEventsCategoryIsStaleToo()
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");
        var newer = Entry(wabaId, TemplateStatus("APPROVED", "spring_sale", "en_US", 594425479261596));
        newer["time"] = T0.AddDays(1).ToUnixTimeSeconds();
        var older = Entry(wabaId, TemplateStatus("PAUSED", "spring_sale", "en_US", 594425479261596));
        older["time"] = T0.ToUnixTimeSeconds();
        older["changes"]![0]!["value"]!["message_template_category"] = "UTILITY";

        foreach (var entry in new[] { newer, older })
        {
            await factory.PostWebhookAsync(Delivery(entry));
            await factory.ApplyWebhooksAsync();
        }

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal("MARKETING", Assert.Single(after.GetProperty("templates").EnumerateArray()).GetProperty("category").GetString());
    }

    [Fact]
    public async Task AnEventWithoutATemplateIdChangesOnlyTheTemplateOfItsNameAndLanguage()
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");
        await factory.WithDbAsync(async db =>
        {
            var businessId = await db.WhatsAppConnections.Where(w => w.WabaId == wabaId).Select(w => w.BusinessId).SingleAsync();
            db.Templates.Add(new Template
            {
                BusinessId = businessId, Name = "spring_sale", Language = "es", Content = "Hola {{1}}", Category = "MARKETING",
                Status = Template.Approved, MetaTemplateId = "594425479261597",
            });
            await db.SaveChangesAsync();
        });

        await factory.PostWebhookAsync(Delivery(Entry(wabaId, TemplateStatusWithoutId("PAUSED", "spring_sale", "en_US"))));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(["es"], after.GetProperty("templates").EnumerateArray().Select(t => t.GetProperty("language").GetString()));
    }

    [Fact]
    public async Task AnEventWithoutATimeKeepsTheLatestTimeThatMakesOlderEventsStale()
    {
        var (wabaId, client) = await SpringSaleTemplateAsync("APPROVED");
        var timed = Entry(wabaId, TemplateStatus("APPROVED", "spring_sale", "en_US", 594425479261596));
        timed["time"] = T0.AddSeconds(600).ToUnixTimeSeconds();
        var untimed = Entry(wabaId, TemplateStatus("REINSTATED", "spring_sale", "en_US", 594425479261596));
        var stale = Entry(wabaId, TemplateStatus("PAUSED", "spring_sale", "en_US", 594425479261596));
        stale["time"] = T0.ToUnixTimeSeconds();

        foreach (var entry in new[] { timed, untimed, stale })
        {
            await factory.PostWebhookAsync(Delivery(entry));
            await factory.ApplyWebhooksAsync();
        }

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(1, after.GetProperty("templates").GetArrayLength());
    }

    private static JsonObject TemplateStatusWithoutId(string templateEvent, string name, string language)
    {
        var change = TemplateStatus(templateEvent, name, language, 0);
        change["value"]!.AsObject().Remove("message_template_id");
        return change;
    }

    [Fact]
    public async Task AnEventWithoutATemplateIdChangesOnlyItsOwnAccountsTemplate()
    {
        // Another business, on another account, may have a template of the same name and language.
        var (wabaId, _) = await SpringSaleTemplateAsync("APPROVED");
        var (_, otherClient) = await SpringSaleTemplateAsync("APPROVED");

        await factory.PostWebhookAsync(Delivery(Entry(wabaId, TemplateStatusWithoutId("PAUSED", "spring_sale", "en_US"))));
        await factory.ApplyWebhooksAsync();

        var others = await (await otherClient.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(1, others.GetProperty("templates").GetArrayLength());
    }

    [Fact]
    public async Task AnEventForATemplateWhoseIdIsNotKnownYetChangesOnlyItsLanguage()
    {
        // Rows still awaiting Meta's answer to their create have no id: the event's name and language find them.
        var (wabaId, client) = await SpringSaleTemplateAsync("PENDING");
        await factory.WithDbAsync(async db =>
        {
            var businessId = await db.WhatsAppConnections.Where(w => w.WabaId == wabaId).Select(w => w.BusinessId).SingleAsync();
            await db.Templates.Where(t => t.BusinessId == businessId).ExecuteUpdateAsync(set => set.SetProperty(t => t.MetaTemplateId, (string?)null));
            db.Templates.Add(new Template
            {
                BusinessId = businessId, Name = "spring_sale", Language = "es", Content = "Hola {{1}}", Category = "MARKETING", Status = "PENDING",
            });
            await db.SaveChangesAsync();
        });

        await factory.PostWebhookAsync(Delivery(Entry(wabaId, TemplateStatus("APPROVED", "spring_sale", "en_US", 594425479261596))));
        await factory.ApplyWebhooksAsync();

        var after = await (await client.GetAsync("/api/v1/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal(["en_US"], after.GetProperty("templates").EnumerateArray().Select(t => t.GetProperty("language").GetString()));
    }

    /// <summary>A tenant whose WABA (returned) has the template spring_sale (en_US) in the given status.</summary>
    private async Task<(string WabaId, HttpClient Client)> SpringSaleTemplateAsync(string status)
    {
        var (businessId, client, _) = await factory.CreateTenantAsync();
        var wabaId = $"77{Random.Shared.NextInt64(1_000_000_000, 9_999_999_999)}";
        await factory.WithDbAsync(async db =>
        {
            db.WhatsAppConnections.Add(new TwaBot.Api.Businesses.WhatsAppConnection
            {
                BusinessId = businessId, PhoneNumberId = wabaId + "1", WabaId = wabaId, ProtectedAccessToken = "t",
            });
            db.Templates.Add(new Template
            {
                BusinessId = businessId, Name = "spring_sale", Language = "en_US", Content = "Hi {{1}}", Category = "MARKETING",
                Status = status, MetaTemplateId = "594425479261596",
            });
            await db.SaveChangesAsync();
        });
        return (wabaId, client);
    }
}
