using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>
/// The emulator's webhooks carry business-scoped user ids (BSUIDs) where Meta's do since April 2026: one stable id per
/// account and customer number, in status reports and customer messages, so the sandbox pairs them as real traffic does.
/// </summary>
public class SandboxUserIdTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task AfterASendTheStatusWebhooksPairTheNumbersBsuidSoAStopUnderItAloneRefusesTheNumber()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        const string phone = "919876511201";
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } });
        await send.ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();
        var links = await LinksAsync(tenant.BusinessId);

        // The customer never wrote: only the status reports can have shown the BSUID beside the number.
        var (userId, waId) = Assert.Single(links);
        Assert.Equal(phone, waId);
        Assert.Matches(@"^IN\.[0-9]{20}$", userId);

        using var admin = factory.CreateAdminClient();
        var stop = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = phone, text = "STOP", phone_withheld = true });
        Assert.Equal(userId, (await stop.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("user_id").GetString());
        var again = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-2", "₹1" } });

        await again.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task ACustomerMessageCarriesTheSameBsuidAsTheStatusReports()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        const string phone = "919876511202";
        await factory.CustomerWritesAsync(tenant.BusinessId, phone);
        var afterMessage = await LinksAsync(tenant.BusinessId);
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone, message = "Thanks, on its way" });
        await send.ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();

        // The message showed the BSUID beside the number, and the status reports name the same one.
        var (userId, waId) = Assert.Single(afterMessage);
        Assert.Equal(phone, waId);
        Assert.StartsWith("IN.", userId, StringComparison.Ordinal);
        Assert.Equal(afterMessage, await LinksAsync(tenant.BusinessId));
    }

    [Fact]
    public async Task AFailedReportLeavesTheBsuidOutAsMetaDoesForASendToANumber()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var sender = factory.Services.GetRequiredService<SandboxWebhookSender>();
        var (wabaId, phoneNumberId) = ("", "");
        await factory.WithDbAsync(async db => (wabaId, phoneNumberId) = await db.WhatsAppConnections
            .Where(w => w.BusinessId == tenant.BusinessId).Select(w => ValueTuple.Create(w.WabaId, w.PhoneNumberId)).SingleAsync());
        SandboxSend To(string phone) => new(wabaId, phoneNumberId, "15550000000", Wamid.Outbound(phone), phone, null, "utility", "conversation-1");

        sender.ReportStatuses(To("919876511203"), ("delivered", null, null));
        sender.ReportStatuses(To("919876511204"), ("failed", 131026, "Message undeliverable"));
        await factory.SettleStatusesAsync();

        Assert.Equal(["919876511203"], (await LinksAsync(tenant.BusinessId)).Select(l => l.WaId));
    }

    [Fact]
    public void ABsuidIsStablePerAccountAndNumberAndNamesTheNumbersCountry()
    {
        var first = SandboxUserIds.For("waba-1", "919876543210");

        Assert.Equal(first, SandboxUserIds.For("waba-1", "919876543210"));
        Assert.NotEqual(first, SandboxUserIds.For("waba-2", "919876543210"));
        Assert.NotEqual(first, SandboxUserIds.For("waba-1", "919876543211"));
        Assert.Matches(@"^IN\.[0-9]{20}$", first);
        Assert.True(TwaBot.Api.Webhooks.WebhookPayload.LooksLikeUserId(first));
    }

    [Theory]
    [InlineData("16505551234", "US")]
    [InlineData("551187654321", "BR")]
    [InlineData("447700900123", "GB")]
    [InlineData("971501234567", "AE")]
    [InlineData("2348012345678", "NG")]
    [InlineData("3725123456", "ZZ")] // Estonia: not in the table
    public void TheCountryIsReadFromTheCallingCode(string waId, string country) =>
        Assert.StartsWith(country + ".", SandboxUserIds.For("waba-1", waId), StringComparison.Ordinal);

    private async Task<List<(string UserId, string WaId)>> LinksAsync(long businessId)
    {
        var links = new List<(string, string)>();
        await factory.WithDbAsync(async db => links = [.. (await db.UserIdLinks.AsNoTracking().Where(l => l.BusinessId == businessId)
            .OrderBy(l => l.Id).Select(l => new { l.UserId, l.WaId }).ToListAsync()).Select(l => (l.UserId, l.WaId))]);
        return links;
    }
}
