using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// Meta keeps sending webhooks for a number after its business disconnects it: statuses of messages already
/// sent, a customer's STOP. They belong to the business that let the number go last, while no business has it.
/// </summary>
public class FormerNumberTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task AfterADisconnectTheNumbersLateStatusesAndAStopStillReachItsBusiness()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.late-{Guid.NewGuid():N}";
        var messageId = await InsertMessageAsync(businessId, wamid);
        await DisconnectAsync(businessId);

        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [Status(wamid, "delivered", T0)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Text($"wamid.stop-{Guid.NewGuid():N}", "919811119999", "STOP", T0)]));

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", (await db.Messages.SingleAsync(m => m.Id == messageId)).DeliveryStatus);
            Assert.True(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId && s.Phone == "919811119999"));
        });
    }

    [Fact]
    public async Task ANumberAnotherBusinessConnectedSinceIsThatBusinesss()
    {
        var (phoneNumberId, first) = await ConnectedBusinessAsync();
        await DisconnectAsync(first);
        var second = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(second, phoneNumberId);

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Text($"wamid.stop-{Guid.NewGuid():N}", "919811118888", "STOP", T0)]));

        Assert.Equal([second], await SuppressingBusinessesAsync("919811118888"));
    }

    [Fact]
    public async Task ANumberMovedToABusinessThatHadAnotherNumberStillCarriesTheReportsOfMessagesSentFromItBefore()
    {
        // The second business had its own number since before the send: it holds the moved number only since the move.
        var (_, second) = await ConnectedBusinessAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var (phoneNumberId, first) = await ConnectedBusinessAsync();
        var wamid = $"wamid.moved-{Guid.NewGuid():N}";
        var messageId = await factory.InsertMessageAsync(first, wamid, madeNow: true);
        await DisconnectAsync(first);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await factory.ConnectWhatsAppAsync(second, phoneNumberId);

        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [Status(wamid, "delivered", T0)]));

        await factory.WithDbAsync(async db => Assert.Equal("delivered", (await db.Messages.SingleAsync(m => m.Id == messageId)).DeliveryStatus));
    }

    [Fact]
    public async Task LateStatusesOfMessagesSentBeforeTheNumberMovedStillReachThemAndOnlyTheirBusinessSeesThem()
    {
        // A number moved to another client account: Meta goes on reporting the messages the first business sent.
        var (phoneNumberId, first, second, wamid) = await MessageSentBeforeTheNumberMovedAsync(MessageKinds.Text);
        var (firstKey, _) = await factory.CreateApiKeyAsync(first);
        var (secondKey, _) = await factory.CreateApiKeyAsync(second);

        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [Status(wamid, "delivered", T0), Status(wamid, "read", T0.AddMinutes(1))]));

        using var firstClient = factory.CreateApiClient(firstKey);
        var status = await (await firstClient.GetAsync($"/api/v1/message-status/{wamid}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("read", status.GetProperty("delivery_status").GetString());
        using var secondClient = factory.CreateApiClient(secondKey);
        await (await secondClient.GetAsync($"/api/v1/message-status/{wamid}")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
    }

    [Fact]
    public async Task AMarketingRefusalOfAMessageSentBeforeTheNumberMovedStopsMarketingForItsBusinessOnly()
    {
        var (phoneNumberId, first, second, wamid) = await MessageSentBeforeTheNumberMovedAsync(MessageKinds.Template);

        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [Status(wamid, "failed", T0, recipient: "919811114444", errorCode: 131050)]));

        Assert.NotNull((await factory.ContactAsync(first, "919811114444"))?.MarketingOptOutAt);
        Assert.Null(await factory.ContactAsync(second, "919811114444"));
    }

    [Fact]
    public async Task AMarketingRefusalWithoutARecipientIdOfAMessageSentBeforeTheNumberMovedStopsTheNumberItWentTo()
    {
        // Without recipient_id the customer is the refused message's own number: the sender's message, not the new holder's.
        var (phoneNumberId, first, second, wamid) = await MessageSentBeforeTheNumberMovedAsync(MessageKinds.Template);
        var refusal = Status(wamid, "failed", T0, errorCode: 131050);
        refusal.Remove("recipient_id");

        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [refusal]));

        Assert.NotNull((await factory.ContactAsync(first, "919876543210"))?.MarketingOptOutAt);
        Assert.Null(await factory.ContactAsync(second, "919876543210"));
    }

    [Fact]
    public async Task TheBusinessThatLetTheNumberGoLastGetsItsWebhooks()
    {
        var (phoneNumberId, first) = await ConnectedBusinessAsync();
        await DisconnectAsync(first);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(second, phoneNumberId);
        await DisconnectAsync(second);

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Text($"wamid.stop-{Guid.NewGuid():N}", "919811117777", "STOP", T0)]));

        Assert.Equal([second], await SuppressingBusinessesAsync("919811117777"));
    }

    [Fact]
    public async Task ReconnectingTheSameNumberKeepsTheNumberLetGoBefore()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await factory.ConnectWhatsAppAsync(businessId, "777000000000001"); // lets phoneNumberId go
        await factory.ConnectWhatsAppAsync(businessId, "777000000000001"); // the same number with a new access token

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Text($"wamid.stop-{Guid.NewGuid():N}", "919811116666", "STOP", T0)]));

        Assert.Equal([businessId], await SuppressingBusinessesAsync("919811116666"));
    }

    [Fact]
    public async Task ABusinessThatLetTheNumberGoBeforeAnotherConnectedItGetsNoneOfItsWebhooks()
    {
        var (phoneNumberId, first) = await ConnectedBusinessAsync();
        await DisconnectAsync(first);
        var second = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(second, phoneNumberId);
        await factory.ConnectWhatsAppAsync(second, "777000000000002"); // lets phoneNumberId go
        await DisconnectAsync(second); // and then that number, the one it remembers now

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Text($"wamid.stop-{Guid.NewGuid():N}", "919811115555", "STOP", T0)]));

        Assert.Empty(await SuppressingBusinessesAsync("919811115555"));
    }

    [Fact]
    public async Task ABusinessThatConnectsAnotherNumberHasNoWindowOpenedWithItsFormerOne()
    {
        // Meta's 24-hour window is the customer's with one business number: a free-form send from the new number to a
        // customer who wrote to the former one is refused by Meta (131047), so the API refuses it first, as the docs say.
        var tenant = await factory.CreateSendingTenantAsync();
        string former = "";
        await factory.WithDbAsync(async db => former = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);
        var wroteAt = factory.Clock.GetUtcNow();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811114444", at: wroteAt);
        var current = $"7771{Random.Shared.NextInt64(10_000_000_000, 99_999_999_999)}";
        using var admin = factory.CreateAdminClient();
        object connect = new { sandbox = true, phone_number_id = current, waba_id = "102290129340398" };
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", connect)).EnsureSuccessStatusCode();
        Task<HttpResponseMessage> SendTextAsync() => tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811114444", message = "Hello" });

        var afterTheChange = await (await SendTextAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.Equal(wroteAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'.000Z'", System.Globalization.CultureInfo.InvariantCulture),
            afterTheChange.GetProperty("session_window").GetProperty("last_inbound_at").GetString());
        // A customer who goes on writing to the number they know opens no window with the new one either.
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await DeliverAsync(MessagesChange(former, messages: [Text($"wamid.old-number-{Guid.NewGuid():N}", "919811114444", "Hello?", factory.Clock.GetUtcNow())]));
        await (await SendTextAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");

        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811114444"); // to the new number
        await (await SendTextAsync()).ReadJsonAsync(HttpStatusCode.OK);
        // The same number connected again (a new token) keeps its windows.
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", connect)).EnsureSuccessStatusCode();
        await (await SendTextAsync()).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AMessageToTheFormerNumberLeavesTheWindowOpenWithTheNewOne()
    {
        // The customer wrote to the new number, then once more to the one they had saved: Meta's window with the new
        // number is still open (it is per number), so a free-form send from it goes through.
        var (tenant, former) = await TenantThatConnectedAnotherNumberAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811113333"); // to the new number
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await DeliverAsync(MessagesChange(former, messages: [Text($"wamid.old-number-{Guid.NewGuid():N}", "919811113333", "Hello?", factory.Clock.GetUtcNow())]));

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811113333", message = "Hello" })).ReadJsonAsync(HttpStatusCode.OK);
        // Once the new number's window has ended, the message to the former one opens none.
        factory.Clock.Advance(TimeSpan.FromHours(24));
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811113333", message = "Hello" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
    }

    [Fact]
    public async Task AMessageToTheCurrentNumberDeliveredLateOpensItsWindowThoughALaterOneWentToTheFormerNumber()
    {
        // The customer wrote to the number the business sends from (its webhook delayed, as Meta's can be), then to the
        // former one; the late one arrives last. Meta's window with the current number is open, so a free-form send goes.
        var (tenant, former) = await TenantThatConnectedAnotherNumberAsync();
        var wroteToCurrentAt = factory.Clock.GetUtcNow();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await DeliverAsync(MessagesChange(former, messages: [Text($"wamid.old-number-{Guid.NewGuid():N}", "919811117777", "Hello?", factory.Clock.GetUtcNow())]));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811117777", at: wroteToCurrentAt); // to the current number, late

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811117777", message = "Hello" })).ReadJsonAsync(HttpStatusCode.OK);
        // Its window ends 24 hours after the customer wrote it.
        factory.Clock.Advance(TimeSpan.FromHours(24));
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811117777", message = "Hello" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
    }

    [Fact]
    public async Task AWindowWithTheNewNumberUnderOneFormOfABrazilianMobileIsNotHiddenByALaterMessageToTheFormerNumberUnderTheOther()
    {
        // One phone, two contact rows: its wa_id wrote to the new number, its number as written later to the former one.
        var (tenant, former) = await TenantThatConnectedAnotherNumberAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await factory.CustomerWritesAsync(tenant.BusinessId, "551181234567"); // the wa_id, to the new number
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await DeliverAsync(MessagesChange(former, messages: [Text($"wamid.old-number-{Guid.NewGuid():N}", "5511981234567", "Oi?", factory.Clock.GetUtcNow())]));

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "5511981234567", message = "Olá" })).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheLatestWindowWithTheCurrentNumberCountsAcrossAPhonesTwoRows()
    {
        // One phone, two contact rows, both written to the number the business sends from: its wa_id a day and more ago,
        // its number as written a minute ago. The window is the later one's.
        var tenant = await factory.CreateSendingTenantAsync();
        string current = "";
        await factory.WithDbAsync(async db => current = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);
        await factory.CustomerWritesAsync(tenant.BusinessId, "551182345678"); // the wa_id
        factory.Clock.Advance(TimeSpan.FromHours(25));
        await DeliverAsync(MessagesChange(current, messages: [Text($"wamid.written-form-{Guid.NewGuid():N}", "5511982345678", "Oi", factory.Clock.GetUtcNow())]));

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "5511982345678", message = "Olá" })).ReadJsonAsync(HttpStatusCode.OK);
        await factory.WithDbAsync(async db => Assert.Equal(2, await db.Contacts.CountAsync(c => c.BusinessId == tenant.BusinessId && c.LastInboundAt != null)));
    }

    [Fact]
    public async Task AClosedWindowNamesTheCustomersLatestMessageToEitherNumber()
    {
        // A message to the former number opens no window, but it is still the customer's latest message: a later one
        // to the former number moves last_inbound_at on, and so does one written after the new number's window ended.
        var (tenant, former) = await TenantThatConnectedAnotherNumberAsync();
        async Task WritesToFormerAsync() =>
            await DeliverAsync(MessagesChange(former, messages: [Text($"wamid.old-number-{Guid.NewGuid():N}", "919811112222", "Hello?", factory.Clock.GetUtcNow())]));
        async Task<string?> LastInboundAtAsync() =>
            (await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811112222", message = "Hello" }))
                .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED")).GetProperty("session_window").GetProperty("last_inbound_at").GetString();
        string Now() => factory.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'.000Z'", System.Globalization.CultureInfo.InvariantCulture);

        await WritesToFormerAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await WritesToFormerAsync();
        Assert.Equal(Now(), await LastInboundAtAsync());

        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811112222"); // to the new number
        factory.Clock.Advance(TimeSpan.FromHours(25));
        await WritesToFormerAsync();
        Assert.Equal(Now(), await LastInboundAtAsync());
    }

    [Fact]
    public async Task ALateMessageToTheCurrentNumberWhoseWindowHasEndedLeavesTheLaterOneToTheFormerNumberTheLatest()
    {
        // Delivered exactly 24 hours after it was written: its window has ended, so it replaces nothing, and the closed
        // window names the customer's latest message (to the former number), not an earlier one.
        var (tenant, former) = await TenantThatConnectedAnotherNumberAsync();
        var wroteToCurrentAt = factory.Clock.GetUtcNow();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var wroteToFormerAt = factory.Clock.GetUtcNow();
        await DeliverAsync(MessagesChange(former, messages: [Text($"wamid.old-number-{Guid.NewGuid():N}", "919811113333", "Hello?", wroteToFormerAt)]));
        factory.Clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811113333", at: wroteToCurrentAt); // to the current number, late

        var closed = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811113333", message = "Hello" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.Equal(wroteToFormerAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'.000Z'", System.Globalization.CultureInfo.InvariantCulture),
            closed.GetProperty("session_window").GetProperty("last_inbound_at").GetString());
    }

    [Fact]
    public async Task ALateMessageToTheCurrentNumberNeverShortensTheWindowOfALaterOneToTheSameNumber()
    {
        // Only a later message to another number is replaced by a late one to the current number; to the same number,
        // the later message's window stands.
        var tenant = await factory.CreateSendingTenantAsync();
        var wroteEarlierAt = factory.Clock.GetUtcNow();
        factory.Clock.Advance(TimeSpan.FromHours(2));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811115555");
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811115555", at: wroteEarlierAt); // delivered late

        // 23 hours after the later message, 25 after the earlier: the later one's window is open.
        factory.Clock.Advance(TimeSpan.FromHours(23));
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811115555", message = "Hello" })).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ALateMessageToTheCurrentNumberNeverShortensAWindowKeptWithNoNumber()
    {
        // A window from before the number written to was kept (or from a held message) counts for any number: an earlier
        // message delivered after it must not take its place.
        var (tenant, _) = await TenantThatConnectedAnotherNumberAsync();
        var wroteEarlierAt = factory.Clock.GetUtcNow();
        factory.Clock.Advance(TimeSpan.FromHours(2));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811114444");
        await factory.WithDbAsync(async db =>
        {
            var contact = await db.Contacts.SingleAsync(c => c.BusinessId == tenant.BusinessId && c.Phone == "919811114444");
            contact.LastInboundPhoneNumberId = null;
            await db.SaveChangesAsync();
        });
        await factory.CustomerWritesAsync(tenant.BusinessId, "919811114444", at: wroteEarlierAt); // to the current number, late

        // 23 hours after the later message, 25 after the earlier: the later one's window is open.
        factory.Clock.Advance(TimeSpan.FromHours(23));
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919811114444", message = "Hello" })).ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>A sending tenant that moved from its first (sandbox) number to another; the former number is returned.</summary>
    private async Task<(SendingTenant Tenant, string Former)> TenantThatConnectedAnotherNumberAsync()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        string former = "";
        await factory.WithDbAsync(async db => former = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);
        using var admin = factory.CreateAdminClient();
        object connect = new { sandbox = true, phone_number_id = $"7771{Random.Shared.NextInt64(10_000_000_000, 99_999_999_999)}", waba_id = "102290129340398" };
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", connect)).EnsureSuccessStatusCode();
        return (tenant, former);
    }

    private Task<(string PhoneNumberId, long BusinessId)> ConnectedBusinessAsync() => factory.ConnectedBusinessAsync();

    /// <summary>A message the first business sent from the number, which then moved to a second business.</summary>
    private async Task<(string PhoneNumberId, long First, long Second, string Wamid)> MessageSentBeforeTheNumberMovedAsync(string kind)
    {
        var (phoneNumberId, first) = await ConnectedBusinessAsync();
        var wamid = $"wamid.moved-{Guid.NewGuid():N}";
        await factory.InsertMessageAsync(first, wamid, kind, madeNow: true);
        await DisconnectAsync(first);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(second, phoneNumberId);
        return (phoneNumberId, first, second, wamid);
    }

    private async Task DisconnectAsync(long businessId)
    {
        using var admin = factory.CreateAdminClient();
        (await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/whatsapp")).EnsureSuccessStatusCode();
    }

    private async Task DeliverAsync(System.Text.Json.Nodes.JsonObject change)
    {
        (await factory.PostWebhookAsync(Delivery(Entry(change)))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private Task<long> InsertMessageAsync(long businessId, string wamid) => factory.InsertMessageAsync(businessId, wamid);

    private async Task<List<long>> SuppressingBusinessesAsync(string phone)
    {
        List<long> businesses = [];
        await factory.WithDbAsync(async db => businesses = await db.Suppressions.Where(s => s.Phone == phone).Select(s => s.BusinessId).ToListAsync());
        return businesses;
    }
}
