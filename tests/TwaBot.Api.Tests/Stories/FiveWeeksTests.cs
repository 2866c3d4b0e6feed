using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Messages;
using TwaBot.Api.RateLimiting;
using TwaBot.Api.Sending.Idempotency;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Stories;

/// <summary>
/// A business served for five weeks without a restart, on the test's clock, in steps of minutes, hours and days across
/// its local midnights (Africa/Cairo, whose summer time starts on 2026-04-24): after each step, what docs/operations.md
/// (Growth, Personal data, Memory, Limits) says is kept is there, what it says goes has gone, at its time and not
/// before, and nothing in memory grows with the days.
/// </summary>
public class FiveWeeksTests
{
    private const string Zone = "Africa/Cairo";
    private const int Days = 35; // past the 30 days bodies and texts are kept, and across Cairo's change to summer time
    private static readonly TimeSpan KeepBodies = TimeSpan.FromDays(30); // TwaBot:Webhooks:KeepBodiesDays's default
    private static readonly TimeSpan ParkedKept = TimeSpan.FromDays(7);  // "dropped after 7 days"
    private static readonly byte[] Dropped = []; // a body the sweep dropped

    [Fact]
    public async Task FiveWeeksKeepWhatTheDocsSayForAsLongAsTheySayAndNoLonger()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = Zone });
        var (key, keyId, client) = (tenant.Key, tenant.KeyId, tenant.Client);
        await server.AdminPatchAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = 2 });
        string phoneNumberId = "";
        await server.WithDbAsync(async db => phoneNumberId = await db.WhatsAppConnections
            .Where(w => w.BusinessId == tenant.BusinessId).Select(w => w.PhoneNumberId).SingleAsync());
        var otpNumbers = server.Services.GetRequiredService<OtpRecipientLimit>();
        var foundKeys = server.Services.GetRequiredService<ApiKeyDirectory>();
        var minuteWindows = server.Services.GetRequiredService<MinuteRateLimiter>();
        var underWay = server.Services.GetRequiredService<IdempotencyKeys>();

        for (var day = 0; day < Days; day++)
        {
            var customer = "9198765" + (15000 + day).ToString(CultureInfo.InvariantCulture);
            var idempotencyKey = $"order-of-day-{day}";
            var dayStart = server.Clock.GetUtcNow();

            if (day == 20)
            {
                // The key is revoked and replaced: the old one is refused at once, the new one has its own day.
                using var admin = server.CreateAdminClient();
                (await admin.DeleteAsync($"/admin/v1/api-keys/{keyId}")).EnsureSuccessStatusCode();
                await (await client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");
                client.Dispose();
                (key, keyId) = await server.CreateApiKeyAsync(tenant.BusinessId);
                client = server.CreateApiClient(key);
                await server.AdminPatchAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = 2 });
            }

            // The day's business: an OTP, a send with an Idempotency-Key, a customer's message, and a status report
            // for a message this server never sent (another system on the number), which is parked.
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/send-otp",
                new { phone = customer, template_name = "otp_verification" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendOrderAsync(client, customer, idempotencyKey)).StatusCode);
            await server.CustomerWritesAsync(tenant.BusinessId, customer, $"Where is my order of day {day}?");
            await server.DeliverStatusesAsync(phoneNumberId, Status($"wamid.other-system-{day}", "delivered", server.Clock.GetUtcNow()));
            await server.SettleStatusesAsync();

            // The daily cap (2) is full until the business's next midnight, to the second.
            var refused = await SendOrderAsync(client, customer, idempotencyKey: null);
            await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
            Assert.Equal(SecondsToLocalMidnight(server.Clock.GetUtcNow()).ToString(CultureInfo.InvariantCulture),
                Assert.Single(refused.Headers.GetValues("Retry-After")));

            if (day % 10 == 0)
            {
                await AnInterruptedSendIsSettledAtTenMinutesAsync(server, tenant.BusinessId);
            }

            // The rest of the day, an hour at a time: the hourly sweeps run on their own.
            while (server.Clock.GetUtcNow() + TimeSpan.FromHours(1) <= dayStart + TimeSpan.FromHours(23))
            {
                server.Clock.Advance(TimeSpan.FromHours(1));
            }

            server.Clock.SetUtcNow(dayStart + TimeSpan.FromHours(23));

            // 23 hours on, the retry is still answered from the kept answer; an hour later the answer is gone.
            var retry = await SendOrderAsync(client, customer, idempotencyKey);
            Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
            server.Clock.Advance(TimeSpan.FromHours(1));
            await server.ApplyWebhooksAsync(); // a processor pass (every 5 s in production) expires parked statuses

            var now = server.Clock.GetUtcNow().UtcDateTime;
            await Poll.UntilAsync(async () => await WhatTheDocsSayIsGoneIsGoneAsync(server, now), $"day {day}'s sweeps");
            await server.WithDbAsync(async db =>
            {
                // Not early: what is younger than its time is all still there.
                Assert.Equal(Math.Min(day + 1, 30), await db.InboundMessages.CountAsync(m => m.Text != null));
                Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt >= now - KeepBodies && e.Body == Dropped));
                Assert.Equal(Math.Min(day + 1, 7), await db.ParkedStatuses.CountAsync());
            });

            // Memory: nothing grows with the days.
            Assert.Equal(0, otpNumbers.Count);
            Assert.InRange(foundKeys.Count, 0, 2);
            Assert.InRange(minuteWindows.TrackedKeys, 0, 2);
            Assert.Equal(0, underWay.UnderWayCount);
        }

        client.Dispose();
    }

    /// <summary>
    /// What the hourly sweeps and the processor drop: answers 24 hours old, bodies applied and texts sent over
    /// KeepBodiesDays ago, parked statuses over 7 days old, and the OTP numbers (none sent in the last 24 hours).
    /// </summary>
    private static async Task<bool> WhatTheDocsSayIsGoneIsGoneAsync(TwaBotApiFactory server, DateTime now)
    {
        var gone = server.Services.GetRequiredService<OtpRecipientLimit>().Count == 0;
        await server.WithDbAsync(async db => gone = gone
            && !await db.IdempotentAnswers.AnyAsync(a => a.CreatedAt <= now - IdempotencyKeys.KeptFor)
            && !await db.WebhookEvents.AnyAsync(e => e.AppliedAt < now - KeepBodies && e.Body != Dropped)
            && !await db.InboundMessages.AnyAsync(m => m.SentAt < now - KeepBodies && m.Text != null)
            && !await db.ParkedStatuses.AnyAsync(p => p.ReceivedAt < now - ParkedKept));
        return gone;
    }

    /// <summary>A send left pending (the server stopped mid-send) stays so for 10 minutes, then the minute's sweep marks it unknown.</summary>
    private static async Task AnInterruptedSendIsSettledAtTenMinutesAsync(TwaBotApiFactory server, long businessId)
    {
        var id = await server.InsertMessageAsync(businessId, wamid: null, madeNow: true);
        for (var minute = 1; minute <= 10; minute++)
        {
            server.Clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Equal(ApiStatuses.Pending, (await server.MessageAsync(id)).ApiStatus);
        }

        server.Clock.Advance(TimeSpan.FromMinutes(1));
        await Poll.UntilAsync(async () => (await server.MessageAsync(id)).ApiStatus == ApiStatuses.Unknown, "the minute's sweep to settle the send");
    }

    private static async Task<HttpResponseMessage> SendOrderAsync(HttpClient client, string phone, string? idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
        {
            Content = JsonContent.Create(new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } }),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    /// <summary>Whole seconds (rounded up) until the business's local date changes, found by bisection on the zone's rules.</summary>
    private static int SecondsToLocalMidnight(DateTimeOffset now)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(Zone);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        long low = 0, high = 2 * 24 * 3600; // seconds: still today at low, tomorrow at high
        while (high - low > 1)
        {
            var middle = (low + high) / 2;
            if (DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now.AddSeconds(middle), zone).DateTime) == today)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return (int)high;
    }
}
