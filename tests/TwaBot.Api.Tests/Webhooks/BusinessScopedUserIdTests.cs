using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// Meta names a customer who adopted a WhatsApp username by a business-scoped user id (BSUID) and may withhold their
/// number; the business still sends to the number. A webhook that shows both pairs them, and one that names only the
/// BSUID counts for the number: its window, STOP / START and marketing preference.
/// </summary>
public class BusinessScopedUserIdTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task AMessageNamingOnlyTheBsuidOpensTheWindowOfTheNumberAnEarlierMessagePairedItWith()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId,
            messages: [Sent(Text(Wamid(), customer, "Hi", T0), userId)], contacts: [Contact(customer, "Asha", userId)]));

        // Later the customer hides their number: Meta sends the BSUID alone, in contacts[] and the message.
        await DeliverAsync(MessagesChange(phoneNumberId,
            messages: [Withheld(Text(Wamid(), customer, "Still there?", T0.AddHours(30)), userId)], contacts: [Contact(null, "Asha", userId)]));

        var contacts = await ContactsAsync(businessId);
        var contact = Assert.Single(contacts);
        Assert.Equal(customer, contact.Phone);
        Assert.Equal(T0.AddHours(30).UtcDateTime, contact.LastInboundAt);
    }

    [Fact]
    public async Task AStopAndAStartNamingOnlyTheBsuidCountForTheNumberAStatusPairedItWith()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        var status = Status(Wamid(), "delivered", T0, recipient: customer);
        status["recipient_user_id"] = userId;
        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [status]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddMinutes(1)), userId)]));
        Assert.True(await OptedOutAsync(businessId, customer));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "START", T0.AddMinutes(2)), userId)]));
        Assert.False(await OptedOutAsync(businessId, customer));
    }

    [Fact]
    public async Task AMessageWithoutFromIsTheNumberItsOwnContactsPairItWith()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();

        await DeliverAsync(MessagesChange(phoneNumberId,
            messages: [Withheld(Text(Wamid(), customer, "STOP", T0), userId)], contacts: [Contact(customer, "Asha", userId)]));

        Assert.True(await OptedOutAsync(businessId, customer));
    }

    [Fact]
    public async Task AMarketingStopNamingOnlyTheBsuidStopsMarketingForThePairedNumber()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Hi", T0), userId)]));

        var preference = UserPreference(phoneNumberId, customer, "stop", T0.AddMinutes(1));
        preference["value"]!["contacts"] = new JsonArray(Contact(null, "Asha", userId));
        var item = preference["value"]!["user_preferences"]![0]!.AsObject();
        item.Remove("wa_id");
        item["user_id"] = userId;
        await DeliverAsync(preference);

        var contact = Assert.Single(await ContactsAsync(businessId));
        Assert.Equal(customer, contact.Phone);
        Assert.Equal(T0.AddMinutes(1).UtcDateTime, contact.MarketingOptOutAt);
    }

    [Fact]
    public async Task AMessageFromABsuidNoWebhookPairedIsLoggedAndMakesNoContact()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        // Paired at another business: a BSUID belongs to one business portfolio.
        var (otherNumberId, _) = await factory.ConnectedBusinessAsync();
        await DeliverAsync(MessagesChange(otherNumberId, messages: [Sent(Text(Wamid(), customer, "Hi", T0), userId)]));

        await DeliverAsync(MessagesChange(phoneNumberId,
            messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddMinutes(1)), userId)], contacts: [Contact(null, "Asha", userId)]));

        Assert.Empty(await ContactsAsync(businessId));
        await factory.WithDbAsync(async db =>
        {
            Assert.False(await db.InboundMessages.AnyAsync(m => m.BusinessId == businessId));
            Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId));
        });
        Assert.Contains(factory.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Warning
            && e.Properties.TryGetValue("UserId", out var logged) && logged.ToString() == $"\"{userId}\"");
    }

    [Fact]
    public async Task ACustomerNobodyPairedWhoWritesOftenIsLoggedOnceABatch()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();

        await DeliverAsync(MessagesChange(phoneNumberId, messages:
            [.. Enumerable.Range(0, 5).Select(i => Withheld(Text(Wamid(), customer, $"Hello {i}", T0.AddSeconds(i)), userId))]));

        Assert.Single(factory.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Warning
            && e.Properties.TryGetValue("UserId", out var logged) && logged.ToString() == $"\"{userId}\"");
        Assert.Empty(await ContactsAsync(businessId));
    }

    [Fact]
    public async Task AUserIdFarLongerThanMetasIsNotKept()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, _) = NewCustomer();
        var huge = "US." + new string('7', 10_000);

        await DeliverAsync(MessagesChange(phoneNumberId,
            messages: [Sent(Text(Wamid(), customer, "Hi", T0), huge)], contacts: [Contact(customer, "Asha", huge)]));

        await factory.WithDbAsync(async db => Assert.False(await db.UserIdLinks.AnyAsync(l => l.BusinessId == businessId)));
        Assert.Equal(customer, Assert.Single(await ContactsAsync(businessId)).Phone);
    }

    [Fact]
    public async Task ABsuidChangeMovesThePairToTheNewId()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, previous) = NewCustomer();
        var (_, current) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Hi", T0), previous)]));

        var notice = Withheld(SystemMessage(Wamid(), customer, new JsonObject
        {
            ["body"] = "User's business-scoped user ID changed",
            ["type"] = "user_changed_user_id",
            ["user_id"] = current,
            ["previous_user_id"] = previous,
        }, T0.AddMinutes(1)), current);
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [notice]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddMinutes(2)), current)]));

        Assert.True(await OptedOutAsync(businessId, customer));
    }

    [Fact]
    public async Task APairLaterThanABsuidChangeMovesTheNewId()
    {
        // The change notice pairs the new BSUID as of its own time: a later pair with another number is the newer.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, previous) = NewCustomer();
        var (moved, current) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Hi", T0), previous)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(SystemMessage(Wamid(), customer, new JsonObject
        {
            ["body"] = "User's business-scoped user ID changed",
            ["type"] = "user_changed_user_id",
            ["user_id"] = current,
            ["previous_user_id"] = previous,
        }, T0.AddMinutes(1)), current)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), moved, "Hello", T0.AddMinutes(2)), current)]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), moved, "STOP", T0.AddMinutes(3)), current)]));

        Assert.True(await OptedOutAsync(businessId, moved));
        Assert.False(await OptedOutAsync(businessId, customer));
    }

    [Fact]
    public async Task AfterANumberChangeTheNewBsuidIsTheNewNumbers()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, previous) = NewCustomer();
        var (moved, current) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), former, "Hi", T0), previous)]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [SystemMessage(Wamid(), former, new JsonObject
        {
            ["body"] = $"User Asha changed from {former} to {moved}",
            ["wa_id"] = moved,
            ["type"] = "user_changed_number",
            ["user_id"] = current,
            ["previous_user_id"] = previous,
        }, T0.AddMinutes(1))]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), moved, "STOP", T0.AddMinutes(2)), current)]));

        Assert.True(await OptedOutAsync(businessId, moved));
        Assert.False(await OptedOutAsync(businessId, former));
    }

    [Fact]
    public async Task AnOlderPairArrivingLateDoesNotMoveTheBsuid()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        var (stranger, _) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Hi", T0.AddHours(1)), userId)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), stranger, "Hello", T0), userId)])); // redelivered, older

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddHours(2)), userId)]));

        Assert.True(await OptedOutAsync(businessId, customer));
        Assert.False(await OptedOutAsync(businessId, stranger));
    }

    [Fact]
    public async Task APairOfTheSameSecondAsTheKeptOneMovesTheBsuid()
    {
        // Meta's times are whole seconds: of two pairs of one second, the one that came last is all there is to go by.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, userId) = NewCustomer();
        var (customer, _) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), former, "Hi", T0), userId)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Hello", T0), userId)]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddHours(1)), userId)]));

        Assert.True(await OptedOutAsync(businessId, customer));
        Assert.False(await OptedOutAsync(businessId, former));
    }

    [Fact]
    public async Task APairShownTwiceInADeliveryCountsAsOfItsLatestSighting()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        var (stranger, _) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages:
            [Sent(Text(Wamid(), customer, "Hi", T0), userId), Sent(Text(Wamid(), customer, "Anyone?", T0.AddHours(2)), userId)]));
        // Older than the delivery's second message, though newer than its first.
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), stranger, "Hello", T0.AddHours(1)), userId)]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddHours(3)), userId)]));

        Assert.True(await OptedOutAsync(businessId, customer));
        Assert.False(await OptedOutAsync(businessId, stranger));
    }

    [Fact]
    public async Task APairSeenAgainInALaterDeliveryCountsAsOfThatSighting()
    {
        // Meta shows the pair on every message and status; the latest sighting is the pair's time, whichever delivery had it.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        var (stranger, _) = NewCustomer();
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Hi", T0), userId)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), customer, "Anyone?", T0.AddHours(2)), userId)]));
        // Older than the second sighting, though newer than the first.
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), stranger, "Hello", T0.AddHours(1)), userId)]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddHours(3)), userId)]));

        Assert.True(await OptedOutAsync(businessId, customer));
        Assert.False(await OptedOutAsync(businessId, stranger));
    }

    [Fact]
    public async Task AContactsPairCountsAsOfItsDeliverysLatestMessageWhateverTheirOrder()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (customer, userId) = NewCustomer();
        var (stranger, _) = NewCustomer();
        // Only contacts[] pairs them; the delivery's messages come latest first.
        await DeliverAsync(MessagesChange(phoneNumberId, contacts: [Contact(customer, "Asha", userId)], messages:
            [Withheld(Text(Wamid(), customer, "Anyone?", T0.AddHours(2)), userId), Withheld(Text(Wamid(), customer, "Hi", T0), userId)]));
        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Sent(Text(Wamid(), stranger, "Hello", T0.AddHours(1)), userId)]));

        await DeliverAsync(MessagesChange(phoneNumberId, messages: [Withheld(Text(Wamid(), customer, "STOP", T0.AddHours(3)), userId)]));

        Assert.True(await OptedOutAsync(businessId, customer));
        Assert.False(await OptedOutAsync(businessId, stranger));
    }

    [Fact]
    public async Task AMarketingRefusalWhoseRecipientIsABsuidStopsTheNumberTheMessageWentTo()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var wamid = Wamid();
        await factory.InsertMessageAsync(businessId, wamid); // to 919876543210
        var (_, userId) = NewCustomer();

        await DeliverAsync(MessagesChange(phoneNumberId, statuses: [Status(wamid, "failed", T0, recipient: userId, errorCode: 131050)]));

        var contact = Assert.Single(await ContactsAsync(businessId));
        Assert.Equal("919876543210", contact.Phone);
        Assert.NotNull(contact.MarketingOptOutAt);
    }

    private static int _customers;

    private static (string Phone, string UserId) NewCustomer()
    {
        var n = Interlocked.Increment(ref _customers);
        return ($"9198{n:D8}", $"IN.{Random.Shared.NextInt64(1_000_000_000_000, 9_999_999_999_999).ToString(CultureInfo.InvariantCulture)}{n}");
    }

    private static string Wamid() => $"wamid.bsuid-{Guid.NewGuid():N}";

    /// <summary>The message as a username customer's arrives without their number: <c>from_user_id</c> and no <c>from</c>.</summary>
    private static JsonObject Withheld(JsonObject message, string userId)
    {
        message.Remove("from");
        message["from_user_id"] = userId;
        return message;
    }

    /// <summary>The message with both ids, as Meta sends it while the number may be shared.</summary>
    private static JsonObject Sent(JsonObject message, string userId)
    {
        message["from_user_id"] = userId;
        return message;
    }

    private static JsonObject Contact(string? waId, string name, string userId)
    {
        var contact = new JsonObject { ["profile"] = new JsonObject { ["name"] = name }, ["user_id"] = userId };
        if (waId is not null)
        {
            contact["wa_id"] = waId;
        }

        return contact;
    }

    private async Task DeliverAsync(JsonObject change)
    {
        (await factory.PostWebhookAsync(Delivery(Entry(change)))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private async Task<List<Contact>> ContactsAsync(long businessId)
    {
        List<Contact> contacts = [];
        await factory.WithDbAsync(async db => contacts = await db.Contacts.AsNoTracking().Where(c => c.BusinessId == businessId).ToListAsync());
        return contacts;
    }

    private async Task<bool> OptedOutAsync(long businessId, string phone)
    {
        var optedOut = false;
        await factory.WithDbAsync(async db => optedOut = await db.Suppressions.AnyAsync(
            s => s.BusinessId == businessId && s.Phone == phone && s.State == SuppressionStates.OptedOut));
        return optedOut;
    }
}
