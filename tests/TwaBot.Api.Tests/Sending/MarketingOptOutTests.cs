using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// A customer who stopped marketing messages in WhatsApp (Meta's user_preferences, or Meta's 131050 refusal of a
/// marketing template) gets no MARKETING template until they resume; other messages still go (Meta's own rule).
/// </summary>
public class MarketingOptOutTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Customer = "919876543210";

    private async Task<(SendingTenant Tenant, string PhoneNumberId)> TenantWithMarketingTemplateAsync()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "spring_sale", language = "en", category = "MARKETING", body = "Hi {{1}}, our spring sale is on." })).EnsureSuccessStatusCode();
        var phoneNumberId = "";
        await factory.WithDbAsync(async db => phoneNumberId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);
        return (tenant, phoneNumberId);
    }

    private static Task<HttpResponseMessage> SendSaleAsync(SendingTenant tenant, string phone = Customer) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone, template_name = "spring_sale", body_params = new[] { "Rahul" } });

    private async Task PreferenceAsync(string phoneNumberId, string value, DateTimeOffset at)
    {
        (await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, Customer, value, at))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private static async Task AssertStoppedMarketingAsync(HttpResponseMessage response)
    {
        var refused = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
        Assert.Equal($"Phone {Customer} is suppressed (marketing_opted_out). Message not sent to protect your quality rating.", refused.GetProperty("error").GetString());
        Assert.Contains("Utility and authentication templates still reach them", refused.GetProperty("hint").GetString(), StringComparison.Ordinal);
        // The docs' SUPPRESSED body, its hint after it.
        Assert.Equal(["success", "error", "error_code", "suppression_state", "hint"], refused.PropertyNames());
    }

    [Fact]
    public async Task AMarketingStopRefusesMarketingTemplatesOnlyUntilTheCustomerResumes()
    {
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        var now = factory.Clock.GetUtcNow();
        await PreferenceAsync(phoneNumberId, "stop", now.AddMinutes(-10));

        var sale = await SendSaleAsync(tenant);
        var utility = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = Customer, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } });

        await AssertStoppedMarketingAsync(sale);
        await utility.ReadJsonAsync(HttpStatusCode.OK);
        await factory.WithDbAsync(async db => Assert.Equal(1, await db.Messages.CountAsync(m => m.BusinessId == tenant.BusinessId)));

        await PreferenceAsync(phoneNumberId, "resume", now.AddMinutes(-5));
        await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AMarketingStopToOneBusinessLeavesAnothersMarketingToTheNumber()
    {
        // The customer stopped one business's promotions, not every business's on this server.
        var (stoppedWith, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        var (other, _) = await TenantWithMarketingTemplateAsync();
        await PreferenceAsync(phoneNumberId, "stop", factory.Clock.GetUtcNow().AddMinutes(-10));

        await AssertStoppedMarketingAsync(await SendSaleAsync(stoppedWith));
        await (await SendSaleAsync(other)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TappingStopPromotionsStopsMarketingTemplatesOnlyAndResumePromotionsLiftsIt()
    {
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        var now = factory.Clock.GetUtcNow();
        // The tap on the opt-out button of a marketing template Meta delivered: a quick-reply button message.
        var tap = Text($"wamid.tap-{Guid.NewGuid():N}", Customer, "", now.AddMinutes(-10));
        tap["type"] = "button";
        tap.Remove("text");
        tap["button"] = new System.Text.Json.Nodes.JsonObject { ["payload"] = "Stop promotions", ["text"] = "Stop promotions" };
        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [tap]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await AssertStoppedMarketingAsync(await SendSaleAsync(tenant));
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = Customer, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } })).ReadJsonAsync(HttpStatusCode.OK);
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Customer, message = "Your order shipped." })).ReadJsonAsync(HttpStatusCode.OK);

        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text($"wamid.resume-{Guid.NewGuid():N}", Customer, "Resume promotions", now.AddMinutes(-5))]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
        await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task MetasRefusalForAStoppedCustomerStopsTheNextMarketingSendAndALaterResumeLiftsIt()
    {
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        var sent = await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
        var refusedAt = factory.Clock.GetUtcNow();

        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
            [Status(sent.GetProperty("message_id").GetString()!, "failed", refusedAt, Customer, errorCode: 131050, errorTitle: "User has stopped marketing messages")])))))
            .EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await AssertStoppedMarketingAsync(await SendSaleAsync(tenant));
        await PreferenceAsync(phoneNumberId, "resume", refusedAt.AddMinutes(-1)); // older than the refusal: changes nothing
        await AssertStoppedMarketingAsync(await SendSaleAsync(tenant));
        await PreferenceAsync(phoneNumberId, "resume", refusedAt.AddMinutes(1));
        await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task MetasRefusalReportedAfterALaterResumeCountsAsOfItsOwnTimeAndStopsNothing()
    {
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        var sent = await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
        var refusedAt = factory.Clock.GetUtcNow();
        await PreferenceAsync(phoneNumberId, "resume", refusedAt.AddMinutes(1));
        factory.Clock.Advance(TimeSpan.FromMinutes(10)); // Meta reports the refusal late

        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
            [Status(sent.GetProperty("message_id").GetString()!, "failed", refusedAt, Customer, errorCode: 131050, errorTitle: "User has stopped marketing messages")])))))
            .EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AMarketingRefusalWithoutARecipientIdStopsTheNumberTheMessageWentTo()
    {
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        var sent = await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
        var refusal = Status(sent.GetProperty("message_id").GetString()!, "failed", factory.Clock.GetUtcNow(), errorCode: 131050, errorTitle: "User has stopped marketing messages");
        refusal.Remove("recipient_id");

        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [refusal]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await AssertStoppedMarketingAsync(await SendSaleAsync(tenant));
    }

    [Fact]
    public async Task ARefusalWithoutARecipientIdStopsOnlyTheNumberOfTheRefusedMessage()
    {
        // The business's earlier message to another customer is not the one Meta refused: that customer still gets sales.
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        const string other = "919811112222";
        await (await SendSaleAsync(tenant, other)).ReadJsonAsync(HttpStatusCode.OK);
        var sent = await (await SendSaleAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
        var refusal = Status(sent.GetProperty("message_id").GetString()!, "failed", factory.Clock.GetUtcNow(), errorCode: 131050, errorTitle: "User has stopped marketing messages");
        refusal.Remove("recipient_id");

        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [refusal]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await AssertStoppedMarketingAsync(await SendSaleAsync(tenant));
        await (await SendSaleAsync(tenant, other)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ABrazilianNumberWithItsNinthDigitIsStoppedUnderTheWaIdMetaGaveIt()
    {
        // The emulator, like Meta for many Brazilian mobiles, answers a wa_id without the ninth digit; its 131050 names that wa_id.
        var (tenant, _) = await TenantWithMarketingTemplateAsync();

        await (await SendSaleAsync(tenant, "5511987650050")).ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();

        foreach (var phone in new[] { "5511987650050", "551187650050" })
        {
            var refused = await (await SendSaleAsync(tenant, phone)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
            Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
        }
    }

    [Fact]
    public async Task ABrazilianWaIdsMarketingStopBeforeAnySendStopsMarketingToTheNumber()
    {
        // The customer stopped marketing from the wa_id without the ninth digit before the business ever sent to the number.
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        (await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "551187650123", "stop", factory.Clock.GetUtcNow()))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        var refused = await (await SendSaleAsync(tenant, "5511987650123")).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task AMarketingStopFromAWaIdWithTheNinthDigitStopsMarketingToTheNumberWithoutIt()
    {
        // Meta gives many Brazilian mobiles a wa_id with the ninth digit; a CRM may still hold the number from before it.
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        (await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "5511987650124", "stop", factory.Clock.GetUtcNow()))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        var refused = await (await SendSaleAsync(tenant, "551187650124")).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task MetasRefusalNamingABrazilianWaIdStopsMarketingToTheNumberNoSendHereWasAnsweredFor()
    {
        // The send's answer (which names the wa_id) was lost, or another system sent: only the refusal names the customer.
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
            [Status("wamid.refused-brazilian-wa-id", "failed", factory.Clock.GetUtcNow(), recipient: "551187650126",
                errorCode: 131050, errorTitle: "User has stopped marketing messages")]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        var refused = await (await SendSaleAsync(tenant, "5511987650126")).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task AnOptOutOfTheWholeListIsReportedBeforeAMarketingStop()
    {
        var (tenant, phoneNumberId) = await TenantWithMarketingTemplateAsync();
        await PreferenceAsync(phoneNumberId, "stop", factory.Clock.GetUtcNow());
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions", new { phone = Customer, state = "blocked" })).EnsureSuccessStatusCode();

        var refused = await (await SendSaleAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        Assert.Equal("blocked", refused.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task TheSandboxsNumberEndingIn0050IsACustomerWhoStoppedMarketing()
    {
        var (tenant, _) = await TenantWithMarketingTemplateAsync();
        const string stopped = "919876500050";

        var sent = await (await SendSaleAsync(tenant, stopped)).ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();

        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("failed", status.GetProperty("delivery_status").GetString());
        Assert.Equal("The customer has stopped marketing messages from this business.", status.GetProperty("failure_reason").GetString());
        var refused = await (await SendSaleAsync(tenant, stopped)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("marketing_opted_out", refused.GetProperty("suppression_state").GetString());
        var utility = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = stopped, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } })).ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();
        var utilityStatus = await (await tenant.Client.GetAsync($"/api/v1/message-status/{utility.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("read", utilityStatus.GetProperty("delivery_status").GetString());
    }
}
