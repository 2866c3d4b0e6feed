using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using TwaBot.Api.Data;
using TwaBot.Api.Conversations;
using TwaBot.Api.Messages;
using TwaBot.Api.Templates;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>What applying Meta's deliveries does to messages, contacts, suppressions and templates.</summary>
public class WebhookProcessingTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task ADeliveredStatusMovesTheMessageAndIsKeptInItsHistory()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.delivered-1");

        await DeliverAsync(phoneNumberId, Status("wamid.delivered-1", "sent", T0), Status("wamid.delivered-1", "delivered", T0.AddSeconds(2)));

        var message = await MessageAsync(messageId);
        Assert.Equal("delivered", message.DeliveryStatus);
        Assert.Equal(["sent", "delivered"], await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AFailedStatusStoresAHumanReason()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.failed-1");

        await DeliverAsync(phoneNumberId, Status("wamid.failed-1", "failed", T0, errorCode: 131026, errorTitle: "Message undeliverable"));

        var message = await MessageAsync(messageId);
        Assert.Equal("failed", message.DeliveryStatus);
        Assert.Equal(131026, message.FailureCode);
        Assert.Equal("Message undeliverable — recipient's phone is not on WhatsApp.", message.FailureReason);
    }

    [Fact]
    public async Task AReportThatIsNotAFailureStoresNoFailureEvenWhenItCarriesAnError()
    {
        // A later delivered replaces failed (another device): the message is no longer failed, whatever
        // error object the report carries, so neither the code nor the reason may stay or appear.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.failed-then-delivered");

        await DeliverAsync(phoneNumberId, Status("wamid.failed-then-delivered", "failed", T0, errorCode: 131026, errorTitle: "Message undeliverable"));
        await DeliverAsync(phoneNumberId,
            Status("wamid.failed-then-delivered", "delivered", T0.AddSeconds(5), errorCode: 131049, errorTitle: "Ecosystem engagement"));

        var message = await MessageAsync(messageId);
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
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = $"wamid.order-{Guid.NewGuid():N}";
        var messageId = await InsertMessageAsync(businessId, wamid);

        for (var i = 0; i < arrivals.Length; i++)
        {
            await DeliverAsync(phoneNumberId, Status(wamid, arrivals[i], T0.AddSeconds(i), errorCode: arrivals[i] == "failed" ? 131026 : null));
        }

        Assert.Equal(expected, (await MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task EveryArrivalOrderOfEveryStatusSetEndsAtItsFurthestStatus()
    {
        // PRODUCT.md §2's order, furthest last: failed never replaces delivered or read, and they replace failed.
        string[] order = ["sent", "failed", "delivered", "read"];
        var sequences = Subsets(order).SelectMany(Permutations)
            .Select(sequence => sequence.Append(sequence[0]).ToArray()) // and a redelivery of the first
            .ToList();
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var cases = new List<(long MessageId, string Expected)>();
        foreach (var sequence in sequences)
        {
            var wamid = $"wamid.every-{Guid.NewGuid():N}";
            var messageId = await InsertMessageAsync(businessId, wamid);
            var statuses = sequence.Select(status => Status(wamid, status, T0.AddSeconds(Array.IndexOf(order, status)),
                errorCode: status == "failed" ? 131026 : null)).ToArray();
            (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [.. statuses]))))).EnsureSuccessStatusCode();
            cases.Add((messageId, sequence.MaxBy(status => Array.IndexOf(order, status))!));
        }

        await factory.ApplyWebhooksAsync();

        Assert.Equal(64, sequences.Count);
        foreach (var (messageId, expected) in cases)
        {
            Assert.Equal(expected, (await MessageAsync(messageId)).DeliveryStatus);
        }
    }

    private static IEnumerable<string[]> Subsets(string[] items) =>
        Enumerable.Range(1, (1 << items.Length) - 1).Select(mask => items.Where((_, i) => (mask & (1 << i)) != 0).ToArray());

    private static IEnumerable<string[]> Permutations(string[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany((first, i) => Permutations([.. items[..i], .. items[(i + 1)..]]).Select(rest => (string[])[first, .. rest]));

    [Fact]
    public async Task ABatchOfEntriesChangesAndStatusesIsAppliedInFull()
    {
        var (phoneA, businessA) = await ConnectedBusinessAsync();
        var (phoneB, businessB) = await ConnectedBusinessAsync();
        var a1 = await InsertMessageAsync(businessA, "wamid.batch-a1");
        var a2 = await InsertMessageAsync(businessA, "wamid.batch-a2");
        var b1 = await InsertMessageAsync(businessB, "wamid.batch-b1");

        await factory.PostWebhookAsync(Delivery(
            Entry(
                MessagesChange(phoneA, statuses: [Status("wamid.batch-a1", "delivered", T0), Status("wamid.batch-a2", "read", T0)]),
                MessagesChange(phoneA, messages: [Text("wamid.batch-in", "919811112222", "hello", T0)])),
            Entry(MessagesChange(phoneB, statuses: [Status("wamid.batch-b1", "sent", T0)]))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal("delivered", (await MessageAsync(a1)).DeliveryStatus);
        Assert.Equal("read", (await MessageAsync(a2)).DeliveryStatus);
        Assert.Equal("sent", (await MessageAsync(b1)).DeliveryStatus);
        Assert.Equal(T0.UtcDateTime, (await ContactAsync(businessA, "919811112222"))?.LastInboundAt);
    }

    [Fact]
    public async Task OnePassOfManyReportsGivesEachItsOwnMessageAndParksOnlyTheUnknown()
    {
        // One pass applies many reports together: each must reach its own message when found ones and
        // parked ones alternate, by Meta's id or by our callback data (a guard for batching the statements).
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var byWamid = await InsertMessageAsync(businessId, "wamid.pass-1");
        var byCallback = await InsertMessageAsync(businessId, wamid: null);
        var twiceFailed = await InsertMessageAsync(businessId, "wamid.pass-3");

        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
        [
            Status("wamid.pass-unknown-1", "read", T0),
            Status("wamid.pass-1", "delivered", T0),
            Status("wamid.pass-unknown-2", "failed", T0, errorCode: 131026),
            Status("wamid.pass-2", "sent", T0, callbackData: StatusReports.CallbackData(byCallback)),
            Status("wamid.pass-3", "failed", T0, errorCode: 131026),
        ]))));
        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses:
        [
            Status("wamid.pass-3", "failed", T0.AddSeconds(1), errorCode: 131047),
            Status("wamid.pass-1", "sent", T0.AddSeconds(-1)),
        ]))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal("delivered", (await MessageAsync(byWamid)).DeliveryStatus);
        Assert.Equal(["delivered", "sent"], await HistoryAsync(byWamid));
        var late = await MessageAsync(byCallback);
        Assert.Equal(("wamid.pass-2", "sent"), (late.Wamid, late.DeliveryStatus));
        // Of two reports of the same rank, the first counts: a status only moves to a higher rank.
        Assert.Equal(131026, (await MessageAsync(twiceFailed)).FailureCode);
        Assert.Equal(["failed", "failed"], await HistoryAsync(twiceFailed));
        await factory.WithDbAsync(async db => Assert.Equal(["wamid.pass-unknown-1", "wamid.pass-unknown-2"],
            await db.ParkedStatuses.Where(p => p.BusinessId == businessId).OrderBy(p => p.Id).Select(p => p.Wamid).ToListAsync()));
    }

    [Fact]
    public async Task AnErrorTitleWithQuotesBackslashesAndNonAsciiIsKeptExactly()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.title-1");
        const string title = "Échec \"d'envoi\" \\ 配信失敗 📵";

        await DeliverAsync(phoneNumberId, Status("wamid.title-1", "failed", T0, errorCode: 999_001, errorTitle: title));

        Assert.Equal($"Meta reported '{title}' (code 999001) and did not deliver the message.", (await MessageAsync(messageId)).FailureReason);
        await factory.WithDbAsync(async db => Assert.Equal(title,
            await db.MessageStatusEvents.Where(e => e.MessageId == messageId).Select(e => e.ErrorTitle).SingleAsync()));
    }

    [Fact]
    public async Task ARedeliveredStatusIsOneHistoryEvent()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.dup-1");

        // Same event, different envelope (so the inbox stores both): the history keeps it once.
        await DeliverAsync(phoneNumberId, Status("wamid.dup-1", "delivered", T0));
        await factory.PostWebhookAsync(Delivery(Entry("another-waba", MessagesChange(phoneNumberId, statuses: [Status("wamid.dup-1", "delivered", T0)]))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(["delivered"], await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AStatusBeforeItsMessageIsParkedThenAppliedWhenTheMessageAppears()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverAsync(phoneNumberId, Status("wamid.early-1", "delivered", T0));
        await factory.WithDbAsync(async db => Assert.True(await db.ParkedStatuses.AnyAsync(p => p.Wamid == "wamid.early-1")));
        var messageId = await InsertMessageAsync(businessId, "wamid.early-1");
        await factory.WithDbAsync(async db =>
        {
            await using var writer = new MessageStatusWriter(db, factory.Services.GetRequiredService<ParkedStatusSignal>(), factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Clock);
            Assert.Equal(1, await writer.ApplyParkedAsync(businessId, messageId, "wamid.early-1", default));
        });

        Assert.Equal("delivered", (await MessageAsync(messageId)).DeliveryStatus);
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
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var connectionString = factory.Services.GetRequiredService<SqliteConnections>().ConnectionString;
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, connectionString);
        options.AddInterceptors(new RemoveParkedAfterReading(connectionString));
        var (applied, messageId) = (0, 0L);
        for (var run = 1; run <= 5 && applied == 0; run++)
        {
            var wamid = $"wamid.raced-{run}";
            await DeliverAsync(phoneNumberId, Status(wamid, "delivered", T0));
            messageId = await InsertMessageAsync(businessId, wamid);
            await using var db = new TwaBotDbContext(options.Options);
            await using var writer = new MessageStatusWriter(db, factory.Services.GetRequiredService<ParkedStatusSignal>(), factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Clock);

            applied = await writer.ApplyParkedAsync(businessId, messageId, wamid, default);
        }

        Assert.Equal(1, applied);
        Assert.Equal("delivered", (await MessageAsync(messageId)).DeliveryStatus);
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
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await DeliverAsync(phoneNumberId, Status("wamid.left-1", "read", T0));
        var messageId = await InsertMessageAsync(businessId, "wamid.left-1");

        await factory.ApplyWebhooksAsync();

        Assert.Equal("read", (await MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task TheCallbackDataFindsAMessageWhoseSendNeverHeardBack()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);

        await DeliverAsync(phoneNumberId, Status("wamid.late-answer", "sent", T0, callbackData: StatusReports.CallbackData(messageId)));

        var message = await MessageAsync(messageId);
        Assert.Equal("wamid.late-answer", message.Wamid);
        Assert.Equal("success", message.ApiStatus);
        Assert.Equal("sent", message.DeliveryStatus);
    }

    [Fact]
    public async Task CallbackDataNamingAMessageWithAnotherWamidDoesNotTouchIt()
    {
        // Another server on the same number (a staging copy, a restored backup) makes the same "twb:N".
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.ours-1");

        await DeliverAsync(phoneNumberId, Status("wamid.someone-elses", "failed", T0, callbackData: StatusReports.CallbackData(messageId)));

        var message = await MessageAsync(messageId);
        Assert.Equal("wamid.ours-1", message.Wamid);
        Assert.Null(message.DeliveryStatus);
        Assert.Empty(await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AParkedReportIsNotAppliedToTheMessageItsCallbackNamesWhenTheWamidsDiffer()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await DeliverAsync(phoneNumberId, Status("wamid.foreign-2", "read", T0, callbackData: StatusReports.CallbackData(987_654)));
        var messageId = await InsertMessageAsync(businessId, "wamid.ours-2", id: 987_654);

        await factory.WithDbAsync(async db =>
        {
            await using var writer = new MessageStatusWriter(db, factory.Services.GetRequiredService<ParkedStatusSignal>(), factory.Services.GetRequiredService<SqliteWriteGate>(), factory.Clock);
            Assert.Equal(0, await writer.ApplyParkedAsync(businessId, messageId, "wamid.ours-2", default));
        });
        await factory.ApplyWebhooksAsync();

        Assert.Null((await MessageAsync(messageId)).DeliveryStatus);
        Assert.Empty(await HistoryAsync(messageId));
    }

    [Fact]
    public async Task AnotherBusinessesStatusCannotTouchAMessage()
    {
        var (_, businessA) = await ConnectedBusinessAsync();
        var (phoneB, _) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessA, "wamid.tenant-a");

        await DeliverAsync(phoneB, Status("wamid.tenant-a", "read", T0, callbackData: StatusReports.CallbackData(messageId)));

        Assert.Null((await MessageAsync(messageId)).DeliveryStatus);
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
    public async Task AnInboundMessageOpensTheWindowAtItsOwnTimeAndAnOlderOneNeverMovesItBack()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text("wamid.in-new", "919833334444", "Where is my order?", T0));
        await DeliverMessagesAsync(phoneNumberId, Text("wamid.in-old", "919833334444", "Hello?", T0.AddHours(-3)));

        var contact = await ContactAsync(businessId, "919833334444");
        Assert.Equal(T0.UtcDateTime, contact?.LastInboundAt);
        Assert.Equal("Sheena Nelson", contact?.Name);
    }

    [Fact]
    public async Task AnInboundMessageRedeliveredInADeliveryOfAnotherShapeIsKeptOnceAndAppliedWithoutError()
    {
        // Meta may send a message again in another body (here without the contact it came with): the body's hash
        // does not match the first delivery's, the message's wamid does.
        var (phoneNumberId, _) = await ConnectedBusinessAsync();
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
    public async Task StopAndUnsubscribeOptOutAsAWholeMessage(string text, bool optedOut)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", "919855556666", text, T0));

        var state = await SuppressionStateAsync(businessId, "919855556666");
        Assert.Equal(optedOut ? SuppressionStates.OptedOut : null, state);
    }

    [Theory]
    [InlineData("START")]
    [InlineData("subscribe")]
    public async Task StartAndSubscribeOptBackIn(string text)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.optout-{Guid.NewGuid():N}", "919877778888", "STOP", T0));

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.optin-{Guid.NewGuid():N}", "919877778888", text, T0.AddMinutes(1)));

        Assert.Null(await SuppressionStateAsync(businessId, "919877778888"));
    }

    [Theory]
    [InlineData("STOP", 0, "START", 1, null)]                       // in order
    [InlineData("START", 1, "STOP", 0, null)]                       // a late STOP does not undo the later START
    [InlineData("START", 0, "UNSUBSCRIBE", 1, SuppressionStates.OptedOut)]
    [InlineData("STOP", 1, "subscribe", 0, SuppressionStates.OptedOut)] // a late START does not undo the later STOP
    [InlineData("STOP", 0, "STOP", -1, SuppressionStates.OptedOut)]
    public async Task TheCustomersLatestKeywordDecidesWhateverTheArrivalOrder(
        string first, int firstMinute, string second, int secondMinute, string? expected)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.kw1-{Guid.NewGuid():N}", "919866667777", first, T0.AddMinutes(firstMinute)));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.kw2-{Guid.NewGuid():N}", "919866667777", second, T0.AddMinutes(secondMinute)));

        Assert.Equal(expected, await SuppressionStateAsync(businessId, "919866667777"));
        // The window still counts from the latest message, whichever keyword it carried.
        Assert.Equal(T0.AddMinutes(Math.Max(firstMinute, secondMinute)).UtcDateTime, (await ContactAsync(businessId, "919866667777"))?.LastInboundAt);
    }

    [Fact]
    public async Task AStartLiftsOnlyItsOwnCustomersOptOut()
    {
        // Another customer's STOP stands: START opts the writer back in, nobody else.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-a-{Guid.NewGuid():N}", "919811110001", "STOP", T0));
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-b-{Guid.NewGuid():N}", "919811110002", "STOP", T0));

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.start-a-{Guid.NewGuid():N}", "919811110001", "START", T0.AddMinutes(1)));

        Assert.Null(await SuppressionStateAsync(businessId, "919811110001"));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, "919811110002"));
    }

    [Fact]
    public async Task StartNeverLiftsABlock()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
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
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var customer = $"9198{Random.Shared.Next(10_000_000, 99_999_999)}";
        await factory.WithDbAsync(async db =>
        {
            db.Suppressions.Add(new Suppression { BusinessId = businessId, Phone = customer, State = before, Reason = "Set by the operator" });
            await db.SaveChangesAsync();
        });

        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", customer, "STOP", T0));

        Assert.Equal(after, await SuppressionStateAsync(businessId, customer));
    }

    [Fact]
    public async Task MetasMarketingOptOutIsRecordedAndResumeClearsIt()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505551234", "stop", T0))));
        await factory.ApplyWebhooksAsync();
        var stopped = (await ContactAsync(businessId, "16505551234"))?.MarketingOptOutAt;
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505551234", "resume", T0.AddDays(1)))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(T0.UtcDateTime, stopped);
        Assert.Null((await ContactAsync(businessId, "16505551234"))?.MarketingOptOutAt);
    }

    [Fact]
    public async Task AMetaSystemNoticeOpensNoWindowAndCarriesNoKeyword()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, SystemMessage("wamid.sys-1", "919844445555",
            new JsonObject { ["type"] = "user_changed_number", ["body"] = "STOP", ["new_wa_id"] = "919844446666" }, T0));

        Assert.Null((await ContactAsync(businessId, "919844445555"))?.LastInboundAt);
        Assert.Null(await SuppressionStateAsync(businessId, "919844445555"));
    }

    [Theory]
    [InlineData("wa_id", "user_changed_number")]             // Meta's shape
    [InlineData("new_wa_id", "user_changed_number")]         // webhooks of Graph versions before v12.0
    [InlineData("wa_id", "customer_changed_number")]         // the type's name in Meta's older reference
    public async Task ACustomersStopAndMarketingStopFollowThemToTheirNewNumber(string newWaIdField, string type)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var (former, current) = ($"9198{Random.Shared.Next(10_000_000, 99_999_999)}", $"9197{Random.Shared.Next(10_000_000, 99_999_999)}");
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", former, "STOP", T0));
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, former, "stop", T0))));

        await DeliverMessagesAsync(phoneNumberId, SystemMessage($"wamid.changed-{Guid.NewGuid():N}", former, new JsonObject
        {
            ["body"] = $"User Sheena changed from {former} to {current}", [newWaIdField] = current, ["type"] = type,
        }, T0.AddHours(1)));

        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, current));
        Assert.Equal(SuppressionStates.OptedOut, await SuppressionStateAsync(businessId, former)); // the old number may pass to someone else
        var moved = await ContactAsync(businessId, current);
        Assert.Equal(T0.AddHours(1).UtcDateTime, moved?.MarketingOptOutAt);
        Assert.Null(moved?.LastInboundAt); // a notice, not the customer writing
    }

    [Theory]
    [InlineData(true, false)]  // a STOP only: the new number is opted out, its marketing left alone
    [InlineData(false, true)]  // Meta's marketing stop only: marketing stopped, the new number not opted out of everything
    [InlineData(false, false)] // nothing to carry
    public async Task AChangedNumberCarriesOnlyTheOptOutsTheCustomerGave(bool stopped, bool stoppedMarketing)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var (former, current) = ($"9198{Random.Shared.Next(10_000_000, 99_999_999)}", $"9197{Random.Shared.Next(10_000_000, 99_999_999)}");
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.hello-{Guid.NewGuid():N}", former, stopped ? "STOP" : "Hello", T0));
        if (stoppedMarketing)
        {
            await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, former, "stop", T0))));
        }

        await DeliverMessagesAsync(phoneNumberId, SystemMessage($"wamid.changed-{Guid.NewGuid():N}", former,
            new JsonObject { ["body"] = "changed", ["wa_id"] = current, ["type"] = "user_changed_number" }, T0.AddHours(1)));

        Assert.Equal(stopped ? SuppressionStates.OptedOut : null, await SuppressionStateAsync(businessId, current));
        Assert.Equal(stoppedMarketing ? T0.AddHours(1).UtcDateTime : null, (await ContactAsync(businessId, current))?.MarketingOptOutAt);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AStartFromTheNewNumberAfterTheChangeStandsWhateverTheArrivalOrder(bool startArrivesFirst)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var (former, current) = ($"9198{Random.Shared.Next(10_000_000, 99_999_999)}", $"9197{Random.Shared.Next(10_000_000, 99_999_999)}");
        await DeliverMessagesAsync(phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", former, "STOP", T0));
        var notice = SystemMessage($"wamid.changed-{Guid.NewGuid():N}", former,
            new JsonObject { ["body"] = "changed", ["wa_id"] = current, ["type"] = "user_changed_number" }, T0.AddHours(1));
        var start = Text($"wamid.start-{Guid.NewGuid():N}", current, "START", T0.AddHours(2));

        foreach (var message in startArrivesFirst ? new[] { start, notice } : [notice, start])
        {
            await DeliverMessagesAsync(phoneNumberId, message);
        }

        Assert.Null(await SuppressionStateAsync(businessId, current));
    }

    [Fact]
    public async Task TheOlderSystemShapeOfAMarketingPreferenceIsRecorded()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, SystemMessage("wamid.sys-2", "16505552222", new JsonObject
        {
            ["type"] = "user_preference_changed", ["body"] = "User requested to stop marketing messages", ["marketing"] = "stop",
        }, T0));

        var contact = await ContactAsync(businessId, "16505552222");
        Assert.Equal(T0.UtcDateTime, contact?.MarketingOptOutAt);
        Assert.Null(contact?.LastInboundAt);
    }

    [Theory]
    [InlineData("resume", "stop", null)]   // a late stop does not undo the later resume
    [InlineData("stop", "resume", 1)]      // a late resume does not undo the later stop
    public async Task AnOlderMarketingPreferenceArrivingLaterChangesNothing(string later, string earlier, int? optedOutAtDay)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559876", later, T0.AddDays(1)))));
        await factory.ApplyWebhooksAsync();
        await factory.PostWebhookAsync(Delivery(Entry(UserPreference(phoneNumberId, "16505559876", earlier, T0))));
        await factory.ApplyWebhooksAsync();

        Assert.Equal(optedOutAtDay is { } day ? T0.AddDays(day).UtcDateTime : null, (await ContactAsync(businessId, "16505559876"))?.MarketingOptOutAt);
    }

    [Theory]
    [InlineData("PENDING", "APPROVED", true)]
    [InlineData("APPROVED", "PAUSED", false)]
    [InlineData("PAUSED", "REINSTATED", true)]
    [InlineData("APPROVED", "", true)]
    [InlineData("APPROVED", "LOCKED", true)]           // about editing, not sending
    [InlineData("APPROVED", "UNLOCKED", true)]
    [InlineData("APPROVED", "LIMIT_EXCEEDED", true)]   // about the account's template count
    [InlineData("ARCHIVED", "UNARCHIVED", true)]
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
    public async Task ANumberNoBusinessIsConnectedToIsLoggedOncePerDeliveryNotPerStatus()
    {
        const string unknownNumber = "109000000000777";

        await DeliverAsync(unknownNumber, Status("wamid.nobody-1", "sent", T0), Status("wamid.nobody-2", "sent", T0), Status("wamid.nobody-3", "sent", T0));

        Assert.Single(factory.Logs.Events, e => e.MessageTemplate.Text.Contains("which no business is connected to", StringComparison.Ordinal)
            && e.Properties["PhoneNumberId"].ToString() == $"\"{unknownNumber}\"");
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
    public async Task AReportCarryingTheCallbackOfASendMetaRefusedDoesNotTurnItIntoASuccess()
    {
        // Meta refused the send (no message exists), and its unit went back; a report naming that row's "twb:N"
        // (another server on the same number, say) used to make it a success.
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
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var id = await InsertMessageAsync(businessId, wamid: null);
        var report = Status("wamid.answer-late", "delivered", T0);
        report["biz_opaque_callback_data"] = $"twb:{id}";
        await DeliverAsync(phoneNumberId, report);

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(
            new MessageWrite.Accepted(id, "wamid.answer-late", T0.UtcDateTime.AddSeconds(3), null));

        Assert.Equal(T0.UtcDateTime, (await MessageAsync(id)).SentAt);
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

    [Fact]
    public async Task AnUnreadableEventIsRecordedAndDoesNotBlockTheOthers()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var wamid = "wamid.after-bad";
        var messageId = await InsertMessageAsync(businessId, wamid);
        const string body = "{\"entry\": [ this is not json";

        await factory.PostWebhookAsync(body);
        await DeliverAsync(phoneNumberId, Status(wamid, "delivered", T0));

        Assert.Equal("delivered", (await MessageAsync(messageId)).DeliveryStatus);
        var bytes = Encoding.UTF8.GetBytes(body);
        await factory.WithDbAsync(async db =>
        {
            var kept = await db.WebhookEvents.SingleAsync(e => e.Body == bytes);
            Assert.Null(kept.AppliedAt);
            Assert.NotNull(kept.LastError);
            // The error line names the stored row an operator would look at.
            Assert.Contains(factory.Logs.Events, e => e.Properties.TryGetValue("WebhookEventId", out var id) && id.ToString() == kept.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
    }

    [Fact]
    public async Task AnEventWithATimeNoCalendarHoldsIsAppliedAtItsTimeOfReceiptWithTheOthers()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var first = await InsertMessageAsync(businessId, "wamid.time-1");
        var second = await InsertMessageAsync(businessId, "wamid.time-2");
        var odd = Status("wamid.time-2", "read", T0);
        odd["timestamp"] = "99999999999999";

        await DeliverAsync(phoneNumberId, Status("wamid.time-1", "delivered", T0), odd);

        Assert.Equal(("delivered", "read"), ((await MessageAsync(first)).DeliveryStatus, (await MessageAsync(second)).DeliveryStatus));
    }

    [Fact]
    public async Task ACustomerMessageFromTheFarFutureOpensNoEndlessWindow()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();

        await DeliverMessagesAsync(phoneNumberId, Text("wamid.future", "919811112222", "hello", DateTimeOffset.FromUnixTimeSeconds(253402300799)));

        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, (await ContactAsync(businessId, "919811112222"))?.LastInboundAt);
    }

    [Theory]
    [InlineData("{\"id\":\"wamid.X\\ud800Y\",\"status\":\"delivered\",\"timestamp\":\"1776000000\",\"recipient_id\":\"919876543210\"}")]
    [InlineData("{\"id\":\"wamid.bytes\",\"status\":\"delivered\",\"timestamp\":\"1776000000\",\"recipient_id\":\"919876543210\",\"biz_opaque_callback_data\":\"@@\"}")]
    public async Task TextThatIsNotValidUnicodeDoesNotStopTheProcessor(string status)
    {
        // Valid JSON syntax (a lone surrogate escape; bytes that are not UTF-8), yet no string can hold it.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, "wamid.after-bad-text-" + status.Length);
        var body = Encoding.UTF8.GetBytes("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":\"messages\","
            + "\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"phone_number_id\":\"" + phoneNumberId + "\"},\"statuses\":[" + status + "]}}]}]}");
        body = [.. body.Select(b => b == (byte)'@' ? (byte)0xFF : b)]; // the second case's @@: bytes no UTF-8 text has

        await factory.PostWebhookAsync(body);
        await DeliverAsync(phoneNumberId, Status("wamid.after-bad-text-" + status.Length, "delivered", T0));

        Assert.Equal("delivered", (await MessageAsync(messageId)).DeliveryStatus);
    }

    [Fact]
    public async Task ADeliveryWithOddElementsAppliesWhatItCanAndDoesNotBlockTheOthers()
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var first = await InsertMessageAsync(businessId, "wamid.odd-1");
        var second = await InsertMessageAsync(businessId, "wamid.odd-2");
        var failed = Status("wamid.odd-1", "failed", T0);
        failed["errors"] = new System.Text.Json.Nodes.JsonArray(6, "not an object");
        var change = MessagesChange(phoneNumberId, statuses: [failed]);
        change["value"]!["contacts"] = new System.Text.Json.Nodes.JsonArray(4);

        await factory.PostWebhookAsync(Delivery(Entry(change)));
        await DeliverAsync(phoneNumberId, Status("wamid.odd-2", "delivered", T0));

        Assert.Equal("failed", (await MessageAsync(first)).DeliveryStatus);
        Assert.Equal("delivered", (await MessageAsync(second)).DeliveryStatus);
    }

    [Fact]
    public async Task AnEventThatFailsToApplyIsTriedAgainAfterAPauseNotInTheSamePass()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var messageId = await server.InsertMessageAsync(businessId, "wamid.paused");
        // A passing fault: the history refuses rows for a while, as a full disk would.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.paused", "delivered", T0)])))))
            .EnsureSuccessStatusCode();

        await server.ApplyWebhooksAsync();
        await server.ApplyWebhooksAsync();
        var attemptsAfterTwoPasses = await AttemptsAsync(server);
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        await server.ApplyWebhooksAsync();
        var attemptsAfterThePause = await AttemptsAsync(server);
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_history"));
        await server.ApplyWebhooksAsync();
        var stillPaused = await AttemptsAsync(server);
        server.Clock.Advance(TimeSpan.FromSeconds(20)); // the second pause is four times the first
        await server.ApplyWebhooksAsync();

        Assert.Equal(1, attemptsAfterTwoPasses);
        Assert.Equal(2, attemptsAfterThePause);
        Assert.Equal(2, stillPaused);
        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null));
        });
    }

    [Fact]
    public async Task ADatabaseLockedByAnotherProcessIsWaitedForOncePerPassAndCountsAgainstNoEvent()
    {
        // Another process (a sqlite3 shell left in BEGIN IMMEDIATE) holds the write lock: SQLite answers "database is
        // locked" after the busy timeout, 30 s. The pass used to take that for the batch's fault and apply it again
        // delivery by delivery, holding the write gate, which sends wait for, through a second 30 s.
        await using var server = new LockedDatabaseServer();
        using var faults = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Api.Metrics.TwaBotMetrics.MeterName, "twabot.storage.faults");
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var messageId = await server.InsertMessageAsync(businessId, "wamid.locked");
        server.Locked = true;
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.locked", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        // The background pass woken by the delivery fails first; it then pauses 5 s. Bounded generously: were the
        // test's pass to start before that failure, the background pass could begin a transaction in its count.
        for (var i = 0; i < 600 && !server.Logs.Events.Any(e => e.MessageTemplate.Text.StartsWith("The webhook processor failed", StringComparison.Ordinal)); i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains(faults.GetMeasurementSnapshot(), m => (string?)m.Tags["twabot.storage.source"] == "webhooks"); // the background pass's
        server.TransactionsBegun = 0;
        await Assert.ThrowsAsync<SqliteException>(server.ApplyWebhooksAsync);
        var begunInOnePass = server.TransactionsBegun;
        server.Locked = false;
        await server.ApplyWebhooksAsync();

        Assert.Equal(1, begunInOnePass);
        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.Equal((1, (string?)null), await db.WebhookEvents.Select(e => new ValueTuple<int, string?>(e.Attempts, e.LastError)).SingleAsync());
        });
    }

    [Fact]
    public async Task AnEventWhoseRetryFindsTheDatabaseLockedIsTriedAgainOnceItIsNot()
    {
        // The retry was taken off the processor's list of due events before the locked database refused it, and no
        // later pass looked for it again: it stayed unapplied until a restart.
        await using var server = new LockedDatabaseServer();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var messageId = await server.InsertMessageAsync(businessId, "wamid.retry-locked");
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_history BEFORE INSERT ON message_status_events BEGIN SELECT RAISE(ABORT, 'refused'); END"));
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.retry-locked", "delivered", T0)])))))
            .EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync(); // kept with its error, due again in 5 s
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_history"));

        server.Locked = true;
        server.Clock.Advance(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<SqliteException>(server.ApplyWebhooksAsync);
        server.Locked = false;
        await server.ApplyWebhooksAsync();

        await server.WithDbAsync(async db =>
        {
            Assert.Equal("delivered", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null));
        });
    }

    [Fact]
    public async Task APassWithNothingToDoWritesNothingSoAnotherProcessesLockDoesNotHoldItUp()
    {
        // Each pass (every delivery, and every 5 s when idle) deleted expired parked statuses even with none parked,
        // a write outside the write gate, which waited the whole busy timeout (30 s) behind another process's lock.
        await using var server = new TwaBotApiFactory();
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().FirstPass; // it found none parked
        await using var shell = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False");
        await shell.OpenAsync();
        await using var begin = shell.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        await begin.ExecuteNonQueryAsync();

        // Well under the 30 s busy timeout a write would wait, with room for a loaded machine.
        var applied = await server.ApplyWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, applied);
    }

    [Fact]
    public async Task ASweepWithNothingInterruptedWritesNothingSoAnotherProcessesLockDoesNotHoldItUp()
    {
        // The interrupted-send sweep ran its UPDATE even with nothing to settle: it took the write lock, and behind another
        // process's lock waited the whole busy timeout (30 s) holding the write gate that sends queue behind.
        await using var server = new TwaBotApiFactory();
        var sweeper = server.Services.GetRequiredService<Api.Sending.InterruptedSendSweeper>();
        await sweeper.SweepAsync(CancellationToken.None);
        await using var shell = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False");
        await shell.OpenAsync();
        await using var begin = shell.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        await begin.ExecuteNonQueryAsync();

        // Well under the 30 s busy timeout an UPDATE would wait, with room for a loaded machine.
        var settled = await sweeper.SweepAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, settled);
    }

    [Fact]
    public async Task APassGivesUpOnAnotherProcessesLockWithinSecondsAndAppliesOnceItIsGone()
    {
        // The pass holds the write gate, which sends queue behind, while it waits for the lock: it waited SQLite's whole
        // busy timeout (30 s), so a send waited that long before even its own wait began.
        await using var server = new TwaBotApiFactory();
        var body = Delivery(Entry(MessagesChange("991", statuses: [Status("wamid.behind-lock", "sent", T0)]))).ToJsonString();
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().FirstPass;
        await using var shell = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False");
        await shell.OpenAsync();
        await using var begin = shell.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        await begin.ExecuteNonQueryAsync();

        (await server.PostWebhookAsync(body)).EnsureSuccessStatusCode();
        // Well under the 30 s busy timeout, with room for a loaded machine (the background pass may wait its 2 s first).
        var refused = await Record.ExceptionAsync(() => server.ApplyWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        await using (var rollback = shell.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        await server.ApplyWebhooksAsync();

        Assert.Equal(5, Assert.IsType<SqliteException>(refused).SqliteErrorCode); // SQLITE_BUSY
        Assert.Equal(1, await server.MovedCountAsync(Encoding.UTF8.GetBytes(body)));
    }

    /// <summary>A server whose database, while <see cref="Locked"/>, refuses to begin transactions as SQLite does after its busy timeout.</summary>
    private sealed class LockedDatabaseServer : TwaBotApiFactory
    {
        private int _begun;

        public volatile bool Locked;

        public int TransactionsBegun { get => Volatile.Read(ref _begun); set => Volatile.Write(ref _begun, value); }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(
                options => options.AddInterceptors(new BusyWhileLocked(this))));
        }

        private sealed class BusyWhileLocked(LockedDatabaseServer server) : DbTransactionInterceptor
        {
            public override ValueTask<InterceptionResult<System.Data.Common.DbTransaction>> TransactionStartingAsync(
                System.Data.Common.DbConnection connection, TransactionStartingEventData eventData,
                InterceptionResult<System.Data.Common.DbTransaction> result, CancellationToken cancellationToken = default)
            {
                if (server.Locked)
                {
                    Interlocked.Increment(ref server._begun);
                    throw new SqliteException("SQLite Error 5: 'database is locked'.", 5);
                }

                return ValueTask.FromResult(result);
            }
        }
    }

    private static async Task<int> AttemptsAsync(TwaBotApiFactory server)
    {
        var attempts = 0;
        await server.WithDbAsync(async db => attempts = await db.WebhookEvents.Where(e => e.AppliedAt == null).Select(e => e.Attempts).SingleAsync());
        return attempts;
    }

    private Task<(string PhoneNumberId, long BusinessId)> ConnectedBusinessAsync() => factory.ConnectedBusinessAsync();

    private async Task DeliverAsync(string phoneNumberId, params System.Text.Json.Nodes.JsonObject[] statuses)
    {
        var response = await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [.. statuses]))));
        response.EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private async Task DeliverMessagesAsync(string phoneNumberId, System.Text.Json.Nodes.JsonObject message)
    {
        var from = message["from"]!.GetValue<string>();
        var response = await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [message], contacts: [Contact(from, "Sheena Nelson")]))));
        response.EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private Task<long> InsertMessageAsync(long businessId, string? wamid, long id = 0) => factory.InsertMessageAsync(businessId, wamid, id: id);

    /// <summary>A row with no wamid in the given state, then a status report naming it by its callback data ("twb:N").</summary>
    private async Task<Message> AfterAReportWithItsCallbackAsync(string apiStatus, string reason, string reportWamid, string reportStatus)
    {
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var id = await InsertMessageAsync(businessId, wamid: null);
        await factory.WithDbAsync(db => db.Messages.Where(m => m.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(m => m.ApiStatus, apiStatus).SetProperty(m => m.FailureReason, reason)));
        var report = Status(reportWamid, reportStatus, T0);
        report["biz_opaque_callback_data"] = $"twb:{id}";

        await DeliverAsync(phoneNumberId, report);
        return await MessageAsync(id);
    }

    private async Task<Message> MessageAsync(long id)
    {
        Message? message = null;
        await factory.WithDbAsync(async db => message = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == id));
        return message!;
    }

    private async Task<List<string>> HistoryAsync(long messageId)
    {
        List<string> history = [];
        await factory.WithDbAsync(async db => history = await db.MessageStatusEvents
            .Where(e => e.MessageId == messageId).OrderBy(e => e.Id).Select(e => e.Status).ToListAsync());
        return history;
    }

    private async Task<Contact?> ContactAsync(long businessId, string phone)
    {
        Contact? contact = null;
        await factory.WithDbAsync(async db => contact = await db.Contacts.AsNoTracking()
            .SingleOrDefaultAsync(c => c.BusinessId == businessId && c.Phone == phone));
        return contact;
    }

    private async Task<string?> SuppressionStateAsync(long businessId, string phone)
    {
        string? state = null;
        await factory.WithDbAsync(async db => state = await db.Suppressions
            .Where(s => s.BusinessId == businessId && s.Phone == phone).Select(s => s.State).SingleOrDefaultAsync());
        return state;
    }
}
