using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// Two businesses on one server: what one of them (its keys, its customers, its webhooks) does never shows in,
/// nor counts against, the other.
/// </summary>
public class TenantIsolationTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static object Template(string phone) => new { phone, template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    private async Task<string> PhoneNumberIdOfAsync(long businessId)
    {
        var id = "";
        await factory.WithDbAsync(async db => id = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).PhoneNumberId);
        return id;
    }

    [Fact]
    public async Task ACustomersStopAndWindowWithOneBusinessAreNotAnothers()
    {
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();

        await factory.CustomerWritesAsync(a.BusinessId, "919812340001", "Hi");
        await factory.CustomerWritesAsync(a.BusinessId, "919812340002", "STOP");

        await (await a.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919812340001", message = "hello" })).ReadJsonAsync(HttpStatusCode.OK);
        await (await b.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919812340001", message = "hello" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        await (await a.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340002"))).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        await (await b.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340002"))).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AWindowClosedAnswerTellsNothingOfTheCustomersMessagesToAnotherBusiness()
    {
        // WINDOW_CLOSED names when the customer last wrote: to this business, never to another one on the server.
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(a.BusinessId, "919812340013", "Hi", factory.Clock.GetUtcNow().AddHours(-30));

        var ofA = await (await a.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919812340013", message = "hello" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        var ofB = await (await b.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919812340013", message = "hello" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");

        Assert.Equal(System.Text.Json.JsonValueKind.String, ofA.GetProperty("session_window").GetProperty("last_inbound_at").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ofB.GetProperty("session_window").GetProperty("last_inbound_at").ValueKind);
    }

    [Fact]
    public async Task TheAdminApiOfOneBusinessDoesNotReachAnothersSuppressionsNorTemplates()
    {
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{a.BusinessId}/suppressions", new { phone = "919812340003", state = "blocked" }))
            .ReadJsonAsync(HttpStatusCode.Created);

        await (await admin.GetAsync($"/admin/v1/businesses/{b.BusinessId}/suppressions/919812340003")).AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
        await (await admin.DeleteAsync($"/admin/v1/businesses/{b.BusinessId}/suppressions/919812340003")).AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
        await (await a.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340003"))).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        await (await b.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340003"))).ReadJsonAsync(HttpStatusCode.OK);

        long templateOfA = 0;
        await factory.WithDbAsync(async db => templateOfA = await db.Templates.Where(t => t.BusinessId == a.BusinessId).Select(t => t.Id).FirstAsync());
        await (await admin.GetAsync($"/admin/v1/businesses/{b.BusinessId}/templates/{templateOfA}")).AssertErrorAsync(HttpStatusCode.NotFound, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task AStatusWebhookOnOneBusinesssNumberDoesNotMoveAnothersMessage()
    {
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();
        var sent = await (await a.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340004"))).ReadJsonAsync(HttpStatusCode.OK);
        var wamid = sent.GetProperty("message_id").GetString()!;
        await factory.SettleStatusesAsync();
        var reference = "";
        await factory.WithDbAsync(async db => reference = await db.Messages.Where(m => m.Wamid == wamid).Select(m => m.Reference).SingleAsync());

        // A report on B's number, naming A's wamid and A's reference, is not A's.
        var report = MetaPayloads.Status(wamid, "failed", factory.Clock.GetUtcNow().AddMinutes(1), "919812340004", reference, 131026);
        await factory.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(await PhoneNumberIdOfAsync(b.BusinessId), statuses: [report]))));
        await factory.ApplyWebhooksAsync();

        var status = await (await a.Client.GetAsync($"/api/v1/message-status/{wamid}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("read", status.GetProperty("delivery_status").GetString());
        await (await b.Client.GetAsync($"/api/v1/message-status/{wamid}")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
        await (await b.Client.GetAsync($"/api/v1/message-status/{reference}")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
    }

    [Fact]
    public async Task OneBusinesssSendsToFailingNumbersDoNotPauseAnothersSends()
    {
        // Meta's 5xx answers to one business open that business's breaker: the breaker used to be one for the
        // whole server, so any key sending to a number Meta fails on (0500 here) paused every business's sends.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:Meta:Resilience:BreakerMinimumThroughput"] = "2",
            ["TwaBot:Meta:Resilience:BreakerFailureRatio"] = "0.5",
        });
        var noisy = await server.CreateSendingTenantAsync();
        var quiet = await server.CreateSendingTenantAsync();
        for (var i = 0; i < 4; i++)
        {
            await noisy.Client.PostAsJsonAsync("/api/v1/send-template", Template("919876540500"));
        }

        await (await noisy.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340005")))
            .AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "META_UNAVAILABLE");
        await (await quiet.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340005"))).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OneBusinesssOtpsToANumberDoNotUseUpAnothersHourlyCap()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:RateLimits:OtpPerRecipientPerHour"] = "1" });
        var a = await server.CreateSendingTenantAsync();
        var b = await server.CreateSendingTenantAsync();
        var otp = new { phone = "919812340006", template_name = "otp_verification" };

        await (await a.Client.PostAsJsonAsync("/api/v1/send-otp", otp)).ReadJsonAsync(HttpStatusCode.OK);
        await (await a.Client.PostAsJsonAsync("/api/v1/send-otp", otp)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "OTP_RECIPIENT_LIMIT_REACHED");
        await (await b.Client.PostAsJsonAsync("/api/v1/send-otp", otp)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task KeysOfOtherBusinessesHaveTheirOwnMinuteAndDailyLimitsAndIdempotencyKeys()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:RateLimits:PerKeyPerMinute"] = "3",
            ["TwaBot:Plans:Growth:DailyLimit"] = "1",
        });
        var a = await server.CreateSendingTenantAsync(plan: "Growth");
        var b = await server.CreateSendingTenantAsync(plan: "Growth");

        using var first = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(Template("919812340007")) };
        first.Headers.Add("Idempotency-Key", "order-1");
        var sentByA = await (await a.Client.SendAsync(first)).ReadJsonAsync(HttpStatusCode.OK);
        await (await a.Client.PostAsJsonAsync("/api/v1/send-template", Template("919812340007"))).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        await (await a.Client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        await (await a.Client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");

        using var second = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(Template("919812340007")) };
        second.Headers.Add("Idempotency-Key", "order-1");
        var sentByB = await (await b.Client.SendAsync(second)).ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotEqual(sentByA.GetProperty("message_id").GetString(), sentByB.GetProperty("message_id").GetString());
        await (await b.Client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnotherBusinesssApprovedTemplateIsNotFoundForThisOnesKeyOnAnySend()
    {
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();
        var wabaOfB = "";
        await factory.WithDbAsync(async db =>
        {
            wabaOfB = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == b.BusinessId)).WabaId;
            db.Templates.Add(new TwaBot.Api.Templates.Template
            {
                BusinessId = b.BusinessId, Name = "b_only_offer", Language = "en", Content = "Hi {{1}}, an offer for you.", Category = "MARKETING",
                Status = "APPROVED", MetaTemplateId = "9901", UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            });
            db.SandboxTemplates.Add(new TwaBot.Api.Sandbox.SandboxTemplate
            {
                WabaId = wabaOfB, MetaId = "9901", Name = "b_only_offer", Language = "en", Category = "MARKETING", Status = "APPROVED", Body = "Hi {{1}}, an offer for you.",
            });
            await db.SaveChangesAsync();
        });
        using var anonymous = factory.CreateClient();

        await (await b.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919812340009", template_name = "b_only_offer", body_params = new[] { "Rahul" } })).ReadJsonAsync(HttpStatusCode.OK);
        var refused = new[]
        {
            await a.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919812340009", template_name = "b_only_offer", body_params = new[] { "Rahul" } }),
            await anonymous.GetAsync($"/api/v1/quick-send?apikey={a.Key}&phone=919812340009&template=b_only_offer&params=Rahul"),
        };

        foreach (var response in refused)
        {
            var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
            Assert.Equal("Template 'b_only_offer' not found or not approved.", error.GetProperty("error").GetString());
        }

        var listed = await (await a.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.DoesNotContain("b_only_offer", listed.GetProperty("templates").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
        // Refused by this server, not by Meta: A's send never left a row, nor reached Meta with B's template.
        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == a.BusinessId)));
    }

    [Fact]
    public async Task AnotherBusinesssSendUnderWayWithTheSameIdempotencyKeyDoesNotHoldThisOnesSend()
    {
        // The same key string from two businesses' CRMs (an order number) is two keys: B's send is neither 409
        // (A's is under way) nor 422, and gets its own message.
        await using var server = new FirstSendHeldAtMeta();
        var a = await server.CreateSendingTenantAsync();
        var b = await server.CreateSendingTenantAsync();
        HttpRequestMessage Send(string phone)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(Template(phone)) };
            request.Headers.Add("Idempotency-Key", "order-77");
            return request;
        }

        using var first = Send("919812340010");
        var sendOfA = a.Client.SendAsync(first);
        await server.UnderWayAsync();
        using var same = Send("919812340010");
        using var other = Send("919812340011");
        var sameOfB = await b.Client.SendAsync(same);
        var otherOfB = await b.Client.SendAsync(other);
        server.Release.SetResult();

        var sentByA = await (await sendOfA).ReadJsonAsync(HttpStatusCode.OK);
        var sentByB = await sameOfB.ReadJsonAsync(HttpStatusCode.OK);
        Assert.NotEqual(sentByA.GetProperty("message_id").GetString(), sentByB.GetProperty("message_id").GetString());
        await otherOfB.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED"); // B's own first request's key
    }

    [Fact]
    public async Task TemplateNotFoundHintsNameNothingOfAnotherBusinesssTemplates()
    {
        // B's rejected template (and why), its approved one under another case or its display name, and the languages
        // it is approved in are B's to know: A's refusal is the plain "not found".
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            var now = factory.Clock.GetUtcNow().UtcDateTime;
            db.Templates.Add(new TwaBot.Api.Templates.Template
            {
                BusinessId = b.BusinessId, Name = "b_launch", Language = "en", Content = "Hi {{1}}, we launch today.", Category = "MARKETING",
                Status = "REJECTED", StatusReason = "PROMOTIONAL", MetaTemplateId = "9902", UpdatedAt = now,
            });
            db.Templates.Add(new TwaBot.Api.Templates.Template
            {
                BusinessId = b.BusinessId, Name = "b_festival", DisplayName = "B Festival", Language = "en", Content = "Hi {{1}}, the festival is on.",
                Category = "MARKETING", Status = "APPROVED", MetaTemplateId = "9903", UpdatedAt = now,
            });
            await db.SaveChangesAsync();
        });

        var attempts = new[]
        {
            new { template_name = "b_launch", language = "en" },
            new { template_name = "B_FESTIVAL", language = "en" },
            new { template_name = "B Festival", language = "en" },
            new { template_name = "b_festival", language = "hi" },
        };
        foreach (var attempt in attempts)
        {
            var body = new { phone = "919812340012", attempt.template_name, attempt.language, body_params = new[] { "Rahul" } };
            var ofA = await (await a.Client.PostAsJsonAsync("/api/v1/send-template", body)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
            var ofB = await (await b.Client.PostAsJsonAsync("/api/v1/send-template", body)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");

            // B, whose templates they are, is told what it has; A only that it has no such template.
            Assert.True(ofB.TryGetProperty("hint", out _), $"{attempt.template_name} ({attempt.language}) gives B no hint");
            Assert.False(ofA.TryGetProperty("hint", out var hint), $"{attempt.template_name} ({attempt.language}): {hint}");
        }
    }

    [Fact]
    public async Task TheSandboxInboundOfOneBusinessDoesNotLandInAnothers()
    {
        var a = await factory.CreateSendingTenantAsync();
        var b = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        await (await admin.PostAsJsonAsync("/sandbox/v1/inbound",
                new { business_id = b.BusinessId, phone_number_id = await PhoneNumberIdOfAsync(a.BusinessId), from = "919812340008", text = "Hi" }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
    }
}
