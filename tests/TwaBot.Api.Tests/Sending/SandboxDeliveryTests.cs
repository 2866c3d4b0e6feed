using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>Sends through the sandbox emulator end to end: Meta's answers, and delivery statuses on message-status.</summary>
public class SandboxDeliveryTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task AMessageGoesSentDeliveredReadOnMessageStatus()
    {
        // Each report waits for the configured delay on the server's (fake) clock, so "just sent" is observable. Ten minutes:
        // real time never reaches it, so only the server's clock can bring the reports.
        var delay = TimeSpan.FromMinutes(10);
        await using var delayed = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:Sandbox:StatusDelayMilliseconds"] = delay.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
        });
        var tenant = await delayed.CreateSendingTenantAsync();
        var sentAt = DateTimeOffset.FromUnixTimeSeconds(delayed.Clock.GetUtcNow().ToUnixTimeSeconds()).UtcDateTime; // Meta stamps whole seconds
        var messageId = await SendTemplateAsync(tenant, "919876543210");

        await delayed.ApplyWebhooksAsync();
        var justSent = await StatusAsync(tenant, messageId);
        await delayed.AdvanceUntilStatusesSettleAsync(delay);
        var settled = await StatusAsync(tenant, messageId);

        Assert.Equal("sent", justSent.GetProperty("delivery_status").GetString());
        Assert.Equal(["success", "message_id", "api_status", "delivery_status", "sent_at", "to"], settled.PropertyNames());
        Assert.Equal(messageId, settled.GetProperty("message_id").GetString());
        Assert.Equal("success", settled.GetProperty("api_status").GetString());
        Assert.Equal("read", settled.GetProperty("delivery_status").GetString());
        Assert.Equal("919876543210", settled.GetProperty("to").GetString());
        Assert.Equal("2026-04-14T10:30:45.000Z", settled.GetProperty("sent_at").GetString());
        await delayed.WithDbAsync(async db =>
        {
            var id = await db.Messages.Where(m => m.Wamid == messageId).Select(m => m.Id).SingleAsync();
            var history = await db.MessageStatusEvents.Where(e => e.MessageId == id).OrderBy(e => e.Id).Select(e => new { e.Status, e.OccurredAt }).ToListAsync();
            Assert.Equal(["sent", "delivered", "read"], history.Select(e => e.Status));
            // Each stamped when it went: a delay or more after the send, and after the report before it (none early, none at once).
            Assert.All(history.Zip([sentAt, .. history.Select(e => e.OccurredAt)]), pair => Assert.True(pair.First.OccurredAt - pair.Second >= delay, $"{pair.First.Status} came early"));
        });
    }

    [Fact]
    public async Task WithStatusWebhooksOffASendIsReportedOnNoFurtherThanSent()
    {
        // README: TwaBot:Sandbox:StatusWebhooks=false stops the emulator's status webhooks after a send.
        await using var quiet = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusWebhooks"] = "false" });
        var tenant = await quiet.CreateSendingTenantAsync();
        var messageId = await SendTemplateAsync(tenant, "919876543210");

        await quiet.SettleStatusesAsync();

        Assert.Equal("sent", (await StatusAsync(tenant, messageId)).GetProperty("delivery_status").GetString());
        await quiet.WithDbAsync(async db => Assert.False(await db.MessageStatusEvents.AnyAsync()));
    }

    [Fact]
    public async Task A0000NumberIsAcceptedThenFailsWithTheDocsReason()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var messageId = await SendTemplateAsync(tenant, "919876540000");

        await factory.SettleStatusesAsync();
        var status = await StatusAsync(tenant, messageId);

        Assert.Equal(["success", "message_id", "api_status", "delivery_status", "sent_at", "to", "failure_reason"], status.PropertyNames());
        Assert.Equal("failed", status.GetProperty("delivery_status").GetString());
        Assert.Equal("success", status.GetProperty("api_status").GetString());
        Assert.Equal("Message undeliverable — recipient's phone is not on WhatsApp.", status.GetProperty("failure_reason").GetString());
        // README's magic numbers: Meta reports it sent first, then failed.
        await factory.WithDbAsync(async db =>
        {
            var id = await db.Messages.Where(m => m.Wamid == messageId).Select(m => m.Id).SingleAsync();
            Assert.Equal(["sent", "failed"],
                await db.MessageStatusEvents.Where(e => e.MessageId == id).OrderBy(e => e.Id).Select(e => e.Status).ToListAsync());
        });
        // The failed report's error as Meta writes it: its code, and its title again as the message and the details.
        var failed = Assert.Single(await StoredReportsAsync(messageId), report => (string?)report["status"] == "failed");
        var error = Assert.Single(failed["errors"]!.AsArray())!;
        Assert.Equal((131026, "Message undeliverable", "Message undeliverable", "Message undeliverable"),
            ((int?)error["code"], (string?)error["title"], (string?)error["message"], (string?)error["error_data"]!["details"]));
    }

    /// <summary>The status reports on <paramref name="messageId"/> the receiver stored, as the emulator posted them.</summary>
    private async Task<List<System.Text.Json.Nodes.JsonNode>> StoredReportsAsync(string messageId)
    {
        var reports = new List<System.Text.Json.Nodes.JsonNode>();
        await factory.WithDbAsync(async db =>
        {
            foreach (var body in await db.WebhookEvents.Select(e => e.Body).ToListAsync())
            {
                reports.AddRange(System.Text.Json.Nodes.JsonNode.Parse(body)!["entry"]!.AsArray()
                    .SelectMany(entry => entry!["changes"]!.AsArray())
                    .SelectMany(change => change!["value"]!["statuses"]?.AsArray() ?? [])
                    .Where(report => (string?)report!["id"] == messageId)!);
            }
        });
        return reports;
    }

    [Fact]
    public async Task ItsStatusReportsPriceTheMessageByItsTemplatesCategory()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var messageId = await SendTemplateAsync(tenant, "919876543210"); // order_confirmation: a UTILITY template

        await factory.SettleStatusesAsync();

        var reports = await StoredReportsAsync(messageId);
        Assert.Equal(["sent", "delivered", "read"], reports.Select(r => (string?)r["status"]));
        Assert.All(reports, report => Assert.Equal(("utility", "utility"),
            ((string?)report["pricing"]!["category"], (string?)report["conversation"]!["origin"]!["type"])));
        // The rest of Meta's shape: when (the fake clock stood still), to whom, and billed as Meta bills a delivered template.
        var now = factory.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        Assert.All(reports, report => Assert.Equal((now, "919876543210", true, "PMP"), ((string?)report["timestamp"], (string?)report["recipient_id"],
            (bool?)report["pricing"]!["billable"], (string?)report["pricing"]!["pricing_model"])));
        // Each delivery names the business's number as customers see it (the sandbox's), beside its id.
        await factory.WithDbAsync(async db => Assert.All(
            (await db.WebhookEvents.Select(e => e.Body).ToListAsync()).Select(System.Text.Encoding.UTF8.GetString).Where(body => body.Contains(messageId, StringComparison.Ordinal)),
            body => Assert.Contains($"\"display_phone_number\":\"{TwaBot.Api.Businesses.WhatsAppConnection.SandboxDisplayPhoneNumber}\"", body, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A0047NumberIsRefusedByMetasOwnWindowCheck()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540047", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.False(json.GetProperty("session_window").GetProperty("open").GetBoolean());
        await AssertRowAsync(tenant.BusinessId, "919876540047", "failed", 131047);
        // A template was refused: the answer must not tell the caller to send a template instead.
        Assert.StartsWith("Meta refused this template message", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("send-template", json.GetProperty("hint").GetString(), StringComparison.Ordinal);
        // Nor the failure_reason message-status shows.
        Assert.StartsWith("Meta refused this template under its 24-hour customer service window rule (131047)",
            await FailureReasonAsync(tenant.BusinessId, "919876540047"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A0047NumberOnAFreeFormSendGetsTheSeedsWindowText()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876540047"); // our own window check passes; Meta's refuses

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876540047", message = "Hello" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.StartsWith("Recipient is outside the 24-hour customer service window.", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead.", json.GetProperty("hint").GetString());
        Assert.Equal("More than 24 hours have passed since the customer last replied; send an approved template instead.",
            await FailureReasonAsync(tenant.BusinessId, "919876540047"));
    }

    [Fact]
    public async Task MetasWindowRefusalSaysWhenTheCustomerLastWrote()
    {
        // A template to a customer who wrote two days ago: our own check lets templates through, Meta's refuses this one.
        var tenant = await factory.CreateSendingTenantAsync();
        var wroteAt = factory.Clock.GetUtcNow().AddDays(-2);
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876540047", at: wroteAt);

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540047", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        var window = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED")).GetProperty("session_window");
        Assert.False(window.GetProperty("open").GetBoolean());
        Assert.Equal(wroteAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'.000Z'", CultureInfo.InvariantCulture),
            window.GetProperty("last_inbound_at").GetString());
    }

    [Fact]
    public async Task A0429NumberIsThrottlingWithRetryAfter()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540429", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        var json = await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "UPSTREAM_RATE_LIMITED");
        Assert.True(json.GetProperty("retry_after_seconds").GetInt32() >= 1);
        Assert.Equal(json.GetProperty("retry_after_seconds").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Assert.Single(response.Headers.GetValues("Retry-After")));
        await AssertRowAsync(tenant.BusinessId, "919876540429", "failed", 130429);
    }

    [Fact]
    public async Task A0500NumberIsMetaUnavailableAndNeverASuccessNorAFailure()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540500", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        // Meta's 5xx may come after it took the message: the row waits for a status webhook (or the sweep).
        await AssertRowAsync(tenant.BusinessId, "919876540500", "pending", 131000);
        Assert.Equal("WhatsApp (Meta) failed or did not answer, so whether it took the message is unknown; it may still be delivered, "
            + "and sending it again may deliver it twice. Follow it with GET /api/v1/message-status/{message_id}.", json.GetProperty("error").GetString());
        // The caller can follow it: message-status takes the message_id the 502 gives (our reference, no wamid yet).
        var reference = json.GetProperty("message_id").GetString()!;
        Assert.Matches("^twb:[a-z][0-9a-z]{19}$", reference);
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(reference)}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((reference, "pending"), (status.GetProperty("message_id").GetString(), status.GetProperty("api_status").GetString()));
        // sent_at is when Meta accepted the message, which nothing has told yet.
        Assert.Equal(JsonValueKind.Null, status.GetProperty("sent_at").ValueKind);
        // Not "failed": a client reading the reason must not take the message for undelivered and send it again.
        Assert.EndsWith(" The message may still be delivered (its status webhook will tell).", status.GetProperty("failure_reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownOutcomesMessageIdTellsNothingOfHowManyMessagesTheServerSent()
    {
        // Our id used to be the row number: every business that met a 502 (in the sandbox, at will) could count the
        // server's sends for all businesses between two of its own, and guess the next ones.
        var tenant = await factory.CreateSendingTenantAsync();
        var references = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876540500", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
            references.Add((await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("message_id").GetString()!);
        }

        Assert.Equal(3, references.Distinct().Count());
        List<long> rowIds = [];
        await factory.WithDbAsync(async db => rowIds = await db.Messages.Where(m => m.BusinessId == tenant.BusinessId).Select(m => m.Id).ToListAsync());
        Assert.Equal(3, rowIds.Count);
        Assert.All(references, reference => Assert.DoesNotContain(reference[MessageReferences.Prefix.Length..], rowIds.Select(id => id.ToString(CultureInfo.InvariantCulture))));
        // Nor does the row number find the message any more (the form ids had before).
        foreach (var rowId in rowIds)
        {
            await (await tenant.Client.GetAsync($"/api/v1/message-status/twb:{rowId}")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
        }
    }

    /// <summary>Each send of the API to each row of the README's magic-number table, the number written as a client may write it.</summary>
    public static TheoryData<string, string, string> EverySendToEveryMagicNumber()
    {
        string[] sends = ["send-template", "send-text", "send-media", "send-otp", "quick-send?template=", "quick-send?message="];
        string[] endings = ["0000", "0047", "0050", "0429", "0500", "3210"];
        Func<string, string>[] forms = [e => "+91 98765-4" + e, e => "0091 98765 4" + e, e => "98765 4" + e, e => "(+91) 9876-54-" + e, e => "919876 54" + e];
        var data = new TheoryData<string, string, string>();
        for (var s = 0; s < sends.Length; s++)
        {
            for (var e = 0; e < endings.Length; e++)
            {
                data.Add(sends[s], endings[e], forms[(s + e) % forms.Length](endings[e]));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EverySendToEveryMagicNumber))]
    public async Task EverySendGetsTheReadmesAnswerForEachMagicNumberHoweverItIsWritten(string send, string ending, string written)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var number = "91987654" + ending;
        await factory.CustomerWritesAsync(tenant.BusinessId, number); // the window is open: what the emulator does decides the answer

        var response = send switch
        {
            "send-template" => await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = written, template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } }),
            "send-text" => await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = written, message = "Hello" }),
            "send-media" => await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
                new { phone = written, media_type = "image", media_url = "https://example.com/a.jpg" }),
            "send-otp" => await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = written, template_name = "otp_verification" }),
            "quick-send?template=" => await tenant.Client.GetAsync(
                $"/api/v1/quick-send?phone={Uri.EscapeDataString(written)}&template=order_confirmation&params=a,b,c"),
            _ => await tenant.Client.GetAsync($"/api/v1/quick-send?phone={Uri.EscapeDataString(written)}&message=Hello"),
        };

        switch (ending)
        {
            case "0047":
                await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
                await AssertRowAsync(tenant.BusinessId, number, "failed", 131047);
                return;
            case "0429":
                Assert.True((await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "UPSTREAM_RATE_LIMITED")).GetProperty("retry_after_seconds").GetInt32() >= 1);
                await AssertRowAsync(tenant.BusinessId, number, "failed", 130429);
                return;
            case "0500":
                var reference = (await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("message_id").GetString()!;
                await factory.SettleStatusesAsync();
                Assert.Equal("pending", (await StatusAsync(tenant, reference)).GetProperty("api_status").GetString());
                return;
        }

        var sent = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(number, sent.GetProperty("phone").GetString());
        var messageId = sent.GetProperty("message_id").GetString()!;
        await factory.SettleStatusesAsync();
        var status = await StatusAsync(tenant, messageId);
        var reports = new List<string>();
        await factory.WithDbAsync(async db =>
        {
            var id = await db.Messages.Where(m => m.Wamid == messageId).Select(m => m.Id).SingleAsync();
            reports = await db.MessageStatusEvents.Where(e => e.MessageId == id).OrderBy(e => e.Id).Select(e => e.Status).ToListAsync();
        });
        if (ending == "0000")
        {
            Assert.Equal(["sent", "failed"], reports);
            Assert.Equal(("failed", "Message undeliverable — recipient's phone is not on WhatsApp."),
                (status.GetProperty("delivery_status").GetString(), status.GetProperty("failure_reason").GetString()));
        }
        else
        {
            // 0050 stops marketing templates only: these sends go as any other.
            Assert.Equal(["sent", "delivered", "read"], reports);
            Assert.Equal("read", status.GetProperty("delivery_status").GetString());
        }
    }

    [Fact]
    public async Task MetasHttp500IsNotLoggedAsARefusal()
    {
        // The caller hears "may still be delivered"; the log said "Meta refused a call", which reads as "nothing sent".
        var tenant = await factory.CreateSendingTenantAsync();

        await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540500", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        var logs = factory.Logs.AllText();
        Assert.Contains("Meta failed a call: HTTP 500", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Meta refused a call: HTTP 500", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASendWithAnUnknownOutcomeIsFollowedByItsReferenceUntilMetaSettlesIt()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var other = await factory.CreateSendingTenantAsync();
        var unknown = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540500", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } }))
            .AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        var reference = unknown.GetProperty("message_id").GetString()!;
        var phoneNumberId = "";
        await factory.WithDbAsync(async db => phoneNumberId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);

        // Meta did take it: its report carries our callback data (the reference) and the wamid.
        var report = Webhooks.MetaPayloads.Status("wamid.settled-late", "delivered", factory.Clock.GetUtcNow(), recipient: "919876540500");
        report["biz_opaque_callback_data"] = reference;
        await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry(
            Webhooks.MetaPayloads.MessagesChange(phoneNumberId, statuses: [report]))));
        await factory.ApplyWebhooksAsync();

        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(reference)}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("wamid.settled-late", "success", "delivered"),
            (status.GetProperty("message_id").GetString(), status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString()));
        // Another business's reference does not exist for this caller.
        await (await other.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(reference)}")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
    }

    [Fact]
    public async Task ASendWhoseAnswerWasLostIsSettledByMetasReportsThroughTheCallbackDataItWasSentWith()
    {
        // Meta took the send, but its answer never came back: only the callback data the send carried ties Meta's reports
        // to the row, so it must be the reference the caller was given to follow.
        await using var server = new AnswerLostServer();
        var tenant = await server.CreateSendingTenantAsync();
        var unknown = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } }))
            .AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        var reference = unknown.GetProperty("message_id").GetString()!;

        await server.SettleStatusesAsync();

        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(reference)}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotNull(server.LostWamid);
        Assert.Equal((server.LostWamid, "success", "read"),
            (status.GetProperty("message_id").GetString(), status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString()));
    }

    [Fact]
    public async Task ASendTheOpenBreakerStoppedSaysItWasNotSentNotThatMetaReportedIt()
    {
        // The breaker opens after Meta's 5xx answers; the next send is not made at all.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:Meta:Resilience:BreakerMinimumThroughput"] = "2",
            ["TwaBot:Meta:Resilience:BreakerFailureRatio"] = "0.5",
        });
        var tenant = await server.CreateSendingTenantAsync();
        HttpResponseMessage? paused = null;
        for (var i = 0; i < 5 && paused?.StatusCode != HttpStatusCode.ServiceUnavailable; i++)
        {
            paused = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876540500", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        }

        var json = await paused!.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "META_UNAVAILABLE");
        // The breaker's remaining break, in the body and in Retry-After, so a client knows when to try again.
        var retryAfter = json.GetProperty("retry_after_seconds").GetInt32();
        Assert.InRange(retryAfter, 1, 60);
        Assert.Equal(retryAfter.ToString(CultureInfo.InvariantCulture), Assert.Single(paused!.Headers.GetValues("Retry-After")));
        await server.WithDbAsync(async db =>
        {
            var stopped = await db.Messages.Where(m => m.BusinessId == tenant.BusinessId && m.ApiStatus == "failed").SingleAsync();
            Assert.StartsWith("Not sent:", stopped.FailureReason, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task ATokenStoredBeforeTokensWereCheckedIsTheTokenErrorNotA500()
    {
        // A line break in a stored token used to make the client throw while building the header.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(db => db.WhatsAppConnections.Where(w => w.BusinessId == tenant.BusinessId)
            .ExecuteUpdateAsync(set => set.SetProperty(w => w.ProtectedAccessToken, factory.ProtectAccessToken("EAAG\r\nX-Injected: 1"))));
        factory.Services.GetRequiredService<TwaBot.Api.Sending.SendLookups>().Invalidate(tenant.BusinessId);
        using var admin = factory.CreateAdminClient();

        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543211", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        var sync = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);

        var error = await send.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        Assert.Contains("access token", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertRowAsync(tenant.BusinessId, "919876543211", "failed", 190);
        await sync.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
    }

    [Fact]
    public async Task ASendMetaAcceptedIsA200EvenWhenRecordingTheAcceptanceFailsAndItsWebhookRecordsIt()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        // The disk refuses to record Meta's answer for this recipient (the row itself was written before the call).
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER refuse_acceptance BEFORE UPDATE OF wamid ON messages WHEN NEW."to" = '919876543219' AND NEW.wamid IS NOT NULL
            BEGIN SELECT RAISE(ABORT, 'disk full'); END
            """));

        // An error answer here would make the caller send again, and the customer get the message twice.
        var messageId = await SendTemplateAsync(tenant, "919876543219");
        await server.SettleStatusesAsync(); // Meta's reports cannot record it either while the disk refuses
        Message? recorded = null;
        await server.WithDbAsync(async db => recorded = await db.Messages.AsNoTracking().SingleAsync(m => m.BusinessId == tenant.BusinessId));
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_acceptance"));
        server.Clock.Advance(TimeSpan.FromMinutes(1)); // the failed reports' pause before they are tried again
        await server.ApplyWebhooksAsync();
        var settled = await StatusAsync(tenant, messageId);

        Assert.StartsWith("wamid.", messageId, StringComparison.Ordinal);
        Assert.Equal(("pending", null), (recorded!.ApiStatus, recorded.Wamid));
        Assert.Equal("success", settled.GetProperty("api_status").GetString());
        Assert.Equal("read", settled.GetProperty("delivery_status").GetString());
    }

    [Fact]
    public async Task MetasRefusalReachesTheCallerEvenWhenRecordingItFails()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER refuse_outcome BEFORE UPDATE OF api_status ON messages WHEN NEW."to" = '919876540047'
            BEGIN SELECT RAISE(ABORT, 'disk full'); END
            """));

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540047", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        await server.WithDbAsync(async db => Assert.Equal(ApiStatuses.Pending,
            await db.Messages.Where(m => m.BusinessId == tenant.BusinessId).Select(m => m.ApiStatus).SingleAsync()));
    }

    [Fact]
    public async Task ARefusalThatCouldNotBeRecordedKeepsItsUnitOfTheDailyCap()
    {
        // Its row stays pending, which counts after a restart: the running count must agree, not give the unit back.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        using var admin = server.CreateAdminClient();
        (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 })).EnsureSuccessStatusCode();
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER refuse_outcome BEFORE UPDATE OF api_status ON messages WHEN NEW."to" = '919876540047'
            BEGIN SELECT RAISE(ABORT, 'disk full'); END
            """));

        var refused = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540047", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        var next = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.Equal(1, (await next.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED")).GetProperty("daily_used").GetInt32());
        // The operator learns why a refused send stays pending (and counts) until the sweep settles it.
        long rowId = 0;
        await server.WithDbAsync(async db => rowId = (await db.Messages.SingleAsync(m => m.To == "919876540047")).Id);
        Assert.Contains(server.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Error && e.RenderMessage(CultureInfo.InvariantCulture)
            == $"Meta answered the send of message {rowId}, but writing its answer down failed; the caller got the answer, and Meta's status webhooks or the sweep settle the row");
    }

    [Fact]
    public async Task AnUnknownMessageIdGetsTheDocsNotFound()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/message-status/wamid.HBgMOTE5ODc2NTQzMjEw");

        var json = await response.AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
        Assert.Equal("Message not found.", json.GetProperty("error").GetString());
        Assert.Equal("Status is available within a few seconds of sending. If message_id is correct, retry shortly.", json.GetProperty("hint").GetString());
    }

    [Fact]
    public async Task AnotherBusinessesMessageDoesNotExistForTheCaller()
    {
        var owner = await factory.CreateSendingTenantAsync();
        var other = await factory.CreateSendingTenantAsync();
        var messageId = await SendTemplateAsync(owner, "919876543210");

        var response = await other.Client.GetAsync($"/api/v1/message-status/{messageId}");

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
    }

    [Theory]
    [InlineData("STOP")]
    [InlineData("\uFF33\uFF34\uFF2F\uFF30")]           // fullwidth ＳＴＯＰ, read without ICU too (DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1)
    [InlineData("\uFF55\uFF4E\uFF53\uFF55\uFF42\uFF53\uFF43\uFF52\uFF49\uFF42\uFF45\uFF01")] // ｕｎｓｕｂｓｃｒｉｂｅ！
    [InlineData("Stop\u2026")]                          // with an ellipsis
    public async Task ACustomersStopOptsThemOutOfTheNextSend(string stop)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", stop);

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        Assert.Equal("opted_out", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
    }

    private static async Task<string> SendTemplateAsync(SendingTenant tenant, string phone)
    {
        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
        return (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString()!;
    }

    private static async Task<System.Text.Json.JsonElement> StatusAsync(SendingTenant tenant, string messageId) =>
        await (await tenant.Client.GetAsync($"/api/v1/message-status/{messageId}")).ReadJsonAsync(HttpStatusCode.OK);

    private async Task<string?> FailureReasonAsync(long businessId, string to)
    {
        string? reason = null;
        await factory.WithDbAsync(async db => reason = (await db.Messages.SingleAsync(m => m.BusinessId == businessId && m.To == to)).FailureReason);
        return reason;
    }

    [Fact]
    public async Task AClockSetForwardDuringASendDoesNotLetTheSweepSettleItBeforeMetaAnswers()
    {
        // The sweep takes a pending row older than ten minutes for an interrupted send; with the clock set forward
        // while Meta still had the call, it marked the row unknown, and Meta's refusal then found it settled.
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var sending = tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540047", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        await server.UnderWayAsync();

        server.Clock.Advance(Api.Sending.InterruptedSendSweeper.SettleAfter + TimeSpan.FromMinutes(1));
        var settled = await server.Services.GetRequiredService<Api.Sending.InterruptedSendSweeper>().SweepAsync(CancellationToken.None);
        server.Release.SetResult();

        Assert.Equal(0, settled);
        await (await sending).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        await server.WithDbAsync(async db =>
            Assert.Equal(ApiStatuses.Failed, (await db.Messages.SingleAsync(m => m.BusinessId == tenant.BusinessId)).ApiStatus));
    }

    private Task AssertRowAsync(long businessId, string to, string apiStatus, int failureCode) => factory.WithDbAsync(async db =>
    {
        var message = await db.Messages.SingleAsync(m => m.BusinessId == businessId && m.To == to);
        Assert.Equal(apiStatus, message.ApiStatus);
        Assert.Equal(failureCode, message.FailureCode);
        Assert.Null(message.Wamid);
    });

    /// <summary>A server whose sends reach the emulator (which takes them and reports on them) but whose answers are lost on the way back.</summary>
    private sealed class AnswerLostServer : TwaBotApiFactory
    {
        /// <summary>The wamid the emulator answered with, which the server never heard.</summary>
        public string? LostWamid { get; private set; }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
                services.AddHttpClient<TwaBot.Api.Meta.MetaClient>().AddHttpMessageHandler(() => new LoseAnswers(this)));
        }

        private sealed class LoseAnswers(AnswerLostServer server) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (request.Method != HttpMethod.Post || !request.RequestUri!.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal))
                {
                    return response;
                }

                using (response)
                {
                    var answer = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                    server.LostWamid = answer.RootElement.GetProperty("messages")[0].GetProperty("id").GetString();
                }

                return new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("") }; // a proxy's, not Meta's
            }
        }
    }
}
