using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

public class WebhookReceiverTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task TheVerifyHandshakeEchoesTheChallengeAsPlainText()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token&hub.challenge=1158201444");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1158201444", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("subscribe", "wrong-token")]
    [InlineData("subscribe", "TWABOT-SANDBOX-VERIFY-TOKEN")] // a secret: its letter case counts
    [InlineData("subscribe", "twabot-sandbox")] // the right token's start is no match
    [InlineData("subscribe", "twabot-sandbox-verify-token-and-more")]
    [InlineData("unsubscribe", "twabot-sandbox-verify-token")]
    [InlineData(null, null)]
    public async Task AWrongHandshakeIsRefused(string? mode, string? token)
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync($"/webhooks/meta?hub.mode={mode}&hub.verify_token={token}&hub.challenge=42");

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "WEBHOOK_VERIFICATION_FAILED");
    }

    [Fact]
    public async Task AHandshakeWithoutAChallengeSaysSoRatherThanBlamingTheToken()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token");

        var json = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "WEBHOOK_VERIFICATION_FAILED");
        var error = json.GetProperty("error").GetString();
        Assert.Contains("hub.challenge", error, StringComparison.Ordinal);
        Assert.DoesNotContain("verify_token must match", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("garbage")]
    public async Task AnUnsignedOrBadlySignedDeliveryIsRefusedAndNotStored(string? signature)
    {
        var body = Delivery(Entry(MessagesChange("999", statuses: [Status("wamid.bad-signature", "sent", factory.Clock.GetUtcNow())]))).ToJsonString();
        using var client = factory.CreateClient();
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        if (signature is not null)
        {
            content.Headers.Add("X-Hub-Signature-256", signature);
        }

        var response = await client.PostAsync("/webhooks/meta", content);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_SIGNATURE");
        Assert.False(await factory.IsStoredAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("X-Hub-Signature-256: garbage\r\n")]
    [InlineData("X-Hub-Signature-256: sha256=0000\r\n")]
    public async Task ADeliveryWithoutAWellFormedSignatureIsRefusedBeforeItsBodyIsRead(string signatureLine)
    {
        // Nothing to check it against: an upload of up to 3 MB is not held in memory only to be refused. The answer comes
        // while the body is still on its way: its first chunk is sent, its end never is (a raw socket, since HttpClient
        // reads no answer before it has sent the whole body).
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0);
        server.StartServer();
        using var socket = await server.ConnectRawAsync();
        var stream = socket.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /webhooks/meta HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + signatureLine + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n"));
        var answer = new byte[1024];
        var read = await stream.ReadAsync(answer).AsTask().WaitAsync(Poll.SlowWorkLimit);

        var text = Encoding.ASCII.GetString(answer, 0, read);
        Assert.StartsWith("HTTP/1.1 401", text, StringComparison.Ordinal);
        Assert.Contains("INVALID_SIGNATURE", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Too many messages sent from this phone number in a short period of time.", "Too many messages sent from this phone number in a short period of time.")]
    [InlineData(null, "Meta gave no details")]
    public async Task AnErrorMetaReportsAboutTheNumberIsLoggedWithItsDetailsOrSaysThereAreNone(string? details, string logged)
    {
        var (phoneNumberId, _) = await factory.ConnectedBusinessAsync();
        var change = MessagesChange(phoneNumberId);
        var error = new System.Text.Json.Nodes.JsonObject { ["code"] = 131056, ["title"] = "(Business Account, Consumer Account) pair rate limit hit" };
        if (details is not null)
        {
            error["error_data"] = new System.Text.Json.Nodes.JsonObject { ["details"] = details };
        }

        change["value"]!["errors"] = new System.Text.Json.Nodes.JsonArray(error);
        (await factory.PostWebhookAsync(Delivery(Entry(change)))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        Assert.Contains(factory.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Warning
            && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("\"", "", StringComparison.Ordinal)
                .EndsWith($"for phone_number_id {phoneNumberId}, not about one message: {logged}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARefusedSignatureIsLoggedAsAWarningSayingWhatToCheck()
    {
        // A wrong TwaBot:Meta:AppSecret refuses every delivery of Meta's; the request lines' 401s at Information hid it.
        await using var server = new TwaBotApiFactory();
        using var client = server.CreateClient();
        using var unsigned = new StringContent("{}", Encoding.UTF8, "application/json");
        using var badlySigned = new StringContent("{}", Encoding.UTF8, "application/json");
        badlySigned.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('0', 64));
        using var signedTwice = new StringContent("{}", Encoding.UTF8, "application/json");
        var signature = TwaBot.Api.Webhooks.WebhookSignature.Sign("{}"u8, server.AppSecret);
        signedTwice.Headers.Add("X-Hub-Signature-256", [signature, signature]);

        await client.PostAsync("/webhooks/meta", unsigned);
        await client.PostAsync("/webhooks/meta", badlySigned);
        await client.PostAsync("/webhooks/meta", signedTwice); // both right: refused all the same, and the line says why

        var refusals = server.Logs.Events.Where(e => e.Level == Serilog.Events.LogEventLevel.Warning)
            .Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("\"", "", StringComparison.Ordinal))
            .Where(m => m.StartsWith("Refused a webhook delivery", StringComparison.Ordinal) && m.Contains("TwaBot:Meta:AppSecret", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, refusals.Count);
        Assert.Contains("(no X-Hub-Signature-256 header)", refusals[0], StringComparison.Ordinal);
        Assert.Contains("(its X-Hub-Signature-256 does not match its body)", refusals[1], StringComparison.Ordinal);
        Assert.Contains("(it has more than one X-Hub-Signature-256 header, where Meta sends one)", refusals[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusedWebhookRequestsWarnOnceAMinuteForEachReasonWhileEachKeepsItsRequestLine()
    {
        // The webhook URL is public: a script posting unsigned deliveries or guessing verify tokens must not write a
        // Warning per request; the operator still learns each reason at once, and again each minute it goes on.
        await using var server = new TwaBotApiFactory();
        using var client = server.CreateClient();
        async Task RefuseAsync(int times)
        {
            for (var i = 0; i < times; i++)
            {
                using var unsigned = new StringContent("{}", Encoding.UTF8, "application/json");
                using var badlySigned = new StringContent("{}", Encoding.UTF8, "application/json");
                badlySigned.Headers.Add("X-Hub-Signature-256", "sha256=" + new string('0', 64));
                await client.PostAsync("/webhooks/meta", unsigned);
                await client.PostAsync("/webhooks/meta", badlySigned);
                await client.GetAsync($"/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess-{i}&hub.challenge=42");
            }
        }

        List<string> Warnings() => [.. server.Logs.Events.Where(e => e.Level == Serilog.Events.LogEventLevel.Warning)
            .Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("\"", "", StringComparison.Ordinal))
            .Where(m => m.StartsWith("Refused a webhook", StringComparison.Ordinal))];

        await RefuseAsync(10);
        Assert.Collection(Warnings(),
            m => Assert.Contains("(no X-Hub-Signature-256 header)", m, StringComparison.Ordinal),
            m => Assert.Contains("(its X-Hub-Signature-256 does not match its body)", m, StringComparison.Ordinal),
            m => Assert.Contains("(its hub.verify_token is not TwaBot:Meta:VerifyToken)", m, StringComparison.Ordinal));
        // Each request has its line, at Information (written just after its answer).
        await Poll.UntilAsync(() => server.Logs.Events.Count(e => e.Level == Serilog.Events.LogEventLevel.Information
            && e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal) && e.Properties["RequestPath"].ToString() == "\"/webhooks/meta\""
            && e.Properties["StatusCode"].ToString() is "401" or "403") == 30, "a request line for each refused request");

        server.Clock.Advance(TimeSpan.FromSeconds(59));
        await RefuseAsync(1);
        Assert.Equal(3, Warnings().Count);
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        await RefuseAsync(2);
        Assert.Equal(6, Warnings().Count);
    }

    [Fact]
    public async Task ARefusedVerificationIsLoggedAsAWarningNamingTheSettingButNotTheToken()
    {
        // Meta's console shows only "couldn't be validated"; the request line's 403 did not say the token was the cause.
        await using var server = LiveMode.Factory();
        using var client = server.CreateClient();

        await client.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=typo-verify-token&hub.challenge=42");
        await client.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.challenge=42");

        var refusals = server.Logs.Events.Where(e => e.Level == Serilog.Events.LogEventLevel.Warning)
            .Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Replace("\"", "", StringComparison.Ordinal))
            .Where(m => m.StartsWith("Refused a webhook verification", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, refusals.Count);
        Assert.Contains("(its hub.verify_token is not TwaBot:Meta:VerifyToken)", refusals[0], StringComparison.Ordinal);
        Assert.Contains("(it gave no hub.verify_token)", refusals[1], StringComparison.Ordinal);
        Assert.DoesNotContain(server.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("typo-verify-token", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARequestWithoutMetasSubscribeModeIsRefusedWithoutAWarning()
    {
        // Not Meta's handshake (a scanner, a browser): its 403 request line is enough; the warning is for Meta's console.
        await using var server = LiveMode.Factory();
        using var client = server.CreateClient();

        var bare = await client.GetAsync("/webhooks/meta");
        var otherMode = await client.GetAsync("/webhooks/meta?hub.mode=unsubscribe&hub.verify_token=typo-verify-token&hub.challenge=42");

        await bare.AssertErrorAsync(HttpStatusCode.Forbidden, "WEBHOOK_VERIFICATION_FAILED");
        await otherMode.AssertErrorAsync(HttpStatusCode.Forbidden, "WEBHOOK_VERIFICATION_FAILED");
        Assert.DoesNotContain(server.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)
            .Contains("Refused a webhook verification", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASignedDeliveryIsStoredBeforeThe200()
    {
        var body = Delivery(Entry(MessagesChange("998", statuses: [Status("wamid.stored", "sent", factory.Clock.GetUtcNow())]))).ToJsonString();

        var response = await factory.PostWebhookAsync(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await factory.IsStoredAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public async Task ADeliveryTheInboxCannotStoreGetsAnErrorSoMetaRetriesIt()
    {
        await using var server = new TwaBotApiFactory();
        var body = Delivery(Entry(MessagesChange("996", statuses: [Status("wamid.refused", "sent", server.Clock.GetUtcNow())]))).ToJsonString();
        // The inbox file refuses writes, as a full disk would.
        await InboxFileAsync(server, "CREATE TRIGGER refuse_delivery BEFORE INSERT ON webhook_inbox BEGIN SELECT RAISE(ABORT, 'disk full'); END");

        var refused = await server.PostWebhookAsync(body);
        var storedAfterRefusal = await server.IsStoredAsync(Encoding.UTF8.GetBytes(body));
        await InboxFileAsync(server, "DROP TRIGGER refuse_delivery");
        var retried = await server.PostWebhookAsync(body);

        await refused.AssertErrorAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");
        Assert.False(storedAfterRefusal);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        Assert.True(await server.IsStoredAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public async Task ADeliveryTheMainDatabaseCannotTakeYetStaysInTheInboxAndIsAppliedLater()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var phoneNumberId = "";
        await server.WithDbAsync(async db => phoneNumberId = await db.WhatsAppConnections
            .Where(w => w.BusinessId == tenant.BusinessId).Select(w => w.PhoneNumberId).SingleAsync());
        var body = Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.later", "919876543210", "STOP", server.Clock.GetUtcNow())]))).ToJsonString();
        // The main database refuses the move, as a full disk would.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_event BEFORE INSERT ON webhook_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));

        var acknowledged = await server.PostWebhookAsync(body);
        await Assert.ThrowsAnyAsync<Microsoft.Data.Sqlite.SqliteException>(server.ApplyWebhooksAsync);
        var keptInTheInbox = await server.IsStoredAsync(Encoding.UTF8.GetBytes(body));
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_event"));
        await server.ApplyWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, acknowledged.StatusCode);
        Assert.True(keptInTheInbox);
        Assert.Equal(1, await server.MovedCountAsync(Encoding.UTF8.GetBytes(body)));
        await server.WithDbAsync(async db => Assert.True(await db.Suppressions.AnyAsync(x => x.BusinessId == tenant.BusinessId && x.Phone == "919876543210")));
    }

    [Fact]
    public async Task AProcessorPassThatFailsWaitsBeforeTheNextInsteadOfSpinning()
    {
        await using var server = new TwaBotApiFactory();
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_event BEFORE INSERT ON webhook_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));

        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange("995", statuses: [Status("wamid.spin", "sent", server.Clock.GetUtcNow())])))))
            .EnsureSuccessStatusCode();
        int FailedPasses() => server.Logs.Events.Count(e => e.MessageTemplate.Text.StartsWith("The webhook processor failed", StringComparison.Ordinal));
        // The pass woken by the delivery fails; on a loaded machine that can take more than a second.
        await Poll.UntilAsync(() => FailedPasses() > 0, "the pass woken by the delivery to fail", Poll.SlowWorkLimit);

        await Task.Delay(TimeSpan.FromSeconds(1)); // real time: the loop's pause (5 s) is real time too

        // One failed pass, then a pause; without it the loop fails (and logs) thousands of times a second.
        Assert.InRange(FailedPasses(), 1, 2);
    }

    [Fact]
    public async Task TheSameDeliveryTwiceIsStoredOnce()
    {
        var body = Delivery(Entry(MessagesChange("997", statuses: [Status("wamid.twice", "sent", factory.Clock.GetUtcNow())]))).ToJsonString();

        var first = await factory.PostWebhookAsync(body);
        var second = await factory.PostWebhookAsync(body);

        await factory.ApplyWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(1, await factory.MovedCountAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public async Task ADeliveryRepeatedAfterItWasAppliedIsNotStoredAgain()
    {
        var body = Delivery(Entry(MessagesChange("995", statuses: [Status("wamid.replayed", "sent", factory.Clock.GetUtcNow())]))).ToJsonString();

        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(body)).StatusCode);
        await factory.ApplyWebhooksAsync();
        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(body)).StatusCode);
        await factory.ApplyWebhooksAsync();

        Assert.Equal(1, await factory.MovedCountAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public async Task ADeliveryRepeatedAfterItWasAppliedIsNotAppliedAgain()
    {
        // Most of applying is idempotent, but not all: a report for a message not known yet is parked once per application.
        var (phoneNumberId, businessId) = await factory.ConnectedBusinessAsync();
        var body = Delivery(Entry(MessagesChange(phoneNumberId, statuses: [Status("wamid.replayed-early", "delivered", factory.Clock.GetUtcNow())]))).ToJsonString();

        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(body)).StatusCode);
        await factory.ApplyWebhooksAsync();
        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(body)).StatusCode);
        await factory.ApplyWebhooksAsync();

        await factory.WithDbAsync(async db => Assert.Equal(1,
            await db.ParkedStatuses.CountAsync(p => p.BusinessId == businessId && p.Wamid == "wamid.replayed-early")));
    }

    [Fact]
    public async Task ADeliveryWithoutTimestampsRedeliveredLaterIsStoredOnce()
    {
        // Its events count as happening when received, but the de-duplication key must not move with that.
        await using var server = new TwaBotApiFactory();
        var status = Status("wamid.untimed", "sent", server.Clock.GetUtcNow());
        status.Remove("timestamp");
        var body = Delivery(Entry(MessagesChange("993", statuses: [status]))).ToJsonString();

        Assert.Equal(HttpStatusCode.OK, (await server.PostWebhookAsync(body)).StatusCode);
        await server.ApplyWebhooksAsync();
        server.Clock.Advance(TimeSpan.FromMinutes(3)); // Meta retries a delivery it thinks failed
        Assert.Equal(HttpStatusCode.OK, (await server.PostWebhookAsync(body)).StatusCode);
        await server.ApplyWebhooksAsync();

        Assert.Equal(1, await server.MovedCountAsync(Encoding.UTF8.GetBytes(body)));
    }

    [Fact]
    public async Task ADeliveryIsStoredAsReceivedAtTheServersClock()
    {
        // Its untimed events count as happening when received, so that time is the server's clock's, as every other time is.
        var status = Status("wamid.received-now", "sent", factory.Clock.GetUtcNow());
        status.Remove("timestamp");
        var body = Delivery(Entry(MessagesChange("992", statuses: [status]))).ToJsonString();
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(body));
        var now = factory.Clock.GetUtcNow().UtcDateTime;

        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(body)).StatusCode);
        await factory.ApplyWebhooksAsync();

        await factory.WithDbAsync(async db =>
            Assert.InRange((await db.WebhookEvents.SingleAsync(e => e.BodySha256 == hash)).ReceivedAt, now.AddSeconds(-1), now.AddSeconds(1)));
    }

    [Fact]
    public async Task ADeliveryMetaSendsAgainIsSkippedNotAppliedASecondTime()
    {
        // Meta sends a delivery again when our 200 reached it late. Its statuses and messages would be harmless twice; an
        // error about the number, which only the log tells, would be reported to the operator twice.
        var (phoneNumberId, _) = await factory.ConnectedBusinessAsync();
        var change = MessagesChange(phoneNumberId);
        change["value"]!["errors"] = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["code"] = 131056, ["title"] = "(Business Account, Consumer Account) pair rate limit hit" });
        var body = Delivery(Entry(change)).ToJsonString();

        foreach (var _ in new[] { "delivery", "Meta's retry" })
        {
            (await factory.PostWebhookAsync(body)).EnsureSuccessStatusCode();
            await factory.ApplyWebhooksAsync();
        }

        Assert.Single(factory.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)
            .Contains($"for phone_number_id \"{phoneNumberId}\", not about one message", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DifferentDeliveriesOfTheSameMomentAreEachStored()
    {
        // The de-duplication key starts with the events' time; the body's hash tells these two apart.
        var at = factory.Clock.GetUtcNow();
        var first = Delivery(Entry(MessagesChange("994", statuses: [Status("wamid.moment.1", "sent", at)]))).ToJsonString();
        var second = Delivery(Entry(MessagesChange("994", statuses: [Status("wamid.moment.2", "sent", at)]))).ToJsonString();

        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(second)).StatusCode);
        await factory.ApplyWebhooksAsync();

        Assert.Equal(1, await factory.MovedCountAsync(Encoding.UTF8.GetBytes(first)));
        Assert.Equal(1, await factory.MovedCountAsync(Encoding.UTF8.GetBytes(second)));
    }

    [Fact]
    public async Task AnAppliedDeliveryLeavesTheInboxFileWithoutWaitingForAnotherDelivery()
    {
        // The inbox forgets moved deliveries in its own commits; with no delivery arriving after this
        // one, it must still commit the forgetting on its own.
        var body = Delivery(Entry(MessagesChange("996", statuses: [Status("wamid.forgotten", "sent", factory.Clock.GetUtcNow())]))).ToJsonString();
        Assert.Equal(HttpStatusCode.OK, (await factory.PostWebhookAsync(body)).StatusCode);

        await factory.ApplyWebhooksAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, await factory.MovedCountAsync(Encoding.UTF8.GetBytes(body))); // and none left in the inbox file
    }

    [Fact]
    public async Task NonAsciiTextArrivesEscapedAndItsSignatureStillVerifies()
    {
        var businessId = await factory.CreateBusinessAsync();
        var phoneNumberId = await factory.ConnectWhatsAppAsync(businessId);
        var at = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);
        // Meta escapes non-ASCII as \uXXXX; System.Text.Json does the same by default.
        var body = Delivery(Entry(MessagesChange(phoneNumberId, messages: [Text("wamid.unicode", "919812345678", "Namaste 🙏 ₹1,499 — café", at)]))).ToJsonString();
        Assert.Contains("\\u20B9", body, StringComparison.Ordinal);

        var response = await factory.PostWebhookAsync(body);
        await factory.ApplyWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await factory.WithDbAsync(async db =>
        {
            var inbound = await db.InboundMessages.SingleAsync(m => m.Wamid == "wamid.unicode");
            Assert.Equal("Namaste 🙏 ₹1,499 — café", inbound.Text);
        });
    }

    [Fact]
    public async Task TheSignatureIsCheckedOverTheBytesAsSentNotOverTheirJson()
    {
        // The same JSON laid out otherwise is other bytes: a signature of the compact form does not sign the indented one.
        var payload = Delivery(Entry(MessagesChange("997", statuses: [Status("wamid.indented", "sent", factory.Clock.GetUtcNow())])));
        var indented = payload.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
        var compactSignature = TwaBot.Api.Webhooks.WebhookSignature.Sign(Encoding.UTF8.GetBytes(payload.ToJsonString()), factory.AppSecret);

        var refused = await factory.PostWebhookAsync(indented, compactSignature);
        var accepted = await factory.PostWebhookAsync(indented);

        await refused.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_SIGNATURE");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.True(await factory.IsStoredAsync(Encoding.UTF8.GetBytes(indented)));
    }

    [Theory]
    [InlineData("bom-added")] // a proxy or tool that re-encodes the body "as UTF-8 with BOM"
    [InlineData("newline-added")] // a tool that ends the body with a line break
    [InlineData("space-added")]
    [InlineData("upper-case-prefix")] // Meta writes sha256=; another spelling is no signature of its
    [InlineData("a-second-wrong-header")] // a second header beside the right one: which one counts is the attacker's pick
    [InlineData("the-right-header-twice")]
    public async Task ASignatureOfOtherBytesOrGivenTwiceIsRefusedAndNothingIsStored(string variant)
    {
        var signed = Encoding.UTF8.GetBytes(Delivery(Entry(MessagesChange("996", statuses: [Status($"wamid.{variant}", "sent", factory.Clock.GetUtcNow())]))).ToJsonString());
        var signature = TwaBot.Api.Webhooks.WebhookSignature.Sign(signed, factory.AppSecret);
        byte[] sent = variant switch
        {
            "bom-added" => [0xEF, 0xBB, 0xBF, .. signed],
            "newline-added" => [.. signed, (byte)'\n'],
            "space-added" => [.. signed, (byte)' '],
            _ => signed,
        };
        string[] headers = variant switch
        {
            "upper-case-prefix" => ["SHA256=" + signature["sha256=".Length..]],
            "a-second-wrong-header" => [signature, "sha256=" + new string('0', 64)],
            "the-right-header-twice" => [signature, signature],
            _ => [signature],
        };
        using var client = factory.CreateClient();
        using var content = new ByteArrayContent(sent);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.Add(TwaBot.Api.Webhooks.WebhookSignature.HeaderName, headers);

        var response = await client.PostAsync("/webhooks/meta", content);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_SIGNATURE");
        Assert.False(await factory.IsStoredAsync(sent));
        Assert.False(await factory.IsStoredAsync(signed));
    }

    [Fact]
    public async Task ADeliveryBeginningWithAByteOrderMarkIsVerifiedOverItsBytesAndApplied()
    {
        // The signature covers the mark (it is part of the bytes sent); reading the JSON then steps over it, as the sends do.
        var businessId = await factory.CreateBusinessAsync();
        var phoneNumberId = await factory.ConnectWhatsAppAsync(businessId);
        var at = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);
        var json = Delivery(Entry(MessagesChange(phoneNumberId, messages: [Text("wamid.bom", "919812345679", "Hello", at)]))).ToJsonString();
        byte[] body = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(json)];

        var response = await factory.PostWebhookAsync(body);
        await factory.ApplyWebhooksAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await factory.WithDbAsync(async db => Assert.Equal("Hello", (await db.InboundMessages.SingleAsync(m => m.Wamid == "wamid.bom")).Text));
    }

    [Fact]
    public async Task AnOversizedDeliveryIsRefusedWith413()
    {
        var response = await factory.PostWebhookAsync(new string(' ', 3 * 1024 * 1024 + 1));

        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
    }

    [Fact]
    public async Task AChunkedDeliveryOverTheLimitIsA413NamingTheWebhooksLimit()
    {
        // No length up front: Kestrel stops the body as it is read, and the answer names the webhooks' 3 MB, not the API's 64 KB.
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0); // the in-memory server enforces no limit on a chunked body
        server.StartServer();
        using var client = server.CreateClient();
        var body = Encoding.UTF8.GetBytes(new string(' ', 3 * 1024 * 1024 + 1));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/meta") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Content.Headers.Add(TwaBot.Api.Webhooks.WebhookSignature.HeaderName, TwaBot.Api.Webhooks.WebhookSignature.Sign(body, server.AppSecret));
        request.Headers.TransferEncodingChunked = true;

        var json = await (await client.SendAsync(request)).AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");

        Assert.Contains($"{3 * 1024 * 1024} bytes", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory] // Kestrel counts a chunked body's framing against its cap: the limit is still the body's own bytes
    [InlineData(3 * 1024 * 1024 - 1)]
    [InlineData(3 * 1024 * 1024)]
    public async Task AChunkedDeliveryUpToTheLimitIsTaken(int size)
    {
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0); // the in-memory server enforces no limit on a chunked body
        server.StartServer();
        using var client = server.CreateClient();
        var body = Encoding.UTF8.GetBytes("{}" + new string(' ', size - 2));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/meta") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Content.Headers.Add(TwaBot.Api.Webhooks.WebhookSignature.HeaderName, TwaBot.Api.Webhooks.WebhookSignature.Sign(body, server.AppSecret));
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task InboxFileAsync(TwaBotApiFactory server, string sql)
    {
        var inbox = server.Services.GetRequiredService<TwaBot.Api.Webhooks.WebhookInboxFile>();
        await using var connection = await inbox.Connections.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
