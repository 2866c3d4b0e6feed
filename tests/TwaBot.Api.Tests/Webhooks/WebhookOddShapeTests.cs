using System.Net;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// Signed deliveries whose parts have shapes Meta does not send: answered 200 (Meta would otherwise redeliver them for
/// days), and none may change what is stored, fail the processor's pass, or hold up a later delivery. Its own fixture:
/// one of them is kept aside with its error, which the variant tests' "everything applied" would count.
/// </summary>
public class WebhookOddShapeTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);
    private const string Customer = "919812340000";

    /// <summary>
    /// The <c>value</c> of a messages change whose parts have shapes Meta does not send ({W}: our message's wamid, {C}: the
    /// customer, {T}: a time after everything stored), and whether the customer's window moves to {T}.
    /// </summary>
    public static TheoryData<string, string, bool> OddValues => new()
    {
        { "deeply nested", $$"""{"messages":[{"from":"{C}","id":"wamid.odd-{N}","timestamp":"{T}","type":"text","text":{"body":"STOP"},"x":{{new string('[', 300)}}{{new string(']', 300)}}}]}""", false },
        { "numbers for strings", """{"messages":[{"from":"{C}","id":12345,"timestamp":"{T}","type":"text","text":{"body":"STOP"}}],"statuses":[{"id":"{W}","status":3,"timestamp":"{T}"}]}""", false },
        { "objects for arrays", """{"contacts":{"wa_id":"{C}"},"messages":{"from":"{C}","id":"wamid.odd-{N}","timestamp":"{T}","type":"text","text":{"body":"STOP"}},"statuses":{"id":"{W}","status":"failed","timestamp":"{T}"}}""", false },
        { "a string for the text object", """{"messages":[{"from":"{C}","id":"wamid.odd-{N}","timestamp":"{T}","type":"text","text":"STOP"}]}""", true },
        { "huge text", """{"messages":[{"from":"{C}","id":"wamid.odd-{N}","timestamp":"{T}","type":"text","text":{"body":"{HUGE}"}}]}""", true },
        { "nulls and scalars in arrays", """{"messages":[null,1,"x",[],{}],"statuses":[null,{"id":null,"status":null},{"id":"{W}","status":"failed","timestamp":{},"errors":{"code":131050}}]}""", false },
        { "odd error shapes", """{"statuses":[{"id":"{W}","status":"failed","timestamp":"{T}","recipient_id":"{C}","errors":[{"code":"131050","title":5,"error_data":[1]}]}],"errors":{"code":130429}}""", false },
    };

    [Theory]
    [MemberData(nameof(OddValues))]
    public async Task AnOddlyShapedDeliveryIsAnswered200ChangesNothingStoredAndHoldsUpNoLaterOne(string name, string value, bool opensWindow)
    {
        Assert.NotEmpty(name);
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var wamid = $"wamid.ours-{Guid.NewGuid():N}";
        var messageId = await factory.InsertMessageAsync(businessId, wamid);
        var (t1, t3) = (T0.AddHours(1), T0.AddHours(3));
        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status(wamid, "read", T0)],
            messages: [Text($"wamid.hi-{Guid.NewGuid():N}", Customer, "Hi", t1)], contacts: [Contact(Customer, "Asha")]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
        // Written out, not built as a JsonNode: a node could not hold the deepest of them.
        var odd = $$"""{"object":"whatsapp_business_account","entry":[{"id":"{{WabaId}}","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"{{phoneNumberId}}"},"""
            + value[1..]
                .Replace("{HUGE}", string.Concat(Enumerable.Repeat("STOP ", 500_000)), StringComparison.Ordinal)
                .Replace("{W}", wamid, StringComparison.Ordinal).Replace("{C}", Customer, StringComparison.Ordinal)
                .Replace("{N}", Guid.NewGuid().ToString("N"), StringComparison.Ordinal)
                .Replace("{T}", t3.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            + "}]}]}";

        var response = await factory.PostWebhookAsync(odd);
        var after = $"wamid.after-{Guid.NewGuid():N}";
        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [Text(after, "919812349999", "STOP", t3)]))));
        await factory.ApplyWebhooksAsync(); // throws if the pass fails

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await factory.WithDbAsync(async db =>
        {
            Assert.Equal("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            var contact = await db.Contacts.SingleAsync(c => c.BusinessId == businessId && c.Phone == Customer);
            Assert.Equal((opensWindow ? t3 : t1).UtcDateTime, contact.LastInboundAt);
            Assert.Null(contact.MarketingOptOutAt);
            Assert.Equal(["919812349999"], await db.Suppressions.Where(s => s.BusinessId == businessId).Select(s => s.Phone).ToListAsync());
            Assert.True(await db.InboundMessages.AnyAsync(m => m.Wamid == after));
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null && e.LastError == null)); // none waiting
        });
    }
}
