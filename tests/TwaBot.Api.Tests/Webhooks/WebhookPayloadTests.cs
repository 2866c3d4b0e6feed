using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

public class WebhookPayloadTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_750_857_390);

    [Fact]
    public void ReadsTheDeliveredExampleOfTheFactSheet()
    {
        const string body = """
            { "object": "whatsapp_business_account",
              "entry": [ { "id": "102290129340398",
                "changes": [ { "field": "messages",
                  "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
                    "statuses": [ {
                      "id": "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
                      "status": "delivered",
                      "timestamp": "1750857390",
                      "recipient_id": "16505551234",
                      "biz_opaque_callback_data": "twb:42",
                      "conversation": { "id": "a75d17ad06104c51166f948319b03c6a", "origin": { "type": "utility" } },
                      "pricing": { "billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility" } } ] } } ] } ] }
            """;

        var status = Assert.Single(WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received).Statuses);

        Assert.Equal(new StatusUpdate("106540352242922", "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "delivered",
            T0.UtcDateTime, "16505551234", "twb:42", null, null, null), status);
    }

    [Fact]
    public void ReadsFailedStatusErrors()
    {
        var body = Delivery(Entry(MessagesChange("1", statuses: [Status("wamid.x", "failed", T0, errorCode: 131047, errorTitle: "Re-engagement message")])));

        var status = Assert.Single(WebhookPayload.Parse(Encoding.UTF8.GetBytes(body.ToJsonString()), Received).Statuses);

        Assert.Equal(131047, status.ErrorCode);
        Assert.Equal("Re-engagement message", status.ErrorTitle);
        Assert.Equal("Details of the error.", status.ErrorDetails);
    }

    [Fact]
    public void ReadsEveryEntryChangeStatusAndMessage()
    {
        var body = Delivery(
            Entry(MessagesChange("1", statuses: [Status("a", "sent", T0), Status("b", "sent", T0)]), MessagesChange("1", messages: [Text("m1", "91", "hi", T0)])),
            Entry(MessagesChange("2", statuses: [Status("c", "read", T0)], messages: [Text("m2", "92", "yo", T0), Text("m3", "93", "ok", T0)])));

        var payload = WebhookPayload.Parse(Encoding.UTF8.GetBytes(body.ToJsonString()), Received);

        Assert.Equal(["a", "b", "c"], payload.Statuses.Select(s => s.Wamid));
        Assert.Equal(["m1", "m2", "m3"], payload.Messages.Select(m => m.Wamid));
    }

    [Fact]
    public void IgnoresFieldsItDoesNotHandle()
    {
        const string body = """{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}}]}]}""";

        var payload = WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received);

        Assert.Empty(payload.Statuses);
        Assert.Empty(payload.Messages);
        Assert.Empty(payload.Preferences);
        Assert.Empty(payload.TemplateUpdates);
    }

    /// <summary>When the deliveries these tests read were received.</summary>
    private static readonly DateTime Received = new(2026, 4, 14, 10, 30, 45, DateTimeKind.Utc);

    [Theory]
    [InlineData("\"99999999999999\"")]    // no calendar holds it
    [InlineData("\"253402300800\"")]
    [InlineData("-62135596801")]
    [InlineData("\"253402300799\"")]      // 9999-12-31: it would hold a 24-hour window open for ever
    [InlineData("\"1776163245\"")]        // ten minutes after it was received
    [InlineData("\"abc\"")]
    [InlineData("1.5")]
    [InlineData("null")]
    [InlineData("\"+1776160000\"")]     // Meta writes digits alone: a sign or padding is no time it sent
    [InlineData("\" 1776160000\"")]
    [InlineData("\"-1\"")]
    public void ATimestampThatCannotBeRightCountsAsTheTimeOfReceipt(string timestamp)
    {
        var body = "{\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"5\"},"
            + "\"statuses\":[{\"id\":\"wamid.1\",\"status\":\"sent\",\"timestamp\":" + timestamp + "},"
            + "{\"id\":\"wamid.2\",\"status\":\"sent\",\"timestamp\":\"1776160000\"}]}}]}]}";

        var statuses = WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received).Statuses;

        Assert.Equal([Received, DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime], statuses.Select(s => s.OccurredAt));
    }

    [Theory]
    [InlineData("\"0\"", 1970)]
    [InlineData("\"1776160000\"", 2026)]
    [InlineData("\"1776162705\"", 2026)] // a minute ahead of our clock: Meta's may run a little ahead
    public void ReadsTimestampsThatCanBeRight(string timestamp, int year)
    {
        var body = "{\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"5\"},"
            + "\"statuses\":[{\"id\":\"wamid.1\",\"status\":\"sent\",\"timestamp\":" + timestamp + "}]}}]}]}";

        var status = Assert.Single(WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received).Statuses);

        Assert.Equal(year, status.OccurredAt.Year);
        Assert.NotEqual(Received, status.OccurredAt);
    }

    [Fact]
    public void TextThatIsNotValidUnicodeIsLeftOutNotThrown()
    {
        // Valid JSON syntax, but a lone surrogate (or bytes that are not UTF-8) has no string: that element is skipped.
        var body = "{\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"5\"},"
            + "\"statuses\":[{\"id\":\"wamid.X\\ud800Y\",\"status\":\"sent\",\"timestamp\":\"1776160000\"},"
            + "{\"id\":\"wamid.2\",\"status\":\"sent\",\"timestamp\":\"1776160000\"}]}}]}]}";

        var statuses = WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received).Statuses;

        Assert.Equal(["wamid.2"], statuses.Select(s => s.Wamid));
    }

    public static TheoryData<JsonObject, long> EarliestEventTimes => new()
    {
        { Delivery(Entry(MessagesChange("1", statuses: [Status("a", "sent", T0)]))), T0.ToUnixTimeSeconds() },
        {
            // statuses and messages across entries, the earliest last
            Delivery(
                Entry(MessagesChange("1", statuses: [Status("a", "read", T0.AddSeconds(30))], messages: [Text("m", "91", "hi", T0.AddSeconds(20))])),
                Entry(MessagesChange("2", statuses: [Status("b", "sent", T0)]))),
            T0.ToUnixTimeSeconds()
        },
        { Delivery(Entry(UserPreference("1", "91", "stop", T0.AddSeconds(5)))), T0.ToUnixTimeSeconds() + 5 },
        { Delivery(Entry(TemplateStatus("APPROVED", "order_confirmation", "en", 7))), 0 }, // a template review has no event time
        { Delivery(Entry(MessagesChange("1"))), 0 },
        { Delivery(Entry(MessagesChange("1", statuses: [Untimed(Status("a", "sent", T0))]))), 0 }, // not the time of receipt
        {
            // a status without a time beside one with it
            Delivery(Entry(MessagesChange("1", statuses: [Untimed(Status("a", "sent", T0)), Status("b", "sent", T0.AddSeconds(9))]))),
            T0.ToUnixTimeSeconds() + 9
        },
        {
            // a time ahead of the clock counts as received for the event, but the key is what the body states
            Delivery(Entry(MessagesChange("1", statuses: [Status("a", "sent", new DateTimeOffset(Received).AddDays(1))]))),
            new DateTimeOffset(Received).AddDays(1).ToUnixTimeSeconds()
        },
        {
            // the calendar's last second is still a time stated (though never a time to keep for the event)
            Delivery(Entry(MessagesChange("1", statuses: [Status("a", "sent", DateTimeOffset.FromUnixTimeSeconds(253_402_300_799))]))),
            253_402_300_799
        },
    };

    private static JsonObject Untimed(JsonObject status)
    {
        status.Remove("timestamp");
        return status;
    }


    [Theory]
    [MemberData(nameof(EarliestEventTimes))]
    public void EarliestEventTimeIsTheFirstTimestampAnyEventStatesWheneverTheDeliveryComes(JsonObject body, long expected)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());

        Assert.Equal(expected, WebhookPayload.Parse(bytes, Received).EarliestEventTime);
        Assert.Equal(expected, WebhookPayload.Parse(bytes, Received.AddHours(1)).EarliestEventTime); // redelivered an hour later
    }

    [Fact]
    public void RefusesWhatIsNotJson()
    {
        Assert.ThrowsAny<JsonException>(() => WebhookPayload.Parse("{\"entry\": [ nope"u8, Received));
    }

    /// <summary>
    /// JSON that is not Meta's shape where an object belongs: the parser skips the odd element and reads
    /// the rest (a well-formed status beside it is read), or, with nothing well-formed to read, may refuse the
    /// delivery with a JsonException (which keeps it aside with its error). Any other exception would fail the
    /// processor's whole pass, again and again.
    /// </summary>
    [Theory]
    [InlineData("""{"entry":[1,"x",null,{"id":"1","changes":[2,{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[GOOD]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[3,GOOD]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[GOOD],"contacts":[4,"y"]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":7,"statuses":[GOOD]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[GOOD],"messages":[5,{"from":"1","id":"m","text":"t","timestamp":"1"}]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.1","status":"failed","timestamp":"1","errors":[6,"z"]}]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.1","status":"failed","timestamp":"1","errors":[{"code":"x","error_data":"d"}]}]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"user_preferences","value":{"metadata":{"phone_number_id":"5"},"user_preferences":[8,{"wa_id":"1","timestamp":"1"}]}},{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[GOOD]}}]}]}""")]
    [InlineData("""{"entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":9,"message_template_id":{}}},{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[GOOD]}}]}]}""")]
    [InlineData("""[{"entry":[]}]""")]
    [InlineData("""{"entry":{"changes":[]}}""")]
    public void ReadsWhatItCanOfOddShapesAndThrowsNothingButJsonException(string shape)
    {
        // A well-formed status (GOOD) of a named number beside the odd elements is what "reads what it can" means: refusing
        // the delivery for an odd sibling would keep that status unapplied. Without a number to apply it to ("metadata":7),
        // or with nothing well-formed, it may be left out or the delivery refused.
        var readable = shape.Contains("GOOD", StringComparison.Ordinal) && shape.Contains("\"phone_number_id\"", StringComparison.Ordinal);
        var body = Encoding.UTF8.GetBytes(shape.Replace("GOOD", """{"id":"wamid.1","status":"sent","timestamp":"1"}""", StringComparison.Ordinal));

        try
        {
            var payload = WebhookPayload.Parse(body, Received);
            if (readable)
            {
                Assert.Equal("wamid.1", Assert.Single(payload.Statuses).Wamid);
            }

            Assert.All(payload.Statuses, s => Assert.Equal("wamid.1", s.Wamid));
        }
        catch (JsonException) when (!readable)
        {
            // refused as a whole: fine, it is kept aside with its error
        }
    }

    [Theory]
    [InlineData("\"1776162945\"", true)]   // exactly the 5 minutes Meta's clock may run ahead: kept
    [InlineData("\"1776162946\"", false)]  // a second more: the time of receipt
    [InlineData("-62135596800", true)]     // 0001-01-01T00:00:00Z, the first second a calendar holds
    public void TheAllowedClockSkewAndTheCalendarsFirstSecondAreBoundaries(string timestamp, bool kept)
    {
        var body = "{\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"5\"},"
            + "\"statuses\":[{\"id\":\"wamid.1\",\"status\":\"sent\",\"timestamp\":" + timestamp + "}]}}]}]}";

        var status = Assert.Single(WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received).Statuses);

        Assert.Equal(kept, status.OccurredAt != Received);
    }

    [Fact]
    public void EarliestEventTimeCountsAMessageEarlierThanEveryStatus()
    {
        var body = Delivery(Entry(MessagesChange("1", statuses: [Status("a", "read", T0.AddSeconds(30))], messages: [Text("m", "91", "hi", T0)])));

        Assert.Equal(T0.ToUnixTimeSeconds(), WebhookPayload.Parse(Encoding.UTF8.GetBytes(body.ToJsonString()), Received).EarliestEventTime);
    }

    [Theory]
    [InlineData("""{"code":131026,"title":"Message undeliverable","message":"Message undeliverable."}""", "Message undeliverable")]
    [InlineData("""{"code":131026,"message":"Message undeliverable."}""", "Message undeliverable.")] // Meta is deprecating title
    [InlineData("""{"code":131026}""", null)]
    public void AStatusErrorsTitleIsItsTitleElseItsMessage(string error, string? title)
    {
        var body = "{\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"5\"},"
            + "\"statuses\":[{\"id\":\"wamid.1\",\"status\":\"failed\",\"timestamp\":\"1776160000\",\"errors\":[" + error + "]}]}}]}]}";

        var status = Assert.Single(WebhookPayload.Parse(Encoding.UTF8.GetBytes(body), Received).Statuses);

        Assert.Equal((131026, title), (status.ErrorCode, status.ErrorTitle));
    }

    [Theory]
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"STOP"}}""", "text", "STOP")]
    // A quick-reply button ("Stop promotions") is read by its text, so a STOP button opts out like a typed STOP.
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"button","button":{"payload":"p","text":"STOP"}}""", "button", "STOP")]
    // A tapped reply button or list row is read by its title, like a quick-reply button.
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"b1","title":"STOP"}}}""", "interactive", "STOP")]
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":"r1","title":"Unsubscribe","description":"No more offers"}}}""", "interactive", "Unsubscribe")]
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"body":"Sent","name":"flow"}}}""", "interactive", null)]
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"image","image":{"id":"1"}}""", "image", null)]
    [InlineData("""{"from":"919876543210","id":"wamid.t","timestamp":"1776160000"}""", "unknown", null)]
    public void AnInboundMessageIsReadWithItsTypeTextAndSendersName(string message, string type, string? text)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"contacts":[{"profile":{"name":"Other"},"wa_id":"919800000000"},{"profile":{"name":"Sheena Nelson"},"wa_id":"919876543210"}],"messages":[""" + message + "]}}]}]}");

        Assert.Equal(
            new InboundMessageUpdate("5", "wamid.t", "919876543210", type, text, DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime, "Sheena Nelson"),
            Assert.Single(payload.Messages));
    }

    [Theory]
    [InlineData("""{"id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"STOP"}}""")]        // no sender
    [InlineData("""{"from":"919876543210","timestamp":"1776160000","type":"text","text":{"body":"STOP"}}""")] // no id
    public void AnInboundMessageWithoutSenderOrIdIsLeftOut(string message)
    {
        Assert.Empty(ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[""" + message + "]}}]}]}").Messages);
    }

    [Fact]
    public void UserPreferencesAreReadWithTheirCategoryAndValueAndThoseWithoutACustomerLeftOut()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"user_preferences","value":{"metadata":{"phone_number_id":"5"},"user_preferences":[{"wa_id":"919876543210","category":"marketing_messages","value":"stop","timestamp":1776160000},{"category":"marketing_messages","value":"stop","timestamp":1776160000}]}}]}]}""");

        Assert.Equal(
            new PreferenceUpdate("5", "919876543210", "marketing_messages", "stop", DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime),
            Assert.Single(payload.Preferences));
    }

    [Theory]
    [InlineData("""{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":594425479261596,"message_template_name":"spring_sale","message_template_language":"en_US","message_template_category":"MARKETING"}}""",
        "APPROVED", "MARKETING")]
    [InlineData("""{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":"594425479261596","message_template_name":"spring_sale","message_template_language":"en_US","message_template_category":"MARKETING"}}""",
        "APPROVED", "MARKETING")] // the id as a string, as some payloads write it
    [InlineData("""{"field":"template_category_update","value":{"message_template_id":594425479261596,"message_template_name":"spring_sale","message_template_language":"en_US","previous_category":"MARKETING","new_category":"UTILITY"}}""",
        "", "UTILITY")]
    public void TemplateEventsAreReadWithTheEntrysWabaAndTime(string change, string templateEvent, string category)
    {
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":1776160000,"changes":[""" + change + "]}]}");

        Assert.Equal(
            new TemplateUpdate("102290129340398", templateEvent, "594425479261596", "spring_sale", "en_US", DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime, category),
            Assert.Single(payload.TemplateUpdates));
    }

    [Theory]
    [InlineData(",\"reason\":\"NONE\"", null)] // an approval
    [InlineData(",\"reason\":\"INVALID_FORMAT\"", "INVALID_FORMAT")]
    [InlineData(""","reason":" ","other_info":{"title":"FIRST_PAUSE","description":"Paused for 3 hours."}""", "Paused for 3 hours.")]
    [InlineData(""","reason":"LOW_QUALITY","other_info":{"description":"Paused for 3 hours."}""", "LOW_QUALITY: Paused for 3 hours.")]
    [InlineData(",\"reason\":7,\"other_info\":\"odd\"", null)] // shapes Meta does not send count as absent
    [InlineData("", null)]
    public void ATemplateStatusEventsReasonIsReadWithItsNotice(string fields, string? reason)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"PAUSED","message_template_id":1""" + fields + "}}]}]}");

        Assert.Equal(reason, Assert.Single(payload.TemplateUpdates).Reason);
    }

    [Fact]
    public void AnOutsizedTemplateStatusReasonIsCutOutsideASurrogatePair()
    {
        var description = new string('a', 999) + "😀" + new string('b', 5000);
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"PAUSED","other_info":{"description":"DESC"}}}]}]}""".Replace("DESC", description, StringComparison.Ordinal));

        Assert.Equal(new string('a', 999), Assert.Single(payload.TemplateUpdates).Reason);
    }

    [Theory]
    [InlineData("message_template_status_update")]
    [InlineData("template_category_update")]
    public void ATemplateEventWithoutItsWabaIsLeftOut(string field)
    {
        var payload = ParseJson("""{"entry":[{"time":1776160000,"changes":[{"field":"FIELD","value":{"event":"APPROVED","message_template_id":1,"message_template_name":"n","message_template_language":"en","new_category":"UTILITY"}}]}]}""".Replace("FIELD", field, StringComparison.Ordinal));

        Assert.Empty(payload.TemplateUpdates);
    }

    [Theory]
    [InlineData("\"from\":\"919876543210\",\"from_user_id\"", 128, "919876543210", true)]
    [InlineData("\"from\":\"919876543210\",\"from_user_id\"", 129, "919876543210", false)]
    [InlineData("\"from\"", 128, null, true)] // a BSUID written where the number goes
    [InlineData("\"from\"", 129, null, false)]
    public void ABsuidIsReadUpTo128Characters(string field, int length, string? from, bool kept)
    {
        var userId = "US." + new string('7', length - 3);
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"""
            + field + ":\"" + userId + "\"" + ""","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}""");

        var message = payload.Messages.SingleOrDefault();
        Assert.Equal((from, kept ? userId : null), (message?.From, message?.UserId));
        Assert.Equal(kept && from is not null ? 1 : 0, payload.UserIdLinks.Count);
    }

    [Theory]
    [InlineData("\"from_user_id\":\"IN.1\",\"from_parent_user_id\":\"IN.9\"", "IN.1")]
    [InlineData("\"from_parent_user_id\":\"IN.9\"", "IN.9")]
    [InlineData("\"from_user_id\":\" IN.1 \"", "IN.1")] // the same customer's id as every other event's
    [InlineData("\"from\":\" IN.1\"", "IN.1")] // a BSUID where the number goes, spaces around it
    [InlineData("\"from\":\"IN.1 \"", "IN.1")]
    [InlineData("\"from\":\"IN.1\",\"from_user_id\":\"IN.2\"", "IN.2")] // from_user_id first, even beside a BSUID where the number goes
    public void TheSendersBsuidIsFromUserIdElseTheParentOne(string fields, string userId)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"""
            + fields + ""","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}""");

        Assert.Equal(userId, Assert.Single(payload.Messages).UserId);
    }

    [Fact]
    public void AContactsPairIsAsOfTheChangesLatestMessageNotItsReceipt()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"contacts":[{"wa_id":"919876543210","user_id":"IN.1"}],"messages":[{"from_user_id":"IN.1","id":"wamid.a","timestamp":"1776160000","type":"text","text":{"body":"Hi"}},{"from_user_id":"IN.1","id":"wamid.b","timestamp":"1776150000","type":"text","text":{"body":"Hello"}}]}}]}]}""");

        Assert.Equal(new UserIdLinkUpdate("5", "IN.1", "919876543210", DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime),
            Assert.Single(payload.UserIdLinks));
    }

    [Fact]
    public void AContactsParentBsuidIsPairedWithItsNumber()
    {
        // A contact naming only its parent BSUID (a portfolio's): the pair is the contact's, the message names no BSUID.
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"contacts":[{"wa_id":"919876543210","parent_user_id":"IN.P1"}],"messages":[{"from":"919876543210","id":"wamid.a","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}""");

        Assert.Equal("IN.P1 919876543210", string.Join(", ", payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId}")));
    }

    [Theory]
    [InlineData("919800000002", "IN.2 919800000002, IN.1 919800000001")]
    [InlineData("US.77", "IN.1 919800000001")] // a BSUID where the new number goes is paired with nothing
    public void ANumberChangePairsTheNewBsuidWithTheNewNumberAndThePreviousWithTheOld(string newWaId, string pairs)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed","wa_id":"NEW","type":"user_changed_number","user_id":"IN.2","previous_user_id":"IN.1"}}]}}]}]}"""
            .Replace("NEW", newWaId, StringComparison.Ordinal));

        Assert.Equal(pairs, string.Join(", ", payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId}")));
    }

    [Theory]
    [InlineData("""{"code":130429,"title":"Rate limit hit","message":"(#130429) Rate limit hit","error_data":{"details":"Too many messages."}}""", 130429, "Rate limit hit", "Too many messages.")]
    [InlineData("""{"code":131042,"message":"Business eligibility payment issue"}""", 131042, "Business eligibility payment issue", null)] // Meta is deprecating title
    [InlineData("""{"title":"Something went wrong"}""", null, "Something went wrong", null)]
    public void AChangesOwnErrorIsReadWithItsCodeTitleAndDetails(string error, int? code, string? title, string? details)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"errors":[""" + error + "]}}]}]}");

        Assert.Equal(new WebhookError("5", code, title, details), Assert.Single(payload.Errors));
    }

    [Theory]
    [InlineData("message_template_status_update", "\"APPROVED\"")]
    [InlineData("template_category_update", "[]")]
    [InlineData("message_template_quality_update", "7")]
    [InlineData("message_template_components_update", "null")]
    public void AChangeWhoseValueIsNoObjectIsLeftOut(string field, string value)
    {
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":1776160000,"changes":[{"field":"FIELD","value":VALUE}]}]}"""
            .Replace("FIELD", field, StringComparison.Ordinal).Replace("VALUE", value, StringComparison.Ordinal));

        Assert.Empty(payload.TemplateUpdates);
    }

    [Fact]
    public void AFailedStatusIsReadWithItsFirstError()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.1","status":"failed","timestamp":"1776160000","errors":[{"code":131049,"title":"Not delivered to maintain healthy ecosystem engagement"},{"code":131026,"title":"Message undeliverable"}]}]}}]}]}""");

        var status = Assert.Single(payload.Statuses);
        Assert.Equal((131049, "Not delivered to maintain healthy ecosystem engagement"), (status.ErrorCode, status.ErrorTitle));
    }

    [Theory]
    [InlineData(",\"group_id\":\"Y2FwaV9ncm91cDox\"", "Y2FwaV9ncm91cDox")]
    [InlineData(",\"group_id\":\"\"", null)] // an empty group is none: the message opens the customer's own window
    [InlineData(",\"group_id\":5", null)]
    [InlineData("", null)]
    public void AGroupMessageIsReadWithItsGroupId(string field, string? groupId)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}FIELD}]}}]}]}"""
            .Replace("FIELD", field, StringComparison.Ordinal));

        Assert.Equal(groupId, Assert.Single(payload.Messages).GroupId);
    }

    [Theory]
    [InlineData("\"user_id\":\"IN.1\",\"parent_user_id\":\"IN.9\"", "IN.1")]
    [InlineData("\"parent_user_id\":\"IN.9\"", "IN.9")]
    public void APreferencesCustomerIsItsBsuidElseTheParentOne(string fields, string userId)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"user_preferences","value":{"metadata":{"phone_number_id":"5"},"user_preferences":[{FIELDS,"category":"marketing_messages","value":"stop","timestamp":1776160000}]}}]}]}"""
            .Replace("FIELDS", fields, StringComparison.Ordinal));

        var preference = Assert.Single(payload.Preferences);
        Assert.Equal((null, userId), (preference.WaId, preference.UserId));
    }

    [Theory]
    [InlineData("US.13491208655302741918", true)]
    [InlineData("IN.1", true)]
    [InlineData("US.", false)]   // a country code and nothing after it
    [InlineData("U1.5", false)]
    [InlineData("1S.5", false)]
    [InlineData("USA.5", false)]
    [InlineData("919876543210", false)]
    public void ABsuidIsTwoLettersADotAndMore(string value, bool isUserId)
    {
        Assert.Equal(isUserId, WebhookPayload.LooksLikeUserId(value));
    }

    [Theory]
    [InlineData("\"+91 98765-43210\"", "919876543210")]
    [InlineData("919876543210", "919876543210")]
    [InlineData("\"91.9876543210\"", "91.9876543210")] // not a way Meta writes a number: kept as written
    [InlineData("\"+\"", "+")]                        // no digits: kept as written, never an empty key
    public void TheSendersWaIdIsItsDigitsOnlyWhenWrittenAsAPhoneNumber(string from, string expected)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":FROM,"id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}"""
            .Replace("FROM", from, StringComparison.Ordinal));

        Assert.Equal(expected, Assert.Single(payload.Messages).From);
    }

    [Fact]
    public void AContactWithoutABsuidPairsNothing()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"contacts":[{"profile":{"name":"Asha"},"wa_id":"919876543210"}],"messages":[{"from":"919876543210","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}""");

        Assert.Empty(payload.UserIdLinks);
    }

    [Fact]
    public void AnEditedTemplatesTextsAndButtonsAreReadFromItsComponentsEvent()
    {
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":1776160000,"changes":[{"field":"message_template_components_update","value":{"message_template_id":594425479261596,"message_template_name":"order_update","message_template_language":"en_US","message_template_element":"Your order {{1}} is on its way","message_template_title":"Order update","message_template_footer":"Reply STOP to opt out","message_template_buttons":[{"message_template_button_type":"URL","message_template_button_text":"Track","message_template_button_url":"https://shop.example/track/{{1}}"},{"message_template_button_type":"PHONE_NUMBER","message_template_button_text":"Call us","message_template_button_phone_number":"+15550783881"}]}}]}]}""");

        Assert.Equal("", Assert.Single(payload.TemplateUpdates).Event); // no status event
        var components = Assert.Single(payload.TemplateUpdates).Components;
        Assert.NotNull(components);
        Assert.Equal(("Your order {{1}} is on its way", "Order update", "Reply STOP to opt out"), (components.Body, components.HeaderText, components.FooterText));
        Assert.Equal([TwaBot.Api.Templates.TemplateButtons.UrlSuffix, TwaBot.Api.Templates.TemplateButtons.None], components.Buttons);
        Assert.Equal(["Track", "Call us"], components.ButtonTexts);
        Assert.Equal(["https://shop.example/track/{{1}}", ""], components.ButtonUrls);
    }

    [Theory]
    [InlineData(",\"message_template_element\":\" \"")]
    [InlineData(",\"message_template_element\":\"\"")]
    [InlineData("")]
    public void AComponentsEventWithoutABodyChangesNoTexts(string body)
    {
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":1776160000,"changes":[{"field":"message_template_components_update","value":{"message_template_id":1,"message_template_name":"n","message_template_language":"en"BODY,"message_template_footer":"f"}}]}]}"""
            .Replace("BODY", body, StringComparison.Ordinal));

        Assert.Null(Assert.Single(payload.TemplateUpdates).Components);
    }

    [Fact]
    public void AQualityEventIsReadWithTheNewScore()
    {
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":1776160000,"changes":[{"field":"message_template_quality_update","value":{"previous_quality_score":"GREEN","new_quality_score":"RED","message_template_id":594425479261596,"message_template_name":"spring_sale","message_template_language":"en_US"}}]}]}""");

        var update = Assert.Single(payload.TemplateUpdates);
        Assert.Equal(("RED", ""), (update.QualityScore, update.Event)); // no status event
    }

    [Theory]
    [InlineData("\"type\":\"user_changed_number\",\"wa_id\":\"919800000002\"", "919800000002")]
    [InlineData("\"type\":\"user_changed_number\",\"new_wa_id\":\"919800000002\"", "919800000002")] // webhooks before Graph v12.0
    [InlineData("\"type\":\"customer_changed_number\",\"wa_id\":\"919800000002\"", "919800000002")] // Meta's older name of the type
    [InlineData("\"type\":\"user_changed_number\",\"wa_id\":\"919800000001\"", null)] // the number it came from: no change
    [InlineData("\"type\":\"customer_identity_changed\",\"wa_id\":\"919800000002\"", null)]
    [InlineData("\"type\":\"user_changed_number\",\"wa_id\":\"US.13491208655302741918\"", null)] // a BSUID where the number goes: no number to carry a STOP to
    [InlineData("\"type\":\"user_changed_number\",\"wa_id\":\"US.13491208655302741918\",\"new_wa_id\":\"919800000002\"", "919800000002")]
    [InlineData("\"type\":\"user_changed_number\",\"new_wa_id\":\"US.13491208655302741918\"", null)] // nor in the older field
    public void ANumberChangeNoticeIsReadWithTheNewWaId(string system, string? newWaId)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed",SYSTEM}}]}}]}]}"""
            .Replace("SYSTEM", system, StringComparison.Ordinal));

        Assert.Equal(newWaId, Assert.Single(payload.Messages).NewWaId);
    }

    [Fact]
    public void TheOlderShapeOfAMarketingPreferenceIsReadAsOne()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919876543210","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"User requested to stop marketing messages","type":"user_preference_changed","marketing":"stop"}}]}}]}]}""");

        Assert.Equal(
            new PreferenceUpdate("5", "919876543210", "marketing_messages", "stop", DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime),
            Assert.Single(payload.Preferences));
    }

    [Theory]
    [InlineData(300, true)]      // Meta's clock up to five minutes ahead: its time
    [InlineData(86_400, false)]  // a day ahead: the time of receipt, or it would outrank every later sync of the template
    public void ATemplateEventFromTheFutureCountsAsReceived(int aheadSeconds, bool kept)
    {
        var time = new DateTimeOffset(Received).AddSeconds(aheadSeconds);
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":TIME,"changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":1,"message_template_name":"n","message_template_language":"en"}}]}]}"""
            .Replace("TIME", time.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        Assert.Equal(kept ? time.UtcDateTime : Received, Assert.Single(payload.TemplateUpdates).At);
    }

    [Theory]
    [InlineData("user_changed_number")]
    [InlineData("customer_changed_number")] // Meta's older name of the type
    public void EitherNameOfANumberChangePairsTheNewBsuidWithTheNewNumber(string type)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed","wa_id":"919800000002","type":"TYPE","user_id":"IN.2","previous_user_id":"IN.1"}}]}}]}]}"""
            .Replace("TYPE", type, StringComparison.Ordinal));

        Assert.Equal("IN.2 919800000002, IN.1 919800000001", string.Join(", ", payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId}")));
    }

    [Fact]
    public void ABsuidChangeFromAKnownNumberPairsBothIdsWithIt()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed","type":"user_changed_user_id","user_id":"IN.2","previous_user_id":"IN.1"}}]}}]}]}""");

        Assert.Equal("IN.2 919800000001, IN.1 919800000001", string.Join(", ", payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId}")));
        Assert.Empty(payload.UserIdChanges);
    }

    [Fact]
    public void ACustomersMessagePairsItsBsuidAndItsParentOneWithItsNumber()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","from_user_id":"IN.1","from_parent_user_id":"IN.10","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}""");

        Assert.Equal("IN.1 919800000001, IN.10 919800000001", string.Join(", ", payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId}")));
    }

    [Fact]
    public void ANoticeOfAnotherKindPairsNoBsuid()
    {
        // Only a changed number or a changed BSUID says which ids name whom; a notice's ids are not its sender's.
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","from_user_id":"IN.2","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"something else","type":"customer_identity_changed","user_id":"IN.2","previous_user_id":"IN.1"}}]}}]}]}""");

        Assert.Empty(payload.UserIdLinks);
        Assert.Empty(payload.UserIdChanges);
    }

    [Theory]
    [InlineData("IN.1", "IN.1 -> IN.2")]
    [InlineData("IN.2", "")] // the same id again: nothing changed
    public void ABsuidChangeWithoutANumberIsReadFromThePreviousIdToTheNewOne(string previous, string changes)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from_user_id":"IN.2","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed","type":"user_changed_user_id","previous_user_id":"PREVIOUS"}}]}}]}]}"""
            .Replace("PREVIOUS", previous, StringComparison.Ordinal));

        Assert.Equal(changes, string.Join(", ", payload.UserIdChanges.Select(c => $"{c.PreviousUserId} -> {c.UserId}")));
        Assert.All(payload.UserIdChanges, c => Assert.Equal(("5", DateTimeOffset.FromUnixTimeSeconds(1776160000).UtcDateTime), (c.PhoneNumberId, c.At)));
        Assert.Empty(payload.UserIdLinks);
    }

    [Fact]
    public void ABsuidWhereAStatusNamesItsRecipientsNumberIsNoNumber()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.1","status":"delivered","timestamp":"1776160000","recipient_id":"IN.1","recipient_user_id":"IN.1"}]}}]}]}""");

        Assert.Null(Assert.Single(payload.Statuses).RecipientId);
        Assert.Empty(payload.UserIdLinks);
    }

    [Fact]
    public void EachEventsPairIsAsOfThatEvent()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","from_user_id":"IN.1","id":"wamid.a","timestamp":"1776150000","type":"text","text":{"body":"Hi"}},{"from":"919800000002","from_user_id":"IN.2","id":"wamid.b","timestamp":"1776160000","type":"text","text":{"body":"Hello"}}]}}]}]}""");

        Assert.Equal(["IN.1 1776150000", "IN.2 1776160000"],
            payload.UserIdLinks.Select(l => $"{l.UserId} {new DateTimeOffset(l.At).ToUnixTimeSeconds()}"));
    }

    [Fact]
    public void ADeliveryWithAByteOrderMarkIsRead()
    {
        byte[] body = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Delivery(Entry(MessagesChange("1", statuses: [Status("wamid.1", "sent", T0)]))).ToJsonString())];

        Assert.Equal("wamid.1", Assert.Single(WebhookPayload.Parse(body, Received).Statuses).Wamid);
    }

    [Fact]
    public void APaymentsProgressInTheStatusesIsNoMessageStatus()
    {
        // India's WhatsApp payments share the statuses array: a failed payment is not a failed message.
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.p","type":"payment","status":"failed","timestamp":"1776160000","recipient_id":"919876543210"},{"id":"wamid.m","status":"delivered","timestamp":"1776160000","recipient_id":"919876543210"}]}}]}]}""");

        Assert.Equal(["wamid.m"], payload.Statuses.Select(s => s.Wamid));
    }

    [Fact]
    public void AChangesErrorsThatAreNoObjectsAreLeftOut()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"errors":[7,"x",{"code":130429,"title":"Rate limit hit"}]}}]}]}""");

        Assert.Equal(new WebhookError("5", 130429, "Rate limit hit", null), Assert.Single(payload.Errors));
    }

    [Fact]
    public void ANumberChangeNoticesOwnBsuidIsTheNewNumbersNotTheOldOnes()
    {
        // The notice comes from the old number; its from_user_id stands in for a missing system.user_id (the new BSUID).
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"919800000001","from_user_id":"IN.2","from_parent_user_id":"IN.20","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed","wa_id":"919800000002","type":"user_changed_number","previous_user_id":"IN.1","previous_parent_user_id":"IN.10"}}]}}]}]}""");

        Assert.Equal("IN.2 919800000002, IN.1 919800000001, IN.20 919800000002, IN.10 919800000001",
            string.Join(", ", payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId}")));
    }

    [Theory]
    [InlineData("\"parent_user_id\":\"IN.20\",\"previous_parent_user_id\":\"IN.10\"", "", "IN.10 -> IN.20")]
    [InlineData("\"previous_parent_user_id\":\"IN.10\"", ",\"from_parent_user_id\":\"IN.20\"", "IN.10 -> IN.20")]
    [InlineData("\"previous_user_id\":\"IN.1\"", ",\"from_parent_user_id\":\"IN.20\"", "IN.1 -> IN.5")] // the new user id is from_user_id, not the parent one
    [InlineData("\"user_id\":\"IN.2\",\"previous_user_id\":\"IN.1\"", "", "IN.1 -> IN.2")] // the notice's own user_id before the message's
    public void ABsuidChangeWithoutANumberIsReadForTheParentIdToo(string system, string message, string changes)
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from_user_id":"IN.5"MESSAGE,"id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"changed","type":"user_changed_user_id",SYSTEM}}]}}]}]}"""
            .Replace("MESSAGE", message, StringComparison.Ordinal).Replace("SYSTEM", system, StringComparison.Ordinal));

        Assert.Equal(changes, string.Join(", ", payload.UserIdChanges.Select(c => $"{c.PreviousUserId} -> {c.UserId}")));
    }

    [Fact]
    public void AContactsPairWithoutAnEventIsAsOfTheDeliverysReceiptAndNeedsItsNumbersId()
    {
        const string contacts = ""","contacts":[{"profile":{"name":"Asha"},"wa_id":"919876543210","user_id":"IN.1"}]""";

        var received = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"}""" + contacts + "}}]}]}");
        var withoutNumber = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{}""" + contacts + "}}]}]}");

        Assert.Equal(new UserIdLinkUpdate("5", "IN.1", "919876543210", Received), Assert.Single(received.UserIdLinks));
        Assert.Empty(withoutNumber.UserIdLinks);
    }

    [Fact]
    public void AComponentsEventWithoutButtonsListsNone()
    {
        var payload = ParseJson("""{"entry":[{"id":"102290129340398","time":1776160000,"changes":[{"field":"message_template_components_update","value":{"message_template_id":1,"message_template_name":"n","message_template_language":"en","message_template_element":"Hi {{1}}"}}]}]}""");

        var components = Assert.Single(payload.TemplateUpdates).Components;
        Assert.NotNull(components);
        Assert.Equal(("Hi {{1}}", (string?)null, (string?)null, (IReadOnlyList<string>?)null), (components.Body, components.HeaderText, components.FooterText, components.Buttons));
        Assert.Empty(components.ButtonTexts);
    }

    [Fact]
    public void AStatusAndAPreferencePairTheirBsuidsWithTheNumberTheyName()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.1","status":"delivered","timestamp":"1776150000","recipient_id":"919800000001","recipient_user_id":"IN.1","recipient_parent_user_id":"IN.10"}]}},"""
            + """{"field":"user_preferences","value":{"metadata":{"phone_number_id":"5"},"user_preferences":[{"wa_id":"919800000002","user_id":"IN.2","parent_user_id":"IN.20","category":"marketing_messages","value":"stop","timestamp":1776160000}]}}]}]}""");

        Assert.Equal(["IN.1 919800000001 1776150000", "IN.10 919800000001 1776150000", "IN.2 919800000002 1776160000", "IN.20 919800000002 1776160000"],
            payload.UserIdLinks.Select(l => $"{l.UserId} {l.WaId} {new DateTimeOffset(l.At).ToUnixTimeSeconds()}"));
    }

    [Fact]
    public void ASenderKnownByBsuidAloneIsNamedFromTheContacts()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"contacts":[{"profile":{"name":"Asha"},"user_id":"IN.1"}],"messages":[{"from_user_id":"IN.1","id":"wamid.t","timestamp":"1776160000","type":"text","text":{"body":"Hi"}}]}}]}]}""");

        var message = Assert.Single(payload.Messages);
        Assert.Equal(((string?)null, "IN.1", "Asha"), (message.From, message.UserId, message.ProfileName));
    }

    [Fact]
    public void TheOlderShapeOfAMarketingPreferenceFromABsuidAloneIsReadAsOne()
    {
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from_user_id":"IN.1","id":"wamid.s","timestamp":"1776160000","type":"system","system":{"body":"User requested to stop marketing messages","type":"user_preference_changed","marketing":"stop"}}]}}]}]}""");

        var preference = Assert.Single(payload.Preferences);
        Assert.Equal(((string?)null, "IN.1", "stop"), (preference.WaId, preference.UserId, preference.Value));
    }

    [Theory]
    [InlineData("""{"field":"message_template_status_update","value":{"message_template_id":"1","message_template_name":"spring_sale","message_template_language":"en"}}""", "event")]
    [InlineData("""{"field":"message_template_components_update","value":{"message_template_id":"1","message_template_element":"Hi","message_template_buttons":[{"message_template_button_type":"URL","message_template_button_url":"https://x.example/a"}]}}""", "button text")]
    [InlineData("""{"field":"message_template_components_update","value":{"message_template_id":"1","message_template_element":"Hi","message_template_buttons":[{"message_template_button_type":"PHONE_NUMBER","message_template_button_text":"Call us"}]}}""", "button url")]
    [InlineData("""{"field":"user_preferences","value":{"metadata":{"phone_number_id":"5"},"user_preferences":[{"wa_id":"919876543210","value":"stop","timestamp":1776160000}]}}""", "category")]
    [InlineData("""{"field":"user_preferences","value":{"metadata":{"phone_number_id":"5"},"user_preferences":[{"wa_id":"919876543210","category":"marketing_messages","timestamp":1776160000}]}}""", "value")]
    public void AFieldMetaLeavesOutIsReadAsEmpty(string change, string field)
    {
        // Empty is what the applier takes as "not said": an event without a status sets none (and is no unknown event to
        // log), a button without a label or link shows null, a preference without category or value changes nothing.
        var payload = ParseJson("""{"entry":[{"id":"1","changes":[CHANGE]}]}""".Replace("CHANGE", change, StringComparison.Ordinal));

        var read = field switch
        {
            "event" => Assert.Single(payload.TemplateUpdates).Event,
            "button text" => Assert.Single(Assert.Single(payload.TemplateUpdates).Components!.ButtonTexts),
            "button url" => Assert.Single(Assert.Single(payload.TemplateUpdates).Components!.ButtonUrls),
            "category" => Assert.Single(payload.Preferences).Category,
            _ => Assert.Single(payload.Preferences).Value,
        };
        Assert.Equal("", read);
    }

    private static WebhookPayload ParseJson(string json) => WebhookPayload.Parse(Encoding.UTF8.GetBytes(json), Received);
}
