using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// A status report that arrives before its message is parked, and applied by the processor once a message with its
/// wamid appears, whichever way the message gets it. The processor re-tries only the reports so marked (a number shared
/// with another system parks many that never match), so each way must mark them.
/// </summary>
public class ParkedStatusTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task AReportParkedBeforeMetasAnswerIsAppliedOnceTheAnswerGivesTheMessageItsWamid()
    {
        // The usual race: Meta's webhook overtakes its answer to the send. The send applies the parked reports itself
        // after writing the answer, unless the report was parked just after it looked: then the processor must.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);
        await DeliverAsync(phoneNumberId, Status("wamid.answer-late-1", "delivered", T0));
        Assert.Equal(["wamid.answer-late-1"], await ParkedAsync(businessId));

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(
            new MessageWrite.Accepted(messageId, "wamid.answer-late-1", T0.UtcDateTime));
        await factory.ApplyWebhooksAsync();

        Assert.Equal("delivered", await DeliveryStatusAsync(messageId));
        Assert.Empty(await ParkedAsync(businessId));
    }

    [Fact]
    public async Task AParkedReportKeepsMetasTimeInTheMessagesHistory()
    {
        // Applied minutes later, it is still the time Meta gave (the history's key, with the message and status).
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);
        await DeliverAsync(phoneNumberId, Status("wamid.parked-time-1", "delivered", T0));
        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(
            new MessageWrite.Accepted(messageId, "wamid.parked-time-1", T0.UtcDateTime.AddMinutes(5)));
        await factory.ApplyWebhooksAsync();

        var history = await QueryAsync(factory, db => db.MessageStatusEvents.Where(e => e.MessageId == messageId)
            .Select(e => new { e.Status, e.OccurredAt }).ToListAsync());
        Assert.Equal([new { Status = "delivered", OccurredAt = T0.UtcDateTime }], history);
    }

    [Fact]
    public async Task AReportThatOvertookMetasAnswerShowsOnMessageStatusAsSoonAsTheSendIsAnswered()
    {
        // The send applies the parked report itself: a client following the 200 with message-status sees "delivered",
        // not "sent" until the processor's next pass (stopped here, so only the send can apply it).
        await using var server = new ReportOvertakesAnswerServer();
        var tenant = await server.CreateSendingTenantAsync();
        server.PhoneNumberId = await QueryAsync(server, db => db.WhatsAppConnections.Where(w => w.BusinessId == tenant.BusinessId).Select(w => w.PhoneNumberId).SingleAsync());
        await server.Services.GetRequiredService<Api.Webhooks.WebhookProcessor>().StopAsync(CancellationToken.None);

        var sent = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
        var messageId = (await sent.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString()!;
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{messageId}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(messageId, server.Overtaken);
        Assert.Equal("delivered", status.GetProperty("delivery_status").GetString());
        Assert.Empty(await QueryAsync(server, db => db.ParkedStatuses.Select(p => p.Wamid).ToListAsync()));
    }

    [Fact]
    public async Task AParkedFailureKeepsItsReasonWhenAnEarlierStatusParkedAfterItIsAppliedToo()
    {
        // Meta's reports overtake each other as well as its answer: "failed" parked first, then the "sent" before it. Applying
        // that "sent" must not clear the failure: only a row still without its wamid has an unknown outcome's reason to clear.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);
        await DeliverAsync(phoneNumberId, Status("wamid.parked-failed-1", "failed", T0.AddSeconds(2), errorCode: 131026, errorTitle: "Message undeliverable"));
        await DeliverAsync(phoneNumberId, Status("wamid.parked-failed-1", "sent", T0));

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(new MessageWrite.Accepted(messageId, "wamid.parked-failed-1", T0.UtcDateTime));
        await factory.ApplyWebhooksAsync();

        var message = await factory.MessageAsync(messageId);
        Assert.Equal(("failed", (int?)131026, "Message undeliverable — recipient's phone is not on WhatsApp."),
            (message.DeliveryStatus, message.FailureCode, message.FailureReason));
    }

    [Fact]
    public async Task ParkedReportsAreAppliedInTheOrderTheyArrivedSoTheFirstOfTwoFailuresCounts()
    {
        // As for reports applied at once: of two of the same rank, the first keeps its code and reason.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);
        await DeliverAsync(phoneNumberId, Status("wamid.parked-twice-failed", "failed", T0, errorCode: 131026, errorTitle: "Message undeliverable"));
        await DeliverAsync(phoneNumberId, Status("wamid.parked-twice-failed", "failed", T0.AddSeconds(1), errorCode: 131049, errorTitle: "Ecosystem engagement"));

        await factory.Services.GetRequiredService<MessageLog>().WriteAsync(new MessageWrite.Accepted(messageId, "wamid.parked-twice-failed", T0.UtcDateTime));
        await factory.ApplyWebhooksAsync();

        var message = await factory.MessageAsync(messageId);
        Assert.Equal(("failed", (int?)131026, "Message undeliverable — recipient's phone is not on WhatsApp."),
            (message.DeliveryStatus, message.FailureCode, message.FailureReason));
    }

    [Fact]
    public async Task ParkedReportsAreWrittenInTurnWithTheOtherWritersAndNoneParkedWritesNothing()
    {
        // A send applies its message's parked reports right after Meta's answer, holding no turn at the write gate.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);
        await DeliverAsync(phoneNumberId, Status("wamid.in-turn-1", "delivered", T0));
        await using var scope = factory.Services.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<MessageStatusWriter>();

        Task<int> applying;
        using (await factory.Services.GetRequiredService<SqliteWriteGate>().EnterAsync(CancellationToken.None))
        {
            // Another message's report is parked, none of this one's: nothing to write, so no wait for the gate.
            Assert.Equal(0, await writer.ApplyParkedAsync(businessId, messageId, "wamid.in-turn-none", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
            applying = writer.ApplyParkedAsync(businessId, messageId, "wamid.in-turn-1", CancellationToken.None);
            await Task.Delay(300); // time enough to write, were it not waiting for the gate
            Assert.False(applying.IsCompleted);
        }

        Assert.Equal(1, await applying);
        Assert.Equal("delivered", await DeliveryStatusAsync(messageId));
    }

    [Fact]
    public async Task AReportParkedBeforeACallbackReportGaveItsMessageTheWamidIsApplied()
    {
        // The send never heard Meta's answer: its row has no wamid until a report names it by callback data.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var messageId = await InsertMessageAsync(businessId, wamid: null);
        await DeliverAsync(phoneNumberId, Status("wamid.timed-out-1", "read", T0.AddSeconds(9)));
        Assert.Equal(["wamid.timed-out-1"], await ParkedAsync(businessId));

        await DeliverAsync(phoneNumberId, Status("wamid.timed-out-1", "sent", T0, callbackData: await factory.ReferenceAsync(messageId)));

        Assert.Equal("read", await DeliveryStatusAsync(messageId));
        Assert.Empty(await ParkedAsync(businessId));
    }

    [Fact]
    public async Task AReportParkedBeforeItsMessageWasWrittenWithItsWamidIsApplied()
    {
        // A row that arrives with its wamid already (a tool, a restored copy): written outside the send path.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        await DeliverAsync(phoneNumberId, Status("wamid.written-1", "delivered", T0));

        var messageId = await InsertMessageAsync(businessId, "wamid.written-1");
        await factory.ApplyWebhooksAsync();

        Assert.Equal("delivered", await DeliveryStatusAsync(messageId));
        Assert.Empty(await ParkedAsync(businessId));
    }

    [Fact]
    public async Task AParkedReportKeepsTheMessageIdItsCallbackDataNamed()
    {
        // Kept for diagnosis (which of our sends Meta meant), though the report is applied by its wamid: here the send
        // its callback data names has another wamid, so the report is not that message's and waits for its own.
        var (phoneNumberId, businessId) = await ConnectedBusinessAsync();
        var named = await InsertMessageAsync(businessId, "wamid.named-by-callback");
        var (_, otherBusiness) = await ConnectedBusinessAsync();
        var anothers = await InsertMessageAsync(otherBusiness, wamid: null);

        await DeliverAsync(phoneNumberId, Status("wamid.parked-callback-1", "sent", T0, callbackData: await factory.ReferenceAsync(named)));
        await DeliverAsync(phoneNumberId, Status("wamid.parked-callback-2", "sent", T0, callbackData: MessageReferences.New()));
        await DeliverAsync(phoneNumberId, Status("wamid.parked-callback-3", "sent", T0, callbackData: await factory.ReferenceAsync(anothers)));

        // Another business's message is none of this business's, not even to name.
        var parked = await QueryAsync(factory, db => db.ParkedStatuses.Where(p => p.BusinessId == businessId).OrderBy(p => p.Id).Select(p => p.MessageId).ToListAsync());
        Assert.Equal([named, null, null], parked);
    }

    [Fact]
    public async Task AReportOfAnotherBusinessesMessageStaysParked()
    {
        var (phoneA, businessA) = await ConnectedBusinessAsync();
        var (_, businessB) = await ConnectedBusinessAsync();
        await DeliverAsync(phoneA, Status("wamid.other-business-1", "delivered", T0));

        var messageId = await InsertMessageAsync(businessB, "wamid.other-business-1");
        await factory.ApplyWebhooksAsync();

        Assert.Null(await DeliveryStatusAsync(messageId));
        Assert.Equal(["wamid.other-business-1"], await ParkedAsync(businessA));
    }

    [Fact]
    public async Task ASendAppliesOnlyTheReportsParkedUnderItsOwnBusiness()
    {
        // What the send path does once Meta accepted: a report another business's number parked under the same wamid is not its.
        var (phoneA, businessA) = await ConnectedBusinessAsync();
        var (_, businessB) = await ConnectedBusinessAsync();
        await DeliverAsync(phoneA, Status("wamid.other-business-2", "read", T0));
        var messageId = await InsertMessageAsync(businessB, "wamid.other-business-2");
        await using var scope = factory.Services.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<MessageStatusWriter>();

        var applied = await writer.ApplyParkedAsync(businessB, messageId, "wamid.other-business-2", default);

        Assert.Equal(0, applied);
        Assert.Null(await DeliveryStatusAsync(messageId));
        Assert.Equal(["wamid.other-business-2"], await ParkedAsync(businessA));
    }

    [Fact]
    public async Task AReportParkedBeforeTheUpgradeWhoseMessageIsAlreadyThereIsAppliedAfterIt()
    {
        // Rows parked by an earlier version were never marked: the upgrade marks those whose message is there.
        using var database = new TemporaryDatabase();
        await using (var db = new TwaBotDbContext(database.ContextOptions()))
        {
            await db.GetService<IMigrator>().MigrateAsync("20261203112849_RecipientWaIdLookup"); // the last one before the mark
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old', 'Pro', 'Asia/Kolkata', '2026-04-14 00:00:00');
                INSERT INTO messages (id, business_id, api_key_id, wamid, "to", kind, api_status, status_rank, quota_day, created_at, updated_at)
                VALUES (5, 1, 1, 'wamid.before-upgrade', '919876543210', 'text', 'success', 0, '2026-04-14', '2026-04-14 10:00:00', '2026-04-14 10:00:00');
                INSERT INTO parked_statuses (business_id, wamid, status, occurred_at, received_at)
                VALUES (1, 'wamid.before-upgrade', 'delivered', '2026-04-14 10:00:01', '2026-04-14 10:00:02'),
                       (1, 'wamid.not-ours', 'delivered', '2026-04-14 10:00:01', '2026-04-14 10:00:02');
                """);
        }

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        await server.ApplyWebhooksAsync();

        Assert.Equal("delivered", await QueryAsync(server, db => db.Messages.Where(m => m.Id == 5).Select(m => m.DeliveryStatus).SingleAsync()));
        Assert.Equal(["wamid.not-ours"], await QueryAsync(server, db => db.ParkedStatuses.Select(p => p.Wamid).ToListAsync()));
    }

    [Fact]
    public async Task AParkedReportIsKeptSevenDaysThenRemoved()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.old-1", "sent", T0)]))));
        await server.ApplyWebhooksAsync();

        server.Clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1));
        await server.ApplyWebhooksAsync();
        Assert.True(await QueryAsync(server, db => db.ParkedStatuses.AnyAsync()));

        server.Clock.Advance(TimeSpan.FromMinutes(2));
        await server.ApplyWebhooksAsync();
        Assert.False(await QueryAsync(server, db => db.ParkedStatuses.AnyAsync()));
    }

    [Fact]
    public async Task APassWithReportsParkedButNoneExpiredWritesNothingSoAnotherProcessesLockDoesNotHoldItUp()
    {
        // With a number shared with another system some reports are always parked: the expiry's DELETE took the write
        // lock every pass, outside the write gate, and waited the whole busy timeout (30 s) behind another process.
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.foreign-1", "sent", T0)]))));
        await server.ApplyWebhooksAsync();
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        // Well under the 30 s busy timeout a write would wait, with room for a loaded machine.
        var applied = await server.ApplyWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, applied);
    }

    private Task<(string PhoneNumberId, long BusinessId)> ConnectedBusinessAsync() => factory.ConnectedBusinessAsync();

    private async Task DeliverAsync(string phoneNumberId, System.Text.Json.Nodes.JsonObject status)
    {
        (await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [status]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
    }

    private Task<long> InsertMessageAsync(long businessId, string? wamid) => factory.InsertMessageAsync(businessId, wamid);

    private Task<string?> DeliveryStatusAsync(long messageId) =>
        QueryAsync(factory, db => db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());

    private Task<List<string>> ParkedAsync(long businessId) =>
        QueryAsync(factory, db => db.ParkedStatuses.Where(p => p.BusinessId == businessId).OrderBy(p => p.Id).Select(p => p.Wamid).ToListAsync());

    private static async Task<T> QueryAsync<T>(TwaBotApiFactory server, Func<TwaBotDbContext, Task<T>> query)
    {
        T result = default!;
        await server.WithDbAsync(async db => result = await query(db));
        return result;
    }

    /// <summary>
    /// A server whose emulator reports a send delivered, and has the report stored and applied (so parked, the row having
    /// no wamid yet), before its answer to the send goes back: Meta's webhook overtaking its answer, held so, not raced.
    /// The emulator's own reports are off, so the one status is the test's.
    /// </summary>
    private sealed class ReportOvertakesAnswerServer() : TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusWebhooks"] = "false" })
    {
        public string? PhoneNumberId { get; set; }

        /// <summary>The wamid whose report overtook the answer.</summary>
        public string? Overtaken { get; private set; }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
                services.AddHttpClient<Api.Meta.MetaClient>().AddHttpMessageHandler(() => new ReportFirst(this)));
        }

        private sealed class ReportFirst(ReportOvertakesAnswerServer server) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (request.Method != HttpMethod.Post || !request.RequestUri!.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal)
                    || !response.IsSuccessStatusCode)
                {
                    return response;
                }

                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                var wamid = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("messages")[0].GetProperty("id").GetString()!;
                (await server.PostWebhookAsync(Delivery(Entry(MessagesChange(server.PhoneNumberId!,
                    statuses: [Status(wamid, "delivered", server.Clock.GetUtcNow())]))))).EnsureSuccessStatusCode();
                await server.ApplyWebhooksAsync();
                Assert.Equal([wamid], await QueryAsync(server, db => db.ParkedStatuses.Select(p => p.Wamid).ToListAsync()));
                server.Overtaken = wamid;
                var answer = new HttpResponseMessage(response.StatusCode) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };
                response.Dispose();
                return answer;
            }
        }
    }
}
