using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// The shapes Meta really sends (meta-cloud-api.md §3, Meta's webhook references), each applied as a user of
/// the gateway expects and none of them kept aside with an error: a valid delivery that fails to apply is
/// retried in vain and then lost.
/// </summary>
public class WebhookVariantTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);
    private const string Customer = "919812340000";

    /// <summary>An inbound message of each type (the part after <c>"type"</c>), whether it opens the window, and whether it opts out.</summary>
    public static TheoryData<string, string, bool, bool> InboundMessages => new()
    {
        { "image", """ "image":{"caption":"STOP","mime_type":"image/jpeg","sha256":"abc=","id":"1037543291543636","url":"https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"} """, true, false },
        { "audio", """ "audio":{"mime_type":"audio/ogg; codecs=opus","sha256":"abc=","id":"1037543291543637","voice":true} """, true, false },
        { "video", """ "video":{"mime_type":"video/mp4","sha256":"abc=","id":"1037543291543638"} """, true, false },
        { "document", """ "document":{"caption":"Invoice","filename":"invoice.pdf","mime_type":"application/pdf","sha256":"abc=","id":"1037543291543639"} """, true, false },
        { "sticker", """ "sticker":{"mime_type":"image/webp","sha256":"abc=","id":"1037543291543640","animated":false} """, true, false },
        { "location", """ "location":{"latitude":28.6139,"longitude":77.209,"name":"Office","address":"New Delhi"} """, true, false },
        { "contacts", """ "contacts":[{"name":{"formatted_name":"Asha Rao","first_name":"Asha"},"phones":[{"phone":"+91 98123 45678","wa_id":"919812345678","type":"CELL"}]}] """, true, false },
        // A tap on a template's quick-reply button labelled Stop is as clear as typing it.
        { "button", """ "context":{"from":"15550783881","id":"wamid.template"},"button":{"payload":"Stop","text":"Stop"} """, true, true },
        { "button", """ "context":{"from":"15550783881","id":"wamid.template"},"button":{"payload":"TRACK","text":"Track order"} """, true, false },
        { "interactive", """ "context":{"from":"15550783881","id":"wamid.menu"},"interactive":{"type":"button_reply","button_reply":{"id":"opt-out","title":"STOP"}} """, true, true },
        { "interactive", """ "context":{"from":"15550783881","id":"wamid.menu"},"interactive":{"type":"list_reply","list_reply":{"id":"row-1","title":"Unsubscribe","description":"No more messages"}} """, true, true },
        { "interactive", """ "context":{"from":"15550783881","id":"wamid.menu"},"interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Yes"}} """, true, false },
        { "interactive", """ "interactive":{"type":"nfm_reply","nfm_reply":{"response_json":"{\"flow_token\":\"t\"}","body":"Sent","name":"flow"}} """, true, false },
        { "reaction", """ "reaction":{"message_id":"wamid.ours","emoji":"\ud83d\udc4d"} """, true, false },
        { "reaction", """ "reaction":{"message_id":"wamid.ours"} """, true, false }, // a reaction removed
        { "order", """ "order":{"catalog_id":"1234","text":"STOP","product_items":[{"product_retailer_id":"sku-1","quantity":"1","item_price":"10","currency":"INR"}]} """, true, false },
        { "unsupported", """ "errors":[{"code":131051,"title":"Message type unknown","message":"Message type unknown","error_data":{"details":"Message type is currently not supported."}}] """, true, false },
        { "text", """ "text":{"body":"Is this still on sale?"},"referral":{"source_url":"https://fb.me/ad","source_id":"1","source_type":"ad","headline":"Sale","body":"50% off","media_type":"image","ctwa_clid":"x"} """, true, false },
        { "text", """ "text":{"body":"STOP"},"context":{"forwarded":true} """, true, true },
        { "text", """ "text":{"body":"start"},"context":{"from":"15550783881","id":"wamid.ours"},"identity":{"acknowledged":true,"created_timestamp":1776000000,"hash":"abc"} """, true, false },
        { "request_welcome", "\"x\":1", true, false }, // UNCONFIRMED that Meta counts it for the window: a welcome reply is free-form
        // A type Meta adds later, which this server does not know yet: still the customer writing, and read for no keyword.
        { "vote", """ "vote":{"text":"STOP","option_id":"1"} """, true, false },
        // In a group (Meta's Groups API) a message opens Meta's window with the whole group, not with the customer alone; a STOP still counts.
        { "text", """ "group_id":"Y2FwaV9ncm91cDoxNzA1NTU1MDA0MDozOTAxMTU2ODQwMDY4OTQ=","text":{"body":"See you all at 5"} """, false, false },
        { "text", """ "group_id":"Y2FwaV9ncm91cDoxNzA1NTU1MDA0MDozOTAxMTU2ODQwMDY4OTQ=","text":{"body":"STOP"} """, false, true },
        { "image", """ "group_id":"Y2FwaV9ncm91cDoxNzA1NTU1MDA0MDozOTAxMTU2ODQwMDY4OTQ=","image":{"mime_type":"image/jpeg","sha256":"abc=","id":"1037543291543641"} """, false, false },
        { "system", """ "system":{"body":"User A changed from 919812340000 to 919812349999","wa_id":"919812349999","type":"user_changed_number"} """, false, false },
        { "system", """ "system":{"body":"STOP","identity":"abc","customer":"919812340000","type":"customer_identity_changed"} """, false, false },
        { "system", """ "system":{"body":"STOP","type":"user_changed_user_id","user_id":"IN.2","previous_user_id":"IN.1"} """, false, false },
    };

    [Theory]
    [MemberData(nameof(InboundMessages))]
    public async Task EachInboundMessageTypeIsAppliedWithItsWindowAndKeyword(string type, string content, bool opensWindow, bool optsOut)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.{type}-{Guid.NewGuid():N}";
        var message = JsonNode.Parse($$"""{"from":"{{Customer}}","id":"{{wamid}}","timestamp":"{{T0.ToUnixTimeSeconds()}}","type":"{{type}}",{{content}}}""")!.AsObject();

        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [message],
            contacts: type == "system" ? null : [Contact(Customer, "Asha")]))));

        await factory.WithDbAsync(async db =>
        {
            Assert.True(await db.InboundMessages.AnyAsync(m => m.Wamid == wamid && m.Type == type));
            var contact = await db.Contacts.SingleAsync(c => c.BusinessId == businessId && c.Phone == Customer);
            Assert.Equal(opensWindow ? T0.UtcDateTime : null, contact.LastInboundAt);
            Assert.Equal(optsOut, await db.Suppressions.AnyAsync(s => s.BusinessId == businessId && s.Phone == Customer));
        });
        await AssertEverythingAppliedAsync();
    }

    [Theory]
    [InlineData("\"+91 98123 40000\"", "\"+91 98765-43210\"", "\"919812340000\"")]
    [InlineData("\"919812340000\"", "\"(91) 98765 43210\"", "\"+919812340000\"")]
    [InlineData("919812340000", "919876543210", "919812340000")] // numbers, not strings
    public async Task AWaIdWrittenWithAPlusSeparatorsOrAsANumberIsTheSameCustomer(string from, string recipient, string contactWaId)
    {
        // Meta writes wa_ids as strings of digits; the same number written otherwise must not become a second customer,
        // whose window, STOP or marketing stop no send to the number would find.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var sent = $"wamid.marketing-{Guid.NewGuid():N}";
        await InsertMessageAsync(businessId, sent);
        var refused = Status(sent, "failed", T0, errorCode: 131050, errorTitle: "User stopped marketing messages");
        refused["recipient_id"] = JsonNode.Parse(recipient);
        var message = Text($"wamid.formatted-{Guid.NewGuid():N}", Customer, "STOP", T0);
        message["from"] = JsonNode.Parse(from);
        var contact = Contact(Customer, "Asha");
        contact["wa_id"] = JsonNode.Parse(contactWaId);

        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [refused], messages: [message], contacts: [contact]))));

        await factory.WithDbAsync(async db =>
        {
            var customer = await db.Contacts.SingleAsync(c => c.BusinessId == businessId && c.Phone == Customer);
            Assert.Equal((T0.UtcDateTime, "Asha"), (customer.LastInboundAt, customer.Name));
            Assert.Equal([Customer], await db.Suppressions.Where(s => s.BusinessId == businessId).Select(s => s.Phone).ToListAsync());
            var others = await db.Contacts.Where(c => c.BusinessId == businessId && c.Phone != Customer)
                .Select(c => new { c.Phone, Stopped = c.MarketingOptOutAt != null }).ToListAsync();
            Assert.Equal([("919876543210", true)], others.Select(c => (c.Phone, c.Stopped)));
        });
        await AssertEverythingAppliedAsync();
    }

    /// <summary>A status report's fields beside id, status and timestamp, and the delivery status it leaves.</summary>
    public static TheoryData<string, string, string?> StatusReports => new()
    {
        // Per-message pricing (after 2025-07-01): pricing with a type, conversation optional.
        { "delivered", """ "recipient_id":"919876543210","pricing":{"billable":true,"pricing_model":"PMP","type":"regular","category":"utility"} """, "delivered" },
        // Conversation-based pricing: conversation with its expiry only on sent.
        { "sent", """ "recipient_id":"919876543210","conversation":{"id":"a75d17ad","expiration_timestamp":"1776086400","origin":{"type":"marketing"}},"pricing":{"billable":true,"pricing_model":"CBP","category":"marketing"} """, "sent" },
        { "read", """ "recipient_id":"919876543210" """, "read" },
        { "read", "\"x\":1", "read" }, // no recipient_id
        { "failed", """ "recipient_id":"919876543210","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"More than 24 hours have passed."},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}] """, "failed" },
        { "failed", """ "recipient_id":"919876543210","errors":[{"code":131000,"title":"Something went wrong","error_data":"a string, not an object"}] """, "failed" },
        // Statuses this server does not track are kept in the history only. UNCONFIRMED on Cloud API: deleted, warning.
        { "played", """ "recipient_id":"919876543210" """, null },
        { "deleted", """ "recipient_id":"919876543210" """, null },
        { "warning", """ "recipient_id":"919876543210","errors":[{"code":1,"title":"Catalog item unavailable"}] """, null },
        // Callback data that is not ours, or names no message: the wamid finds it.
        { "delivered", """ "recipient_id":"919876543210","biz_opaque_callback_data":"crm:order-123" """, "delivered" },
        { "delivered", """ "recipient_id":"919876543210","biz_opaque_callback_data":"twb:" """, "delivered" },
        { "delivered", """ "recipient_id":"919876543210","biz_opaque_callback_data":"twb:99999999999999999999" """, "delivered" },
        { "delivered", """ "recipient_id":"919876543210","biz_opaque_callback_data":"twb:-1" """, "delivered" },
        { "delivered", """ "recipient_id":"919876543210","biz_opaque_callback_data":12345 """, "delivered" },
        { "delivered", """ "recipient_id":"919876543210","recipient_type":"individual","recipient_user_id":"US.13491208655302741918" """, "delivered" },
    };

    [Theory]
    [MemberData(nameof(StatusReports))]
    public async Task EachStatusReportShapeIsAppliedToItsMessage(string status, string fields, string? deliveryStatus)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.{status}-{Guid.NewGuid():N}";
        var messageId = await InsertMessageAsync(businessId, wamid);
        var report = JsonNode.Parse($$"""{"id":"{{wamid}}","status":"{{status}}","timestamp":"{{T0.ToUnixTimeSeconds()}}",{{fields}}}""")!.AsObject();
        var change = MessagesChange(phoneNumberId, statuses: [report]);
        change["value"]!["contacts"] = new JsonArray(Contact("919876543210", "Asha")); // some deliveries carry it with statuses

        await DeliverAsync(Delivery(Entry(change)));

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal(deliveryStatus, await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal([status], await db.MessageStatusEvents.Where(e => e.MessageId == messageId).Select(e => e.Status).ToListAsync());
        });
        await AssertEverythingAppliedAsync();
    }

    [Theory]
    [InlineData(MessageKinds.Text, "More than 24 hours have passed since the customer last replied; send an approved template instead.")]
    [InlineData(MessageKinds.Template, "Meta refused this template under its 24-hour customer service window rule (131047)")]
    [InlineData(MessageKinds.Otp, "Meta refused this template under its 24-hour customer service window rule (131047)")]
    public async Task A131047ReportedLaterAdvisesATemplateOnlyForAFreeFormMessage(string kind, string reasonStart)
    {
        // As the send's own answer does (FailureReasons): advising a template for a refused template would mislead.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.window-{Guid.NewGuid():N}";
        var messageId = await InsertMessageAsync(businessId, wamid, kind);

        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            statuses: [Status(wamid, "failed", T0, errorCode: 131047, errorTitle: "Re-engagement message")]))));

        await factory.WithDbAsync(async db => Assert.StartsWith(reasonStart,
            await db.Messages.Where(m => m.Id == messageId).Select(m => m.FailureReason).SingleAsync(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task APaymentStatusIsNotADeliveryStatus()
    {
        // India's WhatsApp payments report a payment's progress in the statuses array (shape from BSP copies of
        // Meta's payments docs; UNCONFIRMED that its id is the order message's wamid): a failed payment is no failed message.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.order-{Guid.NewGuid():N}";
        var messageId = await InsertMessageAsync(businessId, wamid);
        var payment = JsonNode.Parse($$"""
            {"id":"{{wamid}}","from":"919876543210","type":"payment","status":"failed","timestamp":"{{T0.ToUnixTimeSeconds()}}",
             "payment":{"reference_id":"order-123","amount":{"value":21000,"offset":100 },"currency":"INR",
                        "transaction":{"id":"t-1","type":"upi","status":"failed","error":{"code":"4000","reason":"Declined"} } } }
            """)!.AsObject();

        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [payment, Status(wamid, "delivered", T0)]))));

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal(["delivered"], await db.MessageStatusEvents.Where(e => e.MessageId == messageId).Select(e => e.Status).ToListAsync());
        });
        await AssertEverythingAppliedAsync();
    }

    [Fact]
    public async Task FieldsBesideMessagesAndDeliveryLevelErrorsAreIgnoredAndTheRestApplied()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.beside-{Guid.NewGuid():N}";
        var messageId = await InsertMessageAsync(businessId, wamid);
        JsonObject Change(string field, string value) => new() { ["field"] = field, ["value"] = JsonNode.Parse(value) };
        var errorsOnly = MessagesChange(phoneNumberId);
        errorsOnly["value"]!["errors"] = JsonNode.Parse("""[{"code":130429,"title":"Rate limit hit","message":"(#130429) Rate limit hit","error_data":{"details":"Cloud API message throughput has been reached."},"href":"https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]""");
        var entry = Entry(
            Change("account_update", """{"phone_number":"15550783881","event":"VERIFIED_ACCOUNT"}"""),
            Change("phone_number_quality_update", """{"display_phone_number":"15550783881","event":"FLAGGED","current_limit":"TIER_1K"}"""),
            Change("message_template_status_update", """{"event":"REJECTED","message_template_id":594425479261596,"message_template_name":"nobody_has_it","message_template_language":"en_US","reason":"INCORRECT_CATEGORY","other_info":{"title":"Rejected","description":"Wrong category"}}"""),
            Change("message_template_quality_update", """{"previous_quality_score":"GREEN","new_quality_score":"YELLOW","message_template_id":594425479261596,"message_template_name":"nobody_has_it","message_template_language":"en_US"}"""),
            Change("template_category_update", """{"message_template_id":594425479261596,"message_template_name":"nobody_has_it","message_template_language":"en_US","correct_category":"MARKETING","new_category":"UTILITY","category_update_timestamp":1776086400}"""),
            Change("business_capability_update", """{"max_daily_conversation_per_phone":1000,"max_phone_numbers_per_business":2}"""),
            Change("account_alerts", """{"entity_type":"PHONE_NUMBER","entity_id":"1","alert_severity":"WARNING","alert_status":"ACTIVE","alert_type":"OBA_APPROVED","alert_description":"x"}"""),
            Change("smb_message_echoes", $$$"""{"messaging_product":"whatsapp","metadata":{"phone_number_id":"{{{phoneNumberId}}}"},"message_echoes":[{"from":"15550783881","to":"919876543210","id":"wamid.echo","timestamp":"1776000000","type":"text","text":{"body":"STOP"}}]}"""),
            errorsOnly,
            MessagesChange(phoneNumberId, statuses: [Status(wamid, "delivered", T0)]));
        entry["time"] = T0.ToUnixTimeSeconds();

        await DeliverAsync(Delivery(entry));

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.False(await db.InboundMessages.AnyAsync(m => m.Wamid == "wamid.echo")); // the business's own message, not the customer's
            Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId));
        });
        await AssertEverythingAppliedAsync();
        // Meta's error about the number itself is for an operator to see.
        Assert.Contains(factory.Logs.Events, e => e.Properties.TryGetValue("Code", out var code) && code.ToString() == "130429"
            && e.Properties["PhoneNumberId"].ToString() == $"\"{phoneNumberId}\"" && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("throughput", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EntriesForSeveralNumbersEachReachTheirBusinessAndAnUnknownOneIsSkipped()
    {
        var (firstNumber, first) = await ConnectedBusinessAsync();
        var (secondNumber, second) = await ConnectedBusinessAsync();
        var firstWamid = $"wamid.first-{Guid.NewGuid():N}";
        var secondWamid = $"wamid.second-{Guid.NewGuid():N}";
        var firstMessage = await InsertMessageAsync(first, firstWamid);
        var secondMessage = await InsertMessageAsync(second, secondWamid);

        await DeliverAsync(Delivery(
            Entry(MessagesChange(firstNumber, statuses: [Status(firstWamid, "read", T0)])),
            Entry("999000111222333", MessagesChange("999000111222", statuses: [Status(secondWamid, "read", T0)],
                messages: [Text($"wamid.unknown-{Guid.NewGuid():N}", Customer, "STOP", T0)])),
            Entry(MessagesChange(secondNumber, statuses: [Status(secondWamid, "delivered", T0)],
                messages: [Text($"wamid.second-in-{Guid.NewGuid():N}", Customer, "STOP", T0)], contacts: [Contact(Customer, "Asha")]))));

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal("read", await db.Messages.Where(m => m.Id == firstMessage).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == secondMessage).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal([second], await db.Suppressions.Where(s => s.Phone == Customer && (s.BusinessId == first || s.BusinessId == second))
                .Select(s => s.BusinessId).ToListAsync());
        });
        await AssertEverythingAppliedAsync();
    }

    [Theory]
    [InlineData("1776000000")]              // a number, as in user_preferences, not a string
    [InlineData("\"1776000000\"")]
    public async Task AMessageTimestampAsANumberOrAStringIsItsTime(string timestamp)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var message = Text($"wamid.time-{Guid.NewGuid():N}", Customer, "Hi", T0);
        message["timestamp"] = JsonNode.Parse(timestamp);

        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId, messages: [message], contacts: [Contact(Customer, "Asha")]))));

        await factory.WithDbAsync(async db => Assert.Equal(T0.UtcDateTime,
            await db.Contacts.Where(c => c.BusinessId == businessId && c.Phone == Customer).Select(c => c.LastInboundAt).SingleAsync()));
        await AssertEverythingAppliedAsync();
    }

    [Fact]
    public async Task AMessageWithoutAKeywordAfterAStopLeavesTheOptOut()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text($"wamid.stop-{Guid.NewGuid():N}", Customer, "STOP", T0)], contacts: [Contact(Customer, "Asha")]))));

        // Only START lifts it: a customer who opted out may still ask a question.
        await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text($"wamid.after-{Guid.NewGuid():N}", Customer, "Where is my refund?", T0.AddMinutes(1))], contacts: [Contact(Customer, "Asha")]))));

        await factory.WithDbAsync(async db => Assert.True(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId && s.Phone == Customer)));
        await AssertEverythingAppliedAsync();
    }

    [Theory]
    [InlineData("UNSUBSCR\u0130BE", "SUBSCR\u0130BE")] // a Turkish keyboard's capitals: the capital of i is İ
    [InlineData("unsubscr\u0131be", "subscr\u0131be")] // its dotless ı where an English keyboard has i
    [InlineData("unsubscribe", "Subscribe")]            // and the ASCII words, read the same under a Turkish culture
    public async Task KeywordsWithATurkishIOptOutAndBackInWhateverTheCulture(string optOut, string optIn)
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("tr-TR");
        try
        {
            var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
            await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId,
                messages: [Text($"wamid.tr-out-{Guid.NewGuid():N}", Customer, optOut, T0)], contacts: [Contact(Customer, "Ay\u015fe")]))));
            await factory.WithDbAsync(async db => Assert.True(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId && s.Phone == Customer)));

            await DeliverAsync(Delivery(Entry(MessagesChange(phoneNumberId,
                messages: [Text($"wamid.tr-in-{Guid.NewGuid():N}", Customer, optIn, T0.AddMinutes(1))], contacts: [Contact(Customer, "Ay\u015fe")]))));
            await factory.WithDbAsync(async db => Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId && s.Phone == Customer)));
            await AssertEverythingAppliedAsync();
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }

    private Task<(string PhoneNumberId, long BusinessId)> ConnectedBusinessAsync() => factory.ConnectedBusinessAsync();

    private async Task DeliverAsync(JsonNode delivery)
    {
        (await factory.PostWebhookAsync(delivery)).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private Task<long> InsertMessageAsync(long businessId, string wamid, string kind = MessageKinds.Text) => factory.InsertMessageAsync(businessId, wamid, kind);

    /// <summary>No delivery kept aside: each was applied, none failed.</summary>
    private Task AssertEverythingAppliedAsync() => factory.WithDbAsync(async db =>
        Assert.Empty(await db.WebhookEvents.Where(e => e.AppliedAt == null || e.LastError != null).Select(e => e.LastError).ToListAsync()));
}
