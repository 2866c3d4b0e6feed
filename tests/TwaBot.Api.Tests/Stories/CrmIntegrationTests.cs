using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Stories;

/// <summary>
/// A day of a CRM written from the public API docs and the README alone: one Idempotency-Key per logical message,
/// retries exactly where the docs call them safe (5xx, 503 STORAGE_UNAVAILABLE, 429 after its wait, a timeout, a
/// dropped connection), errors read by their error_code, statuses polled to the end; while its customers say STOP and
/// START, its key is rotated, and its daily_limit runs out before the business's midnight. Against the sandbox's magic
/// numbers, on the fake clock.
/// </summary>
public partial class CrmIntegrationTests
{
    private const string Rahul = "919876543210";
    private const string Priya = "919876543211";
    private const string Anil = "919876543212";
    private const string NotOnWhatsApp = "919876540000";
    private const string MetaDown = "919876540500";
    private const string MetaThrottles = "919876540429";
    private const string Zone = "America/New_York";

    [Fact]
    public async Task ACrmsDayOfRetriesStopsARotationAndAFullCapSendsEachMessageOnce()
    {
        await using var server = new ShortBusyWaitServer(); // a locked database answers 503 after 2 s, not 30
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = Zone });
        using var admin = server.CreateAdminClient();
        var crm = new Crm(tenant.Client);
        var sent = new Dictionary<string, string>(); // Idempotency-Key → message_id, as the CRM stores them

        // 06:30 in New York. The CRM checks its key.
        var health = await (await crm.Client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.True(health.GetProperty("whatsapp_connected").GetBoolean());

        // An order confirmation; its answer is lost on the way back (a dropped connection), so the CRM sends it again.
        var order = new { phone = "98765 43210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1001", "$49" } };
        var first = await crm.SendAsync("/api/v1/send-template", order, "order-1001");
        var dayAfterFirst = DayRemaining(first);
        var again = await crm.SendAsync("/api/v1/send-template", order, "order-1001");
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        sent["order-1001"] = await SuccessIdAsync(first);
        Assert.Equal(sent["order-1001"], await SuccessIdAsync(again));
        Assert.Equal(dayAfterFirst, DayRemaining(again)); // a replay counts nothing

        // A reply to Priya before she wrote: refused by its code, then sent once she writes.
        var reply = new { phone = Priya, message = "Your parcel is ready for pickup." };
        var closed = await crm.SendAsync("/api/v1/send-text", reply, "reply-1");
        Assert.Equal("WINDOW_CLOSED", await ErrorCodeAsync(closed, HttpStatusCode.BadRequest));
        await server.CustomerWritesAsync(tenant.BusinessId, Priya, "Is my parcel ready?");
        sent["reply-1"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-text", reply, "reply-1")); // nothing was kept: checked anew
        sent["media-1"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-media",
            new { phone = Priya, media_type = "document", media_url = "https://example.com/invoice-1001.pdf", filename = "Invoice-1001.pdf" }, "media-1"));

        // A login code; the CRM times out on its side and asks again: the same code, no second text.
        var otp = await crm.SendAsync("/api/v1/send-otp", new { phone = Rahul, template_name = "otp_verification" }, "otp-1");
        var code = (await otp.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("otp").GetString();
        var otpAgain = await (await crm.SendAsync("/api/v1/send-otp", new { phone = Rahul, template_name = "otp_verification" }, "otp-1"))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(code, otpAgain.GetProperty("otp").GetString());
        sent["otp-1"] = otpAgain.GetProperty("message_id").GetString()!;

        // A customer not on WhatsApp: accepted, then failed on message-status.
        sent["order-1002"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-template",
            new { phone = NotOnWhatsApp, template_name = "order_confirmation", body_params = new[] { "Ravi", "ORD-1002", "$12" } }, "order-1002"));

        // Meta fails with a 5xx: the outcome is unknown, so the CRM retries only with the same key, and gets the same id.
        var unknown = new { phone = MetaDown, template_name = "order_confirmation", body_params = new[] { "Meena", "ORD-1003", "$5" } };
        var down = await crm.SendAsync("/api/v1/send-template", unknown, "order-1003");
        var dayAfterDown = DayRemaining(down);
        var downBody = await down.ReadJsonAsync(HttpStatusCode.BadGateway);
        Assert.Equal("META_UNAVAILABLE", downBody.GetProperty("error_code").GetString());
        var downAgain = await crm.SendAsync("/api/v1/send-template", unknown, "order-1003");
        Assert.Equal(downBody.GetProperty("message_id").GetString(), (await downAgain.ReadJsonAsync(HttpStatusCode.BadGateway)).GetProperty("message_id").GetString());
        Assert.Equal(dayAfterDown, DayRemaining(downAgain));
        sent["order-1003"] = downBody.GetProperty("message_id").GetString()!;

        // Meta throttles the number: refused, nothing kept or counted; retried after Retry-After, refused again alike.
        var throttledOrder = new { phone = MetaThrottles, template_name = "order_confirmation", body_params = new[] { "Joe", "ORD-1004", "$7" } };
        var throttled = await crm.SendAsync("/api/v1/send-template", throttledOrder, "order-1004");
        Assert.Equal("UPSTREAM_RATE_LIMITED", await ErrorCodeAsync(throttled, HttpStatusCode.TooManyRequests));
        server.Clock.Advance(TimeSpan.FromSeconds(int.Parse(throttled.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture)));
        var throttledAgain = await crm.SendAsync("/api/v1/send-template", throttledOrder, "order-1004");
        Assert.Equal("UPSTREAM_RATE_LIMITED", await ErrorCodeAsync(throttledAgain, HttpStatusCode.TooManyRequests));
        Assert.Equal(dayAfterDown, DayRemaining(throttledAgain));

        // The key's minute limit: the CRM waits what Retry-After says, then the same message goes.
        server.Clock.Advance(TimeSpan.FromMinutes(1));
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { per_minute_limit = 2 });
        var burst = new { phone = Rahul, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1005", "$1" } };
        sent["order-1005"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-template", burst, "order-1005"));
        Assert.Equal(HttpStatusCode.OK, (await crm.Client.GetAsync($"/api/v1/message-status/{sent["order-1005"]}")).StatusCode);
        var burst2 = burst with { body_params = ["Rahul", "ORD-1006", "$2"] };
        var limited = await crm.SendAsync("/api/v1/send-template", burst2, "order-1006");
        var limitedBody = await limited.ReadJsonAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal("RATE_LIMITED", limitedBody.GetProperty("error_code").GetString());
        var wait = limitedBody.GetProperty("retry_after_seconds").GetInt32();
        Assert.Equal(wait.ToString(CultureInfo.InvariantCulture), limited.Headers.GetValues("Retry-After").Single());
        Assert.Matches($"^\"minute\";r=0;t={wait}, ", limited.Headers.GetValues("RateLimit").Single());
        server.Clock.Advance(TimeSpan.FromSeconds(wait));
        sent["order-1006"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-template", burst2, "order-1006"));
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { per_minute_limit = (int?)null });

        // Anil says STOP while the CRM sends: refused as SUPPRESSED; after his START the same logical message goes.
        await server.CustomerWritesAsync(tenant.BusinessId, Anil, "STOP");
        var toAnil = new { phone = Anil, template_name = "order_confirmation", body_params = new[] { "Anil", "ORD-1007", "$3" } };
        var stopped = await crm.SendAsync("/api/v1/send-template", toAnil, "order-1007");
        Assert.Equal("opted_out", (await stopped.ReadJsonAsync(HttpStatusCode.BadRequest)).GetProperty("suppression_state").GetString());
        await server.CustomerWritesAsync(tenant.BusinessId, Anil, "START");
        sent["order-1007"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-template", toAnil, "order-1007"));

        // Another program holds the database's lock: 503 STORAGE_UNAVAILABLE, nothing sent; the retry after Retry-After sends it once.
        var locked = new { phone = Rahul, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1008", "$8" } };
        await using (var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath))
        {
            var unavailable = await crm.SendAsync("/api/v1/send-template", locked, "order-1008");
            Assert.Equal("STORAGE_UNAVAILABLE", await ErrorCodeAsync(unavailable, HttpStatusCode.ServiceUnavailable));
            Assert.Equal("5", unavailable.Headers.GetValues("Retry-After").Single());

            // The CRM's own timeout ends its next call while the database is still held: that send is never made, so the retry sends it.
            var timedOut = new { phone = Rahul, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1009", "$9" } };
            using (var gaveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => crm.SendAsync("/api/v1/send-template", timedOut, "order-1009", gaveUp.Token));
            }

            await otherProcess.ReleaseAsync();
            server.Clock.Advance(TimeSpan.FromSeconds(5));
            sent["order-1008"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-template", locked, "order-1008"));
            await Poll.UntilAsync(() => server.Services.GetRequiredService<TwaBot.Api.Sending.Idempotency.IdempotencyKeys>().UnderWayCount == 0,
                "the timed-out send to end");
            sent["order-1009"] = await SuccessIdAsync(await crm.SendAsync("/api/v1/send-template", timedOut, "order-1009"));
        }

        // Midday: the key is rotated. The new key is made, checked by name, and used; the old one is revoked.
        var rotated = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/api-keys",
            new { name = "CRM 2026-04", permissions = new[] { "*" } })).ReadJsonAsync(HttpStatusCode.Created);
        var newKeyId = rotated.GetProperty("api_key").GetProperty("id").GetInt64();
        var oldClient = crm.Client;
        crm = new Crm(server.CreateApiClient(rotated.GetProperty("api_key").GetProperty("key").GetString()!));
        var renamed = await (await crm.Client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("CRM 2026-04", renamed.GetProperty("api_key_name").GetString());
        // Its retries of what the old key sent stay with the old key (its Idempotency-Keys are the old key's), until revoked.
        var stillUnknown = await new Crm(oldClient).SendAsync("/api/v1/send-template", unknown, "order-1003");
        Assert.Equal("true", stillUnknown.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(sent["order-1003"], (await stillUnknown.ReadJsonAsync(HttpStatusCode.BadGateway)).GetProperty("message_id").GetString());
        (await admin.DeleteAsync($"/admin/v1/api-keys/{tenant.KeyId}")).EnsureSuccessStatusCode();
        Assert.Equal("API_KEY_REVOKED", await ErrorCodeAsync(await oldClient.GetAsync("/api/v1/health"), HttpStatusCode.Unauthorized));
        // Messages sent with the old key stay the business's: the new key follows them.
        Assert.Equal(HttpStatusCode.OK, (await crm.Client.GetAsync($"/api/v1/message-status/{sent["order-1001"]}")).StatusCode);

        // 23:50 in New York: the new key's daily_limit runs out, and the last message waits for the business's midnight.
        var now = server.Clock.GetUtcNow();
        var local = TimeZoneInfo.ConvertTime(now, TimeZoneInfo.FindSystemTimeZoneById(Zone));
        server.Clock.Advance(local.Date.AddHours(23).AddMinutes(50) - local.DateTime);
        await server.AdminPatchAsync($"/admin/v1/api-keys/{newKeyId}", new { daily_limit = 1 });
        var late = new { phone = Rahul, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1010", "$10" } };
        var lastOfDay = await crm.SendAsync("/api/v1/send-template", late, "order-1010");
        sent["order-1010"] = await SuccessIdAsync(lastOfDay);
        Assert.Equal("0", DayRemaining(lastOfDay));
        var nextDay = new { phone = Rahul, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1011", "$11" } };
        var full = await crm.SendAsync("/api/v1/send-template", nextDay, "order-1011");
        var fullBody = await full.ReadJsonAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal(("DAILY_LIMIT_REACHED", 1, 1, "Pro", "midnight"), (fullBody.GetProperty("error_code").GetString(),
            fullBody.GetProperty("daily_limit").GetInt32(), fullBody.GetProperty("daily_used").GetInt32(),
            fullBody.GetProperty("plan").GetString(), fullBody.GetProperty("retry_after").GetString()));
        var toMidnight = int.Parse(full.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
        Assert.Equal(600, toMidnight);
        Assert.Equal($"\"day\";r=0;t={toMidnight}", DayPart(full));
        server.Clock.Advance(TimeSpan.FromSeconds(toMidnight));
        var resumed = await crm.SendAsync("/api/v1/send-template", nextDay, "order-1011");
        sent["order-1011"] = await SuccessIdAsync(resumed);
        Assert.Equal("\"day\";r=0;t=86400", DayPart(resumed));

        // The CRM polls each message to its end: read, failed with its reason, or unknown for Meta's 5xx.
        await server.SettleStatusesAsync();
        server.Clock.Advance(TimeSpan.FromMinutes(10));
        var finals = new Dictionary<string, string>();
        foreach (var (key, id) in sent)
        {
            JsonElement status = default;
            await Poll.UntilAsync(async () =>
            {
                var answer = await crm.Client.GetAsync($"/api/v1/message-status/{id}");
                status = await answer.ReadJsonAsync(HttpStatusCode.OK);
                return status.GetProperty("api_status").GetString() != ApiStatuses.Pending;
            }, $"{key} to leave pending");
            finals[key] = status.TryGetProperty("delivery_status", out var delivery) && delivery.ValueKind == JsonValueKind.String
                ? delivery.GetString()! : status.GetProperty("api_status").GetString()!;
            if (finals[key] == "failed")
            {
                Assert.False(string.IsNullOrWhiteSpace(status.GetProperty("failure_reason").GetString()));
            }
        }

        Assert.Equal("failed", finals["order-1002"]);
        Assert.Equal("unknown", finals["order-1003"]);
        Assert.All(finals.Where(f => f.Key is not ("order-1002" or "order-1003")), f => Assert.Equal("read", f.Value));

        // Each logical message reached Meta once: no key has two messages that Meta may have.
        await server.WithDbAsync(async db =>
        {
            var mayHaveGone = await db.Messages.AsNoTracking().Where(m => m.IdempotencyKey != null && !(m.ApiStatus == ApiStatuses.Failed && m.Wamid == null))
                .Select(m => m.IdempotencyKey!).ToListAsync();
            Assert.Equal(sent.Keys.Order(StringComparer.Ordinal), mayHaveGone.Order(StringComparer.Ordinal));
        });
    }

    [Fact]
    public async Task ACrmThatTimesOutWhileItsSendIsAtMetaGetsThatSendsAnswerByRetryingNotASecondMessage()
    {
        await using var server = new FirstSendHeldAtMeta();
        server.UseKestrel(0); // a real socket: the in-memory server ends a cancelled call only once its request ends
        server.StartServer();
        var tenant = await server.CreateSendingTenantAsync();
        var crm = new Crm(tenant.Client);
        var order = new { phone = Rahul, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-2001", "$20" } };

        using (var gaveUp = new CancellationTokenSource())
        {
            var first = crm.SendAsync("/api/v1/send-template", order, "order-2001", gaveUp.Token);
            await server.UnderWayAsync();
            await gaveUp.CancelAsync(); // the CRM's timeout, while Meta has the message
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        }

        var meanwhile = await crm.SendAsync("/api/v1/send-template", order, "order-2001");
        Assert.Equal("IDEMPOTENCY_KEY_IN_USE", await ErrorCodeAsync(meanwhile, HttpStatusCode.Conflict));
        Assert.Equal("1", meanwhile.Headers.GetValues("Retry-After").Single());
        server.Release.SetResult();
        await Poll.UntilAsync(() => server.Services.GetRequiredService<TwaBot.Api.Sending.Idempotency.IdempotencyKeys>().UnderWayCount == 0,
            "the send at Meta to end");
        var retried = await crm.SendAsync("/api/v1/send-template", order, "order-2001");

        Assert.Equal("true", retried.Headers.GetValues("Idempotent-Replayed").Single());
        var messageId = await SuccessIdAsync(retried);
        Assert.Equal("4999", DayRemaining(retried));
        await server.WithDbAsync(async db => Assert.Equal(messageId, (await db.Messages.AsNoTracking().SingleAsync()).Wamid));
    }

    /// <summary>The CRM's client: every send with its Idempotency-Key.</summary>
    private sealed class Crm(HttpClient client)
    {
        public HttpClient Client { get; } = client;

        public async Task<HttpResponseMessage> SendAsync(string path, object body, string idempotencyKey, CancellationToken cancellationToken = default)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", idempotencyKey);
            return await Client.SendAsync(request, cancellationToken);
        }
    }

    private static async Task<string> SuccessIdAsync(HttpResponseMessage answer)
    {
        var json = await answer.ReadJsonAsync(HttpStatusCode.OK);
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal("queued", json.GetProperty("delivery_status").GetString());
        return json.GetProperty("message_id").GetString()!;
    }

    private static async Task<string> ErrorCodeAsync(HttpResponseMessage answer, HttpStatusCode status)
    {
        var json = await answer.ReadJsonAsync(status);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetString()));
        return json.GetProperty("error_code").GetString()!;
    }

    private static string DayPart(HttpResponseMessage answer) => DayState().Match(answer.Headers.GetValues("RateLimit").Single()).Value;

    private static string DayRemaining(HttpResponseMessage answer) => DayState().Match(answer.Headers.GetValues("RateLimit").Single()).Groups[1].Value;

    [GeneratedRegex("\"day\";r=(\\d+);t=\\d+")]
    private static partial Regex DayState();
}
