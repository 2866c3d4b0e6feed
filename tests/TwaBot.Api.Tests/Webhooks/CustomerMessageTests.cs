using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// What a customer's messages and Meta's notices about them do: the 24-hour window, STOP and START, Meta's marketing
/// preference, and a changed number.
/// </summary>
public class CustomerMessageTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task AnInboundMessageOpensTheWindowAtItsOwnTimeAndAnOlderOneNeverMovesItBack()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text("wamid.in-new", "919833334444", "Where is my order?", T0));
        await DeliverMessagesAsync(phoneNumberId, Text("wamid.in-old", "919833334444", "Hello?", T0.AddHours(-3)));

        var contact = await factory.ContactAsync(businessId, "919833334444");
        Assert.Equal(T0.UtcDateTime, contact?.LastInboundAt);
        Assert.Equal("Sheena Nelson", contact?.Name);
    }

    [Fact]
    public async Task AnInboundMessageRedeliveredInADeliveryOfAnotherShapeIsKeptOnceAndAppliedWithoutError()
    {
        // Meta may send a message again in another body (here without the contact it came with): the body's hash
        // does not match the first delivery's, the message's wamid does.
        var (phoneNumberId, _) = await factory.ConnectedBusinessAsync();
        await DeliverMessagesAsync(phoneNumberId, Text("wamid.in-twice", "919833335555", "Hi", T0));
        var again = System.Text.Encoding.UTF8.GetBytes(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.in-twice", "919833335555", "Hi", T0)]))).ToJsonString());

        (await factory.PostWebhookAsync(again)).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        var hash = System.Security.Cryptography.SHA256.HashData(again);
        await factory.WithDbAsync(async db =>
        {
            Assert.Equal(1, await db.InboundMessages.CountAsync(m => m.Wamid == "wamid.in-twice"));
            var redelivery = await db.WebhookEvents.SingleAsync(e => e.BodySha256 == hash);
            Assert.Equal((true, null), (redelivery.AppliedAt is not null, redelivery.LastError));
        });
    }

    [Theory]
    [InlineData("STOP", true)]
    [InlineData("stop", true)]
    [InlineData("  Unsubscribe ", true)]
    [InlineData("stop it", false)]
    [InlineData("please STOP", false)]
    [InlineData("STOP\u0964", true)] // ended with a Hindi keyboard's full stop
    public async Task StopAndUnsubscribeOptOutAsAWholeMessage(string text, bool optedOut)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", "919855556666", text, T0));

        var state = await SuppressionStateAsync(businessId, "919855556666");
        Assert.Equal(optedOut ? SuppressionStates.OptedOut : null, state);
    }

    [Theory]
    [InlineData("START")]
    [InlineData("subscribe")]
    public async Task StartAndSubscribeOptBackIn(string text)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.optout-{Guid.NewGuid():N}", "919877778888", "STOP", T0));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, "919877778888")); // what the keyword must lift

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.optin-{Guid.NewGuid():N}", "919877778888", text, T0.AddMinutes(1)));

        Assert.Null(await SuppressionStateAsync(businessId, "919877778888"));
    }

    [Theory]
    [InlineData("STOP", 0, "START", 1, null)]                       // in order
    [InlineData("START", 1, "STOP", 0, null)]                       // a late STOP does not undo the later START
    [InlineData("START", 0, "UNSUBSCRIBE", 1, SuppressionStates.OptedOut)]
    [InlineData("STOP", 1, "subscribe", 0, SuppressionStates.OptedOut)] // a late START does not undo the later STOP
    [InlineData("STOP", 0, "STOP", -1, SuppressionStates.OptedOut)]
    [InlineData("STOP", 0, "START", 0, null)]                       // the same second (Meta's unit): the order they came in
    public async Task TheCustomersLatestKeywordDecidesWhateverTheArrivalOrder(
        string first, int firstMinute, string second, int secondMinute, string? expected)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.kw1-{Guid.NewGuid():N}", "919866667777", first, T0.AddMinutes(firstMinute)));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.kw2-{Guid.NewGuid():N}", "919866667777", second, T0.AddMinutes(secondMinute)));

        Assert.Equal(expected, await SuppressionStateAsync(businessId, "919866667777"));
        // The window still counts from the latest message, whichever keyword it carried.
        Assert.Equal(T0.AddMinutes(Math.Max(firstMinute, secondMinute)).UtcDateTime, (await factory.ContactAsync(businessId, "919866667777"))?.LastInboundAt);
    }

    [Fact]
    public async Task AStartLiftsOnlyItsOwnCustomersOptOut()
    {
        // Another customer's STOP stands: START opts the writer back in, nobody else.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-a-{Guid.NewGuid():N}", "919811110001", "STOP", T0));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-b-{Guid.NewGuid():N}", "919811110002", "STOP", T0));

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.start-a-{Guid.NewGuid():N}", "919811110001", "START", T0.AddMinutes(1)));

        Assert.Null(await SuppressionStateAsync(businessId, "919811110001"));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, "919811110002"));
    }

    [Fact]
    public async Task StartNeverLiftsABlock()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        await factory.WithDbAsync(async db =>
        {
            db.Suppressions.Add(new Suppression { BusinessId = businessId, Phone = "919800001111", State = SuppressionStates.Blocked });
            await db.SaveChangesAsync();
        });

        await DeliverMessagesAsync(phoneNumberId, Text("wamid.start-blocked", "919800001111", "START", T0));

        Assert.Equal(SuppressionStates.Blocked, await SuppressionStateAsync(businessId, "919800001111"));
    }

    [Theory]
    [InlineData(SuppressionStates.Blocked, SuppressionStates.Blocked)]             // a STOP never softens a block
    [InlineData(SuppressionStates.Undeliverable, SuppressionStates.OptedOut)]      // the customer's own word is recorded
    public async Task AStopOnANumberAlreadySuppressedKeepsABlockAndOtherwiseRecordsTheOptOut(string before, string after)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var customer = AnyNumber("9198");
        await factory.WithDbAsync(async db =>
        {
            db.Suppressions.Add(new Suppression { BusinessId = businessId, Phone = customer, State = before, Reason = "Set by the operator" });
            await db.SaveChangesAsync();
        });

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", customer, "STOP", T0));

        Assert.Equal(after, await SuppressionStateAsync(businessId, customer));
        string? reason = null;
        await factory.WithDbAsync(async db => reason = await db.Suppressions.Where(s => s.BusinessId == businessId && s.Phone == customer).Select(s => s.Reason).SingleAsync());
        Assert.Equal(after == SuppressionStates.Blocked ? "Set by the operator" : "Customer sent STOP", reason); // the reason goes with the state
    }

    [Fact]
    public async Task MetasMarketingOptOutIsRecordedAndResumeClearsIt()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505551234", "stop", T0))));
        await factory.ApplyWebhooksAsync();
        var stopped = (await factory.ContactAsync(businessId, "16505551234"))?.MarketingOptOutAt;
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505551234", "resume", T0.AddDays(1)))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(T0.UtcDateTime, stopped);
        Assert.Null((await factory.ContactAsync(businessId, "16505551234"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task AMarketingPreferenceOtherThanStopOrResumeLiftsNoStop()
    {
        // Meta also reports "signup" (a signup link): not the customer resuming marketing messages they stopped.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559871", "stop", T0))));
        await factory.ApplyWebhooksAsync();

        (await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559871", "signup", T0.AddDays(1)))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        Assert.Equal(T0.UtcDateTime, (await factory.ContactAsync(businessId, "16505559871"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task AMetaSystemNoticeOpensNoWindowAndCarriesNoKeyword()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, SystemMessage("wamid.sys-1", "919844445555",
            new JsonObject { ["type"] = "user_changed_number", ["body"] = "STOP", ["new_wa_id"] = "919844446666" }, T0));

        Assert.Null((await factory.ContactAsync(businessId, "919844445555"))?.LastInboundAt);
        Assert.Null(await SuppressionStateAsync(businessId, "919844445555"));
    }

    [Theory]
    [InlineData("wa_id", "user_changed_number")]             // Meta's shape
    [InlineData("new_wa_id", "user_changed_number")]         // webhooks of Graph versions before v12.0
    [InlineData("wa_id", "customer_changed_number")]         // the type's name in Meta's older reference
    public async Task ACustomersStopAndMarketingStopFollowThemToTheirNewNumber(string newWaIdField, string type)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", former, "STOP", T0));
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, former, "stop", T0))));

        await DeliverMessagesAsync(phoneNumberId, SystemMessage($"wamid.changed-{Guid.NewGuid():N}", former, new JsonObject
        {
            ["body"] = $"User Sheena changed from {former} to {current}", [newWaIdField] = current, ["type"] = type,
        }, T0.AddHours(1)));

        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, current));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, former)); // the old number may pass to someone else
        var moved = await factory.ContactAsync(businessId, current);
        Assert.Equal(T0.AddHours(1).UtcDateTime, moved?.MarketingOptOutAt);
        Assert.Null(moved?.LastInboundAt); // a notice, not the customer writing
    }

    [Theory]
    [InlineData(true, false)]  // a STOP only: the new number is opted out, its marketing left alone
    [InlineData(false, true)]  // Meta's marketing stop only: marketing stopped, the new number not opted out of everything
    [InlineData(false, false)] // nothing to carry
    public async Task AChangedNumberCarriesOnlyTheOptOutsTheCustomerGave(bool stopped, bool stoppedMarketing)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.hello-{Guid.NewGuid():N}", former, stopped ? "STOP" : "Hello", T0));
        if (stoppedMarketing)
        {
            await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, former, "stop", T0))));
        }

        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, current, T0.AddHours(1)));

        Assert.Equal(stopped ? SuppressionStates.OptedOut : null, await SuppressionStateAsync(businessId, current));
        Assert.Equal(stoppedMarketing ? T0.AddHours(1).UtcDateTime : null, (await factory.ContactAsync(businessId, current))?.MarketingOptOutAt);
    }

    [Theory]
    [InlineData(true, 2)]
    [InlineData(false, 2)]
    [InlineData(true, 1)] // the same second as the change: the customer's own word from the new number still stands
    public async Task AStartFromTheNewNumberAfterTheChangeStandsWhateverTheArrivalOrder(bool startArrivesFirst, int startHour)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", former, "STOP", T0));
        var notice = NumberChange(former, current, T0.AddHours(1));
        var start = Text($"wamid.start-{Guid.NewGuid():N}", current, "START", T0.AddHours(startHour));

        foreach (var message in startArrivesFirst ? new[] { start, notice } : [notice, start])
        {
            await DeliverMessagesAsync(phoneNumberId, message);
        }

        Assert.Null(await SuppressionStateAsync(businessId, current));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, former)); // the STOP was applied: there was an opt-out to carry
    }

    [Theory]
    [InlineData("STOP")]            // Meta keeps no order: the STOP written before the change comes after its notice
    [InlineData("Stop promotions")] // the marketing stop, typed
    [InlineData(null)]              // Meta's marketing preference
    public async Task AStopWrittenBeforeTheChangeButDeliveredAfterItsNoticeFollowsTheCustomer(string? text)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, current, T0.AddHours(1)));

        if (text is null)
        {
            (await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, former, "stop", T0))))).EnsureSuccessStatusCode();
            await factory.ApplyWebhooksAsync();
        }
        else
        {
            await DeliverMessagesAsync(phoneNumberId, Text($"wamid.late-{Guid.NewGuid():N}", former, text, T0));
        }

        var optedOut = text == "STOP";
        Assert.Equal(optedOut ? SuppressionStates.OptedOut : null, await SuppressionStateAsync(businessId, current));
        Assert.Equal(optedOut ? null : T0.AddHours(1).UtcDateTime, (await factory.ContactAsync(businessId, current))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task ALateMarketingStopTheCustomerResumedSinceDoesNotFollowThemNorDoesTheResume()
    {
        // Stopped, resumed, then changed number; Meta delivers the notice first and the preferences after it, latest first.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, current, T0.AddHours(1)));

        foreach (var (value, at) in new[] { ("resume", T0.AddMinutes(30)), ("stop", T0) })
        {
            (await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, former, value, at))))).EnsureSuccessStatusCode();
            await factory.ApplyWebhooksAsync();
        }

        Assert.Null((await factory.ContactAsync(businessId, current))?.MarketingOptOutAt);
        Assert.Null((await factory.ContactAsync(businessId, former))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task AStartWrittenFromTheNewNumberBeforeTheChangeDoesNotLiftAStopThatFollowedTheCustomerThere()
    {
        // The new number's START is its former holder's, written before the customer had it: the carried STOP counts from
        // the change, not from when it was written.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, current, T0.AddHours(1)));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.late-stop-{Guid.NewGuid():N}", former, "STOP", T0));

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.late-start-{Guid.NewGuid():N}", current, "START", T0.AddMinutes(30)));

        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, current));
    }

    [Fact]
    public async Task ALateStopFollowsTheNumberChangeMadeAfterIt()
    {
        // The old number changed hands and its next owner moved on too: a STOP written between the two notices, delivered
        // after both, is the later owner's, and follows them to where they went (the latest notice), not the first owner.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, first, second) = (AnyNumber("9198"), AnyNumber("9197"),
            AnyNumber("9196"));
        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, first, T0.AddHours(1)));
        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, second, T0.AddHours(3)));

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.late-{Guid.NewGuid():N}", former, "STOP", T0.AddHours(2)));

        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, second));
        Assert.Null(await SuppressionStateAsync(businessId, first));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // Meta keeps no order: the earlier change's notice comes last
    public async Task ALateStopFollowsTheCustomersLatestNumberChangeWhateverTheNoticesOrder(bool earlierNoticeLast)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, between, current) = (AnyNumber("9198"), AnyNumber("9196"), AnyNumber("9197"));
        var notices = new[] { NumberChange(former, between, T0.AddHours(1)), NumberChange(former, current, T0.AddHours(2)) };
        foreach (var notice in earlierNoticeLast ? notices.Reverse() : notices)
        {
            await DeliverMessagesAsync(phoneNumberId, notice);
        }

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.late-{Guid.NewGuid():N}", former, "STOP", T0));

        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, current));
        Assert.Null(await SuppressionStateAsync(businessId, between));
    }

    [Theory]
    [InlineData("STOP", false)]
    [InlineData("STOP", true)] // Meta keeps no order: the notice comes after the STOP written after it
    [InlineData("Stop promotions", false)] // the marketing stop, typed
    [InlineData("Stop promotions", true)]
    [InlineData(null, false)] // Meta's marketing preference
    [InlineData(null, true)]
    public async Task AStopWrittenToTheOldNumberAfterTheChangeStaysWithIt(string? text, bool noticeLast)
    {
        // The old number may be someone else's by then: their STOP is theirs, not the customer who moved.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        var notice = Delivery(Entry(MessagesChange(phoneNumberId, messages: [NumberChange(former, current, T0.AddHours(1))])));
        var stop = text is null
            ? Delivery(Entry(UserPreference(phoneNumberId, former, "stop", T0.AddHours(2))))
            : Delivery(Entry(MessagesChange(phoneNumberId, messages: [Text($"wamid.after-{Guid.NewGuid():N}", former, text, T0.AddHours(2))])));

        foreach (var delivery in noticeLast ? new[] { stop, notice } : [notice, stop])
        {
            (await factory.PostWebhookAsync(delivery)).EnsureSuccessStatusCode();
            await factory.ApplyWebhooksAsync();
        }

        Assert.Null(await SuppressionStateAsync(businessId, current));
        Assert.Null((await factory.ContactAsync(businessId, current))?.MarketingOptOutAt);
        Assert.Equal(text == "STOP" ? SuppressionStates.OptedOut : null, await SuppressionStateAsync(businessId, former));
        Assert.Equal(text == "STOP" ? null : T0.AddHours(2).UtcDateTime, (await factory.ContactAsync(businessId, former))?.MarketingOptOutAt);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AStopOfTheSameSecondAsTheChangeFollowsTheCustomerInEitherOrder(bool noticeFirst)
    {
        // Meta's times are whole seconds, so a tie tells nothing: the opt-out goes with the customer rather than be dropped on a guess.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        var (notice, stop) = (NumberChange(former, current, T0.AddHours(1)), Text($"wamid.tie-{Guid.NewGuid():N}", former, "STOP", T0.AddHours(1)));

        foreach (var message in noticeFirst ? new[] { notice, stop } : [stop, notice])
        {
            await DeliverMessagesAsync(phoneNumberId, message);
        }

        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, current));
    }

    [Fact]
    public async Task ALateStopDoesNotUndoAStartTheCustomerSentFromTheNewNumber()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (former, current) = (AnyNumber("9198"), AnyNumber("9197"));
        await DeliverMessagesAsync(phoneNumberId, NumberChange(former, current, T0.AddHours(1)));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.start-{Guid.NewGuid():N}", current, "START", T0.AddHours(2)));

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.late-{Guid.NewGuid():N}", former, "STOP", T0));

        Assert.Null(await SuppressionStateAsync(businessId, current));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, former)); // the late STOP was applied, to its own number
    }

    [Fact]
    public async Task AContactTakesTheProfileNameTheCustomerChangedTo()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        foreach (var (name, hour) in new[] { ("Sheena", 0), ("Sheena Nelson", 1) })
        {
            (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
                messages: [Text($"wamid.named-{Guid.NewGuid():N}", "919844445555", "Hello", T0.AddHours(hour))],
                contacts: [Contact("919844445555", name)]))))).EnsureSuccessStatusCode();
            await factory.ApplyWebhooksAsync();
        }

        Assert.Equal("Sheena Nelson", (await factory.ContactAsync(businessId, "919844445555"))?.Name);
    }

    [Fact]
    public async Task AContactKeepsItsProfileNameThroughAnEventThatNamesNone()
    {
        // The table keeps the latest profile name (docs/operations.md): Meta's marketing preference carries none.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        await DeliverMessagesAsync(phoneNumberId, Text("wamid.named-first", "919844445566", "Hello", T0)); // named Sheena Nelson

        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "919844445566", "stop", T0.AddHours(1)))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal("Sheena Nelson", (await factory.ContactAsync(businessId, "919844445566"))?.Name);
    }

    [Fact]
    public async Task TheOlderSystemShapeOfAMarketingPreferenceIsRecorded()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, SystemMessage("wamid.sys-2", "16505552222", new JsonObject
        {
            ["type"] = "user_preference_changed", ["body"] = "User requested to stop marketing messages", ["marketing"] = "stop",
        }, T0));

        var contact = await factory.ContactAsync(businessId, "16505552222");
        Assert.Equal(T0.UtcDateTime, contact?.MarketingOptOutAt);
        Assert.Null(contact?.LastInboundAt);
    }

    [Theory]
    [InlineData("resume", "stop", null)]   // a late stop does not undo the later resume
    [InlineData("stop", "resume", 1)]      // a late resume does not undo the later stop
    public async Task AnOlderMarketingPreferenceArrivingLaterChangesNothing(string later, string earlier, int? optedOutAtDay)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559876", later, T0.AddDays(1)))));
        await factory.ApplyWebhooksAsync();
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559876", earlier, T0))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(optedOutAtDay is { } day ? T0.AddDays(day).UtcDateTime : null, (await factory.ContactAsync(businessId, "16505559876"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task ACustomerMessageFromTheFarFutureOpensNoEndlessWindow()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text("wamid.future", "919811112222", "hello", DateTimeOffset.FromUnixTimeSeconds(253402300799)));

        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, (await factory.ContactAsync(businessId, "919811112222"))?.LastInboundAt);
    }

    [Fact]
    public async Task EveryMarketingPreferenceOfAChangeIsAppliedAndOnlyMarketingOnes()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var change = UserPreference(phoneNumberId, "16505550001", "stop", T0);
        var preferences = change["value"]!["user_preferences"]!.AsArray();
        preferences.Add(new System.Text.Json.Nodes.JsonObject
        {
            ["wa_id"] = "16505550002", ["category"] = "marketing_messages", ["value"] = "stop", ["timestamp"] = T0.ToUnixTimeSeconds(),
        });
        // A category this server does not know is no marketing stop, whatever its value says.
        preferences.Add(new System.Text.Json.Nodes.JsonObject
        {
            ["wa_id"] = "16505550003", ["category"] = "service_messages", ["value"] = "stop", ["timestamp"] = T0.ToUnixTimeSeconds(),
        });

        (await factory.PostWebhookAsync(Delivery(Entry(change)))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        Assert.Equal(T0.UtcDateTime, (await factory.ContactAsync(businessId, "16505550001"))?.MarketingOptOutAt);
        Assert.Equal(T0.UtcDateTime, (await factory.ContactAsync(businessId, "16505550002"))?.MarketingOptOutAt);
        Assert.Null((await factory.ContactAsync(businessId, "16505550003"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task AMarketingStopAndResumeOfTheSameSecondApplyInTheOrderTheyCame()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559875", "stop", T0))));
        await factory.ApplyWebhooksAsync();
        Assert.Equal(T0.UtcDateTime, (await factory.ContactAsync(businessId, "16505559875"))?.MarketingOptOutAt); // what the resume must clear
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559875", "resume", T0))));
        await factory.ApplyWebhooksAsync();

        Assert.Null((await factory.ContactAsync(businessId, "16505559875"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task AnEventForANumberNoBusinessHasReachesNoBusinessEvenBesideOneThatDoes()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        const string unknownNumber = "777000000000999";

        (await factory.PostWebhookAsync(Delivery(
            Entry(MessagesChange(phoneNumberId, messages: [Text($"wamid.known-{Guid.NewGuid():N}", "919811113331", "hello", T0)])),
            Entry(MessagesChange(unknownNumber, messages: [Text($"wamid.unknown-{Guid.NewGuid():N}", "919811113332", "STOP", T0)]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        Assert.NotNull(await factory.ContactAsync(businessId, "919811113331"));
        await factory.WithDbAsync(async db =>
        {
            Assert.False(await db.Contacts.AnyAsync(c => c.Phone == "919811113332"));
            Assert.False(await db.Suppressions.AnyAsync(s => s.Phone == "919811113332"));
        });
    }

    /// <summary>An Indian mobile starting <paramref name="start"/>, a new one each time (the tests share one business's contacts).</summary>
    private static string AnyNumber(string start) => $"{start}{Random.Shared.Next(10_000_000, 99_999_999)}";

    /// <summary>Meta's notice, from the old number, that its customer now writes from <paramref name="to"/>.</summary>
    private static JsonObject NumberChange(string from, string to, DateTimeOffset at) =>
        SystemMessage($"wamid.changed-{Guid.NewGuid():N}", from, new JsonObject { ["body"] = "changed", ["wa_id"] = to, ["type"] = "user_changed_number" }, at);

    private async Task DeliverMessagesAsync(string phoneNumberId, System.Text.Json.Nodes.JsonObject message)
    {
        var from = message["from"]!.GetValue<string>();
        var response = await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [message], contacts: [Contact(from, "Sheena Nelson")]))));
        response.EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private async Task<string?> SuppressionStateAsync(long businessId, string phone)
    {
        string? state = null;
        await factory.WithDbAsync(async db => state = await db.Suppressions
            .Where(s => s.BusinessId == businessId && s.Phone == phone).Select(s => s.State).SingleOrDefaultAsync());
        return state;
    }
}
