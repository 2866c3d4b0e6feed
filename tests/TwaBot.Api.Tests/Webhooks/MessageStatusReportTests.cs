using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// How Meta's status reports move a sent message: only ever forward, once each in its history, with a failure's reason, found
/// by wamid or by our callback data, parked while the message is not known yet.
/// </summary>
public class MessageStatusReportTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task ADeliveredStatusMovesTheMessageAndIsKeptInItsHistory()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.delivered-1");

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.delivered-1", "sent", T0), Status("wamid.delivered-1", "delivered", T0.AddSeconds(2)));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal("delivered", message.DeliveryStatus);
        Assert.Equal(["sent", "delivered"], await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AFailedStatusStoresAHumanReason()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.failed-1");

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.failed-1", "failed", T0, errorCode: 131026, errorTitle: "Message undeliverable"));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal("failed", message.DeliveryStatus);
        Assert.Equal(131026, message.FailureCode);
        Assert.Equal("Message undeliverable — recipient's phone is not on WhatsApp.", message.FailureReason);
    }

    [Fact]
    public async Task AReportThatIsNotAFailureStoresNoFailureEvenWhenItCarriesAnError()
    {
        // A later delivered replaces failed (another device): the message is no longer failed, whatever
        // error object the report carries, so neither the code nor the reason may stay or appear.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.failed-then-delivered");

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.failed-then-delivered", "failed", T0, errorCode: 131026, errorTitle: "Message undeliverable"));
        await factory.DeliverStatusesAsync(phoneNumberId,
            Status("wamid.failed-then-delivered", "delivered", T0.AddSeconds(5), errorCode: 131049, errorTitle: "Ecosystem engagement"));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal(("delivered", (int?)null, (string?)null), (message.DeliveryStatus, message.FailureCode, message.FailureReason));
    }

    [Theory]
    [InlineData(new[] { "read", "delivered", "sent" }, "read")]
    [InlineData(new[] { "sent", "read", "delivered" }, "read")]
    [InlineData(new[] { "sent", "failed", "delivered" }, "delivered")]
    [InlineData(new[] { "delivered", "failed" }, "delivered")]
    [InlineData(new[] { "read", "failed" }, "read")]
    [InlineData(new[] { "failed", "sent" }, "failed")]
    [InlineData(new[] { "sent", "sent", "sent" }, "sent")]
    public async Task StatusesOnlyMoveForwardWhateverTheArrivalOrder(string[] arrivals, string expected)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var wamid = $"wamid.order-{Guid.NewGuid():N}";
        var messageId = await factory.InsertMessageAsync(businessId, wamid);

        for (var i = 0; i < arrivals.Length; i++)
        {
            await factory.DeliverStatusesAsync(phoneNumberId, Status(wamid, arrivals[i], T0.AddSeconds(i), errorCode: arrivals[i] == "failed" ? 131026 : null));
        }

        Assert.Equal(expected, (await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task EveryArrivalOrderOfEveryStatusSetEndsAtItsFurthestStatus()
    {
        // PRODUCT.md §2's order, furthest last: failed never replaces delivered or read, and they replace failed.
        string[] order = ["sent", "failed", "delivered", "read"];
        var sequences = Subsets(order).SelectMany(Permutations)
            .Select(sequence => sequence.Append(sequence[0]).ToArray()) // and a redelivery of the first
            .ToList();
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var cases = new List<(long MessageId, string Expected)>();
        foreach (var sequence in sequences)
        {
            var wamid = $"wamid.every-{Guid.NewGuid():N}";
            var messageId = await factory.InsertMessageAsync(businessId, wamid);
            var statuses = sequence.Select(status => Status(wamid, status, T0.AddSeconds(Array.IndexOf(order, status)),
                errorCode: status == "failed" ? 131026 : null)).ToArray();
            (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [.. statuses]))))).EnsureSuccessStatusCode();
            cases.Add((messageId, sequence.MaxBy(status => Array.IndexOf(order, status))!));
        }

        await factory.ApplyWebhooksAsync();

        Assert.Equal(64, sequences.Count);
        foreach (var (messageId, expected) in cases)
        {
            Assert.Equal(expected, (await factory.MessageAsync(messageId)).DeliveryStatus);
        }
    }

    private static IEnumerable<string[]> Subsets(string[] items) =>
        Enumerable.Range(1, (1 << items.Length) - 1).Select(mask => items.Where((_, i) => (mask & (1 << i)) != 0).ToArray());

    private static IEnumerable<string[]> Permutations(string[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany((first, i) => Permutations([.. items[..i], .. items[(i + 1)..]]).Select(rest => (string[])[first, .. rest]));

    [Fact]
    public async Task OnePassOfManyReportsGivesEachItsOwnMessageAndParksOnlyTheUnknown()
    {
        // One pass applies many reports together: each must reach its own message when found ones and
        // parked ones alternate, by Meta's id or by our callback data (a guard for batching the statements).
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var byWamid = await factory.InsertMessageAsync(businessId, "wamid.pass-1");
        var byCallback = await factory.InsertMessageAsync(businessId, wamid: null);
        var twiceFailed = await factory.InsertMessageAsync(businessId, "wamid.pass-3");

        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
        [
            Status("wamid.pass-unknown-1", "read", T0),
            Status("wamid.pass-1", "delivered", T0),
            Status("wamid.pass-unknown-2", "failed", T0, errorCode: 131026),
            Status("wamid.pass-2", "sent", T0, callbackData: await factory.ReferenceAsync(byCallback)),
            Status("wamid.pass-3", "failed", T0, errorCode: 131026),
        ]))));
        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
        [
            Status("wamid.pass-3", "failed", T0.AddSeconds(1), errorCode: 131047),
            Status("wamid.pass-1", "sent", T0.AddSeconds(-1)),
        ]))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal("delivered", (await factory.MessageAsync(byWamid)).DeliveryStatus);
        Assert.Equal(["delivered", "sent"], await HistoryAsync(byWamid));
        var late = await factory.MessageAsync(byCallback);
        Assert.Equal(("wamid.pass-2", "sent"), (late.Wamid, late.DeliveryStatus));
        // Of two reports of the same rank, the first counts: a status only moves to a higher rank.
        Assert.Equal(131026, (await factory.MessageAsync(twiceFailed)).FailureCode);
        Assert.Equal(["failed", "failed"], await HistoryAsync(twiceFailed));
        await factory.WithDbAsync(async db => Assert.Equal(["wamid.pass-unknown-1", "wamid.pass-unknown-2"],
            await db.ParkedStatuses.Where(p => p.BusinessId == businessId).OrderBy(p => p.Id).Select(p => p.Wamid).ToListAsync()));
    }

    [Theory] // a template or OTP Meta refused under the 24-hour rule: advising a template would not help (FailureReasons)
    [InlineData(MessageKinds.Text, "More than 24 hours have passed since the customer last replied; send an approved template instead.")]
    [InlineData(MessageKinds.Template, "Meta refused this template under its 24-hour customer service window rule (131047); templates normally work at any time: check the template's status and category in WhatsApp Manager.")]
    [InlineData(MessageKinds.Otp, "Meta refused this template under its 24-hour customer service window rule (131047); templates normally work at any time: check the template's status and category in WhatsApp Manager.")]
    public async Task AWindowFailureAdvisesATemplateOnlyForAFreeFormMessage(string kind, string reason)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, $"wamid.window-{kind}", kind);

        await factory.DeliverStatusesAsync(phoneNumberId, Status($"wamid.window-{kind}", "failed", T0, errorCode: 131047));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal((131047, reason), (message.FailureCode, message.FailureReason));
    }

    [Theory] // {0}: a send's reference, {1}: its random part, {2}: its row number
    [InlineData("{0}", true)]
    [InlineData("{0} ", false)]
    [InlineData(" {0}", false)]
    [InlineData("TWB:{1}", false)]
    [InlineData("{1}", false)]
    [InlineData("twb:{2}", false)] // the row number, as references were before: guessable, so it names nothing now
    public async Task CallbackDataNamesAMessageOnlyAsItsSendWroteIt(string form, bool names)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, wamid: null);
        var reference = await factory.ReferenceAsync(messageId);
        var wamid = "wamid.callback-" + Guid.NewGuid();

        await factory.DeliverStatusesAsync(phoneNumberId, Status(wamid, "sent", T0,
            callbackData: string.Format(CultureInfo.InvariantCulture, form, reference, reference[MessageReferences.Prefix.Length..], messageId)));

        Assert.Equal(names ? wamid : null, (await factory.MessageAsync(messageId)).Wamid);
    }

    [Fact]
    public async Task AnErrorTitleWithQuotesBackslashesAndNonAsciiIsKeptExactly()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.title-1");
        const string title = "Échec \"d'envoi\" \\ 配信失敗 📵";

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.title-1", "failed", T0, errorCode: 999_001, errorTitle: title));

        Assert.Equal($"Meta reported '{title}' (code 999001) and did not deliver the message: Details of the error.", (await factory.MessageAsync(messageId)).FailureReason);
        await factory.WithDbAsync(async db => Assert.Equal(title,
            await db.MessageStatusEvents.Where(e => e.MessageId == messageId).Select(e => e.ErrorTitle).SingleAsync()));
    }

    [Theory]
    [InlineData(false, MessageKinds.Text)]
    [InlineData(true, MessageKinds.Text)] // parked until the send's row appears
    [InlineData(false, MessageKinds.Template)] // a template's or OTP's reason is its own sentence (its 24-hour refusal), the details too
    [InlineData(true, MessageKinds.Otp)]
    public async Task AFailureWithACodeWithoutItsOwnSentenceTellsMetasDetails(bool parked, string kind)
    {
        // Meta's title alone ("Generic user error") says nothing a CRM user can act on; its error_data.details says what
        // went wrong, and the send's own answer for a refusal already gives it (MetaErrorMapping).
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var wamid = $"wamid.details-{Guid.NewGuid():N}";
        const string details = "Recipient phone number is in a country where business messaging is not available.";
        var failed = Status(wamid, "failed", T0, errorCode: 135000, errorTitle: "Generic user error");
        failed["errors"]![0]!["error_data"]!["details"] = details;
        var messageId = parked ? 0 : await factory.InsertMessageAsync(businessId, wamid, kind);

        await factory.DeliverStatusesAsync(phoneNumberId, failed);
        if (parked)
        {
            messageId = await factory.InsertMessageAsync(businessId, wamid, kind);
            await factory.ApplyWebhooksAsync();
        }

        var (key, _) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateApiClient(key);
        var status = await (await client.GetAsync($"/api/v1/message-status/{wamid}")).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        Assert.Equal("failed", status.GetProperty("delivery_status").GetString());
        Assert.Equal($"Meta reported 'Generic user error' (code 135000) and did not deliver the message: {details}",
            status.GetProperty("failure_reason").GetString());
    }

    [Fact]
    public async Task ARedeliveredStatusIsOneHistoryEvent()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.dup-1");

        // Same event, different envelope (so the inbox stores both): the history keeps it once.
        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.dup-1", "delivered", T0));
        await factory.PostWebhookAsync(Delivery(Entry("another-waba", MessagesChange(phoneNumberId, statuses: [Status("wamid.dup-1", "delivered", T0)]))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(["delivered"], await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AStatusBeforeItsMessageIsParkedThenAppliedWhenTheMessageAppears()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.early-1", "delivered", T0));
        await factory.WithDbAsync(async db => Assert.True(await db.ParkedStatuses.AnyAsync(p => p.Wamid == "wamid.early-1")));
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.early-1");
        await factory.WithDbAsync(async db =>
        {
            await using var writer = new MessageStatusWriter(db, factory.Services.GetRequiredService<ParkedStatusSignal>(), factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Clock);
            Assert.Equal(1, await writer.ApplyParkedAsync(businessId, messageId, "wamid.early-1", default));
        });

        Assert.Equal("delivered", (await factory.MessageAsync(messageId)).DeliveryStatus);
        await factory.WithDbAsync(async db => Assert.False(await db.ParkedStatuses.AnyAsync(p => p.Wamid == "wamid.early-1")));
    }

    [Fact]
    public async Task AParkedReportRemovedByAnotherWriterMeanwhileIsNoError()
    {
        // The send path applies a message's parked reports right after Meta accepts it, and the processor
        // applies any left behind: both can load the same parked row. Here the other writer removes it
        // just after this one has read it; applying it again is harmless, failing is not.
        // The background processor may apply the parked row first (it looks for leftovers), and then this
        // writer finds none to race over; such a run is repeated, with a new message.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var connectionString = factory.Services.GetRequiredService<SqliteConnections>().ConnectionString;
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, connectionString);
        options.AddInterceptors(new RemoveParkedAfterReading(connectionString));
        var (applied, messageId) = (0, 0L);
        for (var run = 1; run <= 5 && applied == 0; run++)
        {
            var wamid = $"wamid.raced-{run}";
            await factory.DeliverStatusesAsync(phoneNumberId, Status(wamid, "delivered", T0));
            messageId = await factory.InsertMessageAsync(businessId, wamid);
            await using var db = new TwaBotDbContext(options.Options);
            await using var writer = new MessageStatusWriter(db, factory.Services.GetRequiredService<ParkedStatusSignal>(), factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Clock);

            applied = await writer.ApplyParkedAsync(businessId, messageId, wamid, default);
        }

        Assert.Equal(1, applied);
        Assert.Equal("delivered", (await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    /// <summary>Deletes every parked row, from another connection, once a query of them has been read.</summary>
    private sealed class RemoveParkedAfterReading(string connectionString) : DbCommandInterceptor
    {
        public override async ValueTask<InterceptionResult> DataReaderClosingAsync(
            System.Data.Common.DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
        {
            if (command.CommandText.Contains("FROM \"parked_statuses\"", StringComparison.Ordinal))
            {
                await using var other = new SqliteConnection(connectionString);
                await other.OpenAsync();
                await using var delete = other.CreateCommand();
                delete.CommandText = "DELETE FROM parked_statuses";
                await delete.ExecuteNonQueryAsync();
            }

            return result;
        }
    }

    [Fact]
    public async Task TheProcessorAppliesParkedStatusesLeftBehind()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.left-1", "read", T0));
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.left-1");

        await factory.ApplyWebhooksAsync();

        Assert.Equal("read", (await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task TheCallbackDataFindsAMessageWhoseSendNeverHeardBack()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, wamid: null);

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.late-answer", "sent", T0, callbackData: await factory.ReferenceAsync(messageId)));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal("wamid.late-answer", message.Wamid);
        Assert.Equal("success", message.ApiStatus);
        Assert.Equal("sent", message.DeliveryStatus);
    }

    [Fact]
    public async Task AMarketingRefusalFoundByItsCallbackDataStopsMarketingForItsBusiness()
    {
        // The send never heard Meta's answer: the refusal finds the message by our id, and the stop is its business's.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, wamid: null, MessageKinds.Template);

        await factory.DeliverStatusesAsync(phoneNumberId,
            Status("wamid.refused-late", "failed", T0, recipient: "919876543210", callbackData: await factory.ReferenceAsync(messageId), errorCode: 131050));

        Assert.Equal("failed", (await factory.MessageAsync(messageId)).DeliveryStatus);
        Assert.NotNull((await factory.ContactAsync(businessId, "919876543210"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task ACallbackNamingASendWhoseAnswerWasLostDoesNotSettleItWithAnotherCustomersReport()
    {
        // Before references were random, a database restored from an older backup gave its next sends the ids ("twb:N") its
        // lost sends had; Meta goes on reporting those for days (a read receipt). One made the new send to another customer,
        // whose outcome was unknown, a success with the lost message's wamid and status; a copy of the database elsewhere
        // still holds the same references.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        // To 919876543210; made now, so the sweep of interrupted sends, which other tests here set off, leaves it pending.
        var messageId = await factory.InsertMessageAsync(businessId, wamid: null, madeNow: true);

        await factory.DeliverStatusesAsync(phoneNumberId,
            Status("wamid.lost-send-read", "read", T0, recipient: "919811112222", callbackData: await factory.ReferenceAsync(messageId)));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal((ApiStatuses.Pending, (string?)null, (string?)null), (message.ApiStatus, message.Wamid, message.DeliveryStatus));
        Assert.Empty(await HistoryAsync(messageId));
    }

    [Theory] // the customer as Meta names them: the number as sent, its wa_id (a Brazilian mobile without its ninth digit), a pair Meta gave
    [InlineData("919876543210", "919876543210", false)]
    [InlineData("5511987654321", "551187654321", false)]
    [InlineData("447700900123", "447700900999", true)]
    [InlineData("919876543210", "IN.80311920455124", false)] // a BSUID in the number's place: no number to tell another customer by
    public async Task ACallbackNamingASendWhoseAnswerWasLostSettlesItWithItsCustomersReport(string to, string recipient, bool pairKnown)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, wamid: null);
        await factory.WithDbAsync(async db =>
        {
            await db.Messages.Where(m => m.Id == messageId).ExecuteUpdateAsync(set => set.SetProperty(m => m.To, to));
            if (pairKnown)
            {
                db.RecipientWaIds.Add(new Conversations.RecipientWaId { BusinessId = businessId, Phone = to, WaId = recipient, UpdatedAt = T0.UtcDateTime });
                await db.SaveChangesAsync();
            }
        });

        await factory.DeliverStatusesAsync(phoneNumberId,
            Status($"wamid.late-{recipient}", "delivered", T0, recipient: recipient, callbackData: await factory.ReferenceAsync(messageId)));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal((ApiStatuses.Success, $"wamid.late-{recipient}", "delivered"), (message.ApiStatus, message.Wamid, message.DeliveryStatus));
    }

    [Fact]
    public async Task CallbackDataNamingAMessageWithAnotherWamidDoesNotTouchIt()
    {
        // A copy of this database on another server on the same number (a staging copy) holds the same references.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.ours-1");

        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.someone-elses", "failed", T0, callbackData: await factory.ReferenceAsync(messageId)));

        var message = await factory.MessageAsync(messageId);
        Assert.Equal("wamid.ours-1", message.Wamid);
        Assert.Null(message.DeliveryStatus);
        Assert.Empty(await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AParkedReportIsNotAppliedToTheMessageItsCallbackNamesWhenTheWamidsDiffer()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var reference = MessageReferences.New();
        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.foreign-2", "read", T0, callbackData: reference));
        var messageId = await factory.InsertMessageAsync(businessId, "wamid.ours-2", reference: reference);

        await factory.WithDbAsync(async db =>
        {
            await using var writer = new MessageStatusWriter(db, factory.Services.GetRequiredService<ParkedStatusSignal>(), factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Clock);
            Assert.Equal(0, await writer.ApplyParkedAsync(businessId, messageId, "wamid.ours-2", default));
        });
        await factory.ApplyWebhooksAsync();

        Assert.Null((await factory.MessageAsync(messageId)).DeliveryStatus);
        Assert.Empty(await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AnotherBusinessesStatusCannotTouchAMessage()
    {
        var (_, businessA) = await factory.ConnectedBusinessAsync();
        var (phoneB, _) = await factory.ConnectedBusinessAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        // Sent after B connected its number, so not from it (a report of a message sent from it before is: FormerNumberTests).
        var messageId = await factory.InsertMessageAsync(businessA, "wamid.tenant-a", madeNow: true);

        await factory.DeliverStatusesAsync(phoneB, Status("wamid.tenant-a", "read", T0, callbackData: await factory.ReferenceAsync(messageId)));

        Assert.Null((await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task AnotherBusinessesNumberCannotTouchAMessageSentFromItsOwnNumberBeforeThatNumberWasConnected()
    {
        // A has had its own number since before the send, so the message went out from it: a report of it on B's number,
        // connected later, is not the report of a message sent from B's number before it moved.
        var (_, businessA) = await factory.ConnectedBusinessAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var messageId = await factory.InsertMessageAsync(businessA, "wamid.tenant-a-own-number", madeNow: true);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var (phoneB, _) = await factory.ConnectedBusinessAsync();

        await factory.DeliverStatusesAsync(phoneB, Status("wamid.tenant-a-own-number", "read", T0));

        Assert.Null((await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task ReconnectingNumbersWithNewTokensDoesNotBringOtherBusinessesEarlierMessagesWithinTheirReach()
    {
        // A new token for the same number moves nothing: a message sent before it, from another business's number, is not its.
        var (phoneA, businessA) = await factory.ConnectedBusinessAsync();
        var (phoneB, businessB) = await factory.ConnectedBusinessAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var messageId = await factory.InsertMessageAsync(businessA, "wamid.tenant-a-before-refresh", madeNow: true);
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        // Both take a new token for the numbers they have (the same sandbox numbers again).
        Assert.Equal(phoneA, await factory.ConnectWhatsAppAsync(businessA));
        Assert.Equal(phoneB, await factory.ConnectWhatsAppAsync(businessB));

        await factory.DeliverStatusesAsync(phoneB, Status("wamid.tenant-a-before-refresh", "read", T0));

        Assert.Null((await factory.MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task CallbackDataBesideAWamidAnotherMessageHasNeitherTakesItNorHoldsUpTheDeliverysOtherReports()
    {
        // The wamid is Meta's and names one message: given to the row the callback names, it failed the whole delivery on
        // the unique index, and the other message's report in it was never applied.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var (_, other) = await factory.ConnectedBusinessAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        var othersMessage = await factory.InsertMessageAsync(other, "wamid.someone-elses-2", madeNow: true);
        var waiting = await factory.InsertMessageAsync(businessId, wamid: null, madeNow: true); // not one the sweep settles when the clock moves
        var ours = await factory.InsertMessageAsync(businessId, "wamid.ours-beside");

        await factory.DeliverStatusesAsync(phoneNumberId,
            Status("wamid.someone-elses-2", "delivered", T0, callbackData: await factory.ReferenceAsync(waiting)), Status("wamid.ours-beside", "read", T0));

        Assert.Equal("read", (await factory.MessageAsync(ours)).DeliveryStatus);
        var stillWaiting = await factory.MessageAsync(waiting);
        Assert.Equal((ApiStatuses.Pending, (string?)null), (stillWaiting.ApiStatus, stillWaiting.Wamid));
        Assert.Null((await factory.MessageAsync(othersMessage)).DeliveryStatus);
    }

    [Fact]
    public async Task AnUnknownPhoneNumberIdIsIgnoredWithoutError()
    {
        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange("000111222333", statuses: [Status("wamid.nobody", "sent", T0)]))));

        await factory.ApplyWebhooksAsync();

        await factory.WithDbAsync(async db =>
        {
            Assert.False(await db.ParkedStatuses.AnyAsync(p => p.Wamid == "wamid.nobody"));
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null && e.Attempts < 5));
        });
    }

    [Fact]
    public async Task ANumberNoBusinessIsConnectedToIsLoggedOncePerDeliveryNotPerStatus()
    {
        const string unknownNumber = "109000000000777";

        await factory.DeliverStatusesAsync(unknownNumber, Status("wamid.nobody-1", "sent", T0), Status("wamid.nobody-2", "sent", T0), Status("wamid.nobody-3", "sent", T0));

        Assert.Single(factory.Logs.Events, e => e.MessageTemplate.Text.Contains("which no business is connected to", StringComparison.Ordinal)
            && e.Properties["PhoneNumberId"].ToString() == $"\"{unknownNumber}\"");
    }

    [Fact]
    public async Task AReportCarryingTheCallbackOfASendMetaRefusedDoesNotTurnItIntoASuccess()
    {
        // Meta refused the send (no message exists), and its unit went back; a report naming that row's reference
        // (a copy of this database on another server on the same number, say) used to make it a success.
        var message = await AfterAReportWithItsCallbackAsync(ApiStatuses.Failed, "Meta refused it.", "wamid.someone-elses", "sent");

        Assert.Equal((ApiStatuses.Failed, (string?)null, "Meta refused it."), (message.ApiStatus, message.Wamid, message.FailureReason));
    }

    [Fact]
    public async Task AReportSettlingALostAnswerMakesTheMessageSentAndClearsTheUnknownReason()
    {
        // The sweep marked it unknown; then a report the server does not track (played) proves Meta took it.
        var message = await AfterAReportWithItsCallbackAsync(
            ApiStatuses.Unknown, "The send was interrupted before Meta answered.", "wamid.lost-answer", "played");

        Assert.Equal((ApiStatuses.Success, "sent", (string?)null, "wamid.lost-answer"),
            (message.ApiStatus, message.DeliveryStatus, message.FailureReason, message.Wamid));
    }

    [Fact]
    public async Task MetasAnswerArrivingAfterAReportKeepsTheReportsSentAt()
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var id = await factory.InsertMessageAsync(businessId, wamid: null);
        var report = Status("wamid.answer-late", "delivered", T0);
        report["biz_opaque_callback_data"] = await factory.ReferenceAsync(id);
        await factory.DeliverStatusesAsync(phoneNumberId, report);

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(
            new MessageWrite.Accepted(id, "wamid.answer-late", T0.UtcDateTime.AddSeconds(3), null));

        Assert.Equal(T0.UtcDateTime, (await factory.MessageAsync(id)).SentAt);
    }

    [Fact]
    public async Task MetasAnswerWithoutAnEarlierReportStampsTheRowWithItsTime()
    {
        // The operator reads when the row last changed (updated_at) and when Meta took the message (sent_at).
        var (_, businessId) = await factory.ConnectedBusinessAsync();
        var id = await factory.InsertMessageAsync(businessId, wamid: null);
        var answeredAt = T0.UtcDateTime.AddSeconds(3);

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(new MessageWrite.Accepted(id, "wamid.answer-stamped", answeredAt, null));

        var message = await factory.MessageAsync(id);
        Assert.Equal(((DateTime?)answeredAt, answeredAt, "sent"), (message.SentAt, message.UpdatedAt, message.DeliveryStatus));
    }

    [Fact]
    public async Task MetasAnswerArrivingAfterAReportDoesNotMoveItsStatusBack()
    {
        // Meta's answer means "sent"; a report that overtook it (found by its callback data) already went further.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var id = await factory.InsertMessageAsync(businessId, wamid: null);
        var report = Status("wamid.answer-after-read", "read", T0);
        report["biz_opaque_callback_data"] = await factory.ReferenceAsync(id);
        await factory.DeliverStatusesAsync(phoneNumberId, report);

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(
            new MessageWrite.Accepted(id, "wamid.answer-after-read", T0.UtcDateTime.AddSeconds(3), null));
        await factory.DeliverStatusesAsync(phoneNumberId, Status("wamid.answer-after-read", "delivered", T0.AddSeconds(1)));

        Assert.Equal("read", (await factory.MessageAsync(id)).DeliveryStatus);
    }

    [Fact]
    public async Task AnUnknownOutcomeRecordedAfterAReportProvedTheSendLeavesTheSuccess()
    {
        // Meta's answer was lost (recorded as pending) after its report, found by callback data, had proved the message sent.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var id = await factory.InsertMessageAsync(businessId, wamid: null);
        var report = Status("wamid.report-before-timeout", "delivered", T0);
        report["biz_opaque_callback_data"] = await factory.ReferenceAsync(id);
        await factory.DeliverStatusesAsync(phoneNumberId, report);

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(new MessageWrite.Failed(
            id, ApiStatuses.Pending, null, "Meta did not answer in time. The message may still be delivered.", T0.UtcDateTime.AddSeconds(30)));

        var message = await factory.MessageAsync(id);
        Assert.Equal((ApiStatuses.Success, "delivered", (string?)null), (message.ApiStatus, message.DeliveryStatus, message.FailureReason));
    }

    /// <summary>A row with no wamid in the given state, then a status report naming it by its callback data (its reference).</summary>
    private async Task<Message> AfterAReportWithItsCallbackAsync(string apiStatus, string reason, string reportWamid, string reportStatus)
    {
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var id = await factory.InsertMessageAsync(businessId, wamid: null);
        await factory.WithDbAsync(db => db.Messages.Where(m => m.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(m => m.ApiStatus, apiStatus).SetProperty(m => m.FailureReason, reason)));
        var report = Status(reportWamid, reportStatus, T0);
        report["biz_opaque_callback_data"] = await factory.ReferenceAsync(id);

        await factory.DeliverStatusesAsync(phoneNumberId, report);
        return await factory.MessageAsync(id);
    }

    private async Task<List<string>> HistoryAsync(long messageId)
    {
        List<string> history = [];
        await factory.WithDbAsync(async db => history = await db.MessageStatusEvents
            .Where(e => e.MessageId == messageId).OrderBy(e => e.Id).Select(e => e.Status).ToListAsync());
        return history;
    }
}
