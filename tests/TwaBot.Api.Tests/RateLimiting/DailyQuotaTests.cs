using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Messages;
using TwaBot.Api.RateLimiting;
using TwaBot.Api.Sending;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary>The daily send cap per key, through HTTP: exact, refunded, durable, reset at the business's midnight.</summary>
public class DailyQuotaTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Good = "919876543210";

    [Fact]
    public async Task TwoHundredParallelSendsOnAGrowthCapOf150AcceptExactly150()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Growth");

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            // Last four digits 5000–5199: clear of the sandbox's magic numbers.
            SendAsync(tenant, "9198765" + (15000 + i).ToString(CultureInfo.InvariantCulture))));

        Assert.Equal(150, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(50, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        await factory.WithDbAsync(async db => Assert.Equal(150, await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId)));
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        var json = await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal("Daily send limit reached (150/day on Growth plan). Resets at midnight. Upgrade to Pro for higher limits.",
            json.GetProperty("error").GetString());
        Assert.Equal(150, json.GetProperty("daily_limit").GetInt32());
        Assert.Equal(150, json.GetProperty("daily_used").GetInt32());
        Assert.Equal("Growth", json.GetProperty("plan").GetString());
        Assert.Equal("midnight", json.GetProperty("retry_after").GetString());
        // 10:30:45 UTC is 16:00:45 in Kolkata: 7 h 59 min 15 s to its midnight.
        Assert.Equal("28755", Assert.Single(refused.Headers.GetValues("Retry-After")));
    }

    [Fact]
    public async Task SendsThatAreRefusedDoNotCount()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await SetDailyLimitAsync(tenant.KeyId, 2);

        // Refused after the reservation: by validation and by Meta (0047).
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = Good, template_name = "order_confirmation", body_params = new[] { "only one" } }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        await (await SendAsync(tenant, "919876540047")).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        var full = await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, full.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task ABurstWithSendsMetaRefusesCountsOnlyTheAcceptedOnesAndTheCapIsThenFilledExactly()
    {
        // 40 sends at once on a cap of 10, 15 of them refused by Meta (0047): a refused send holds its unit only until
        // Meta's answer, so the burst accepts at most 10, and the day then takes exactly the rest, never one more.
        var tenant = await factory.CreateSendingTenantAsync();
        await SetDailyLimitAsync(tenant.KeyId, 10);

        var burst = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => SendAsync(tenant,
            i % 8 < 3 ? "919876540047" : "9198765" + (15000 + i).ToString(CultureInfo.InvariantCulture))));
        var after = new List<HttpResponseMessage>();
        do
        {
            after.Add(await SendAsync(tenant, Good));
        }
        while (after[^1].StatusCode == HttpStatusCode.OK && after.Count <= 10);

        var inBurst = burst.Count(r => r.StatusCode == HttpStatusCode.OK);
        Assert.InRange(inBurst, 1, 10);
        Assert.All(burst, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests }));
        Assert.Equal(10, inBurst + after.Count(r => r.StatusCode == HttpStatusCode.OK));
        var full = await after[^1].AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(10, full.GetProperty("daily_used").GetInt32());
        await factory.WithDbAsync(async db => Assert.Equal(
            10, await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId && m.ApiStatus != ApiStatuses.Failed)));
    }

    [Fact]
    public async Task ASendWhoseOutcomeIsUnknownKeepsItsUnit()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await SetDailyLimitAsync(tenant.KeyId, 2);

        // Meta's HTTP 500 (0500) may come after it took the message, which then counts like a sent one.
        await (await SendAsync(tenant, "919876540500")).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);

        var full = await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, full.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task ASendWhoseRowCannotBeWrittenGivesItsUnitBack()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 1);
        // The disk refuses this one recipient's row, as a full disk would.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER refuse_row BEFORE INSERT ON messages WHEN NEW."to" = '919800000001'
            BEGIN SELECT RAISE(ABORT, 'disk full'); END
            """));

        await (await SendAsync(tenant, "919800000001")).AssertErrorAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
    }

    [Fact]
    public async Task TheCapIsCheckedAfterPermissionAndBeforeValidation()
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["send_text"]);
        await SetDailyLimitAsync(tenant.KeyId, 1);
        await factory.CustomerWritesAsync(tenant.BusinessId, Good);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Good, message = "Hi" })).StatusCode);

        // No permission beats a full cap; a full cap beats a bad body.
        await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "12", message = "" }))
            .AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
    }

    [Theory] // the API docs' "Endpoint Access by Plan": every send endpoint counts against the day's cap
    [InlineData("GET", "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-12345,x", null)]
    [InlineData("GET", "/api/v1/quick-send?phone=919876543210&message=Shipped", null)]
    [InlineData("POST", "/api/v1/send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"]}""")]
    [InlineData("POST", "/api/v1/send-text", """{"phone":"919876543210","message":"Hi"}""")]
    [InlineData("POST", "/api/v1/send-media", """{"phone":"919876543210","media_type":"image","media_url":"https://example.com/a.jpg"}""")]
    [InlineData("POST", "/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification"}""")]
    public async Task EverySendEndpointTakesFromTheDailyCapAndAnswersTheDocsBodyOverIt(string method, string path, string? body)
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Growth");
        await SetDailyLimitAsync(tenant.KeyId, 1);
        await factory.CustomerWritesAsync(tenant.BusinessId, Good);
        Task<HttpResponseMessage> Send() => method == "GET"
            ? tenant.Client.GetAsync(path)
            : tenant.Client.PostAsync(path, new StringContent(body!, System.Text.Encoding.UTF8, "application/json"));

        var first = await Send();
        var second = await Send();

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var json = await second.ReadJsonAsync(HttpStatusCode.TooManyRequests);
        var expected = System.Text.Json.JsonDocument.Parse("""
            {
              "success": false,
              "error": "Daily send limit reached (1/day on Growth plan). Resets at midnight. Upgrade to Pro for higher limits.",
              "error_code": "DAILY_LIMIT_REACHED",
              "daily_limit": 1,
              "daily_used": 1,
              "plan": "Growth",
              "retry_after": "midnight"
            }
            """).RootElement;
        Assert.True(System.Text.Json.JsonElement.DeepEquals(expected, json), json.ToString());
    }

    [Theory] // Pro's cap as PRODUCT §2 writes it: "5000/day" would read as a different number format from the docs' "150/day"
    [InlineData(150, "Growth", "Daily send limit reached (150/day on Growth plan). Resets at midnight. Upgrade to Pro for higher limits.")]
    [InlineData(5000, "Pro", "Daily send limit reached (5,000/day on Pro plan). Resets at midnight.")]
    public void ACapOfThousandsIsWrittenWithItsThousandsGrouped(int limit, string plan, string error) =>
        Assert.Equal(error, ApiErrors.DailyLimitReached(limit, limit, plan, 60).Body.Error);

    [Fact]
    public async Task AnAdminOverrideTakesEffectAtOnce()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Growth");
        await SetDailyLimitAsync(tenant.KeyId, 1);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        var full = await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal("Daily send limit reached (1/day on Growth plan). Resets at midnight. Upgrade to Pro for higher limits.",
            full.GetProperty("error").GetString());

        await SetDailyLimitAsync(tenant.KeyId, 2);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
    }

    [Fact]
    public async Task ACapLoweredBelowTodaysUseAnswersTheNewCapAndTheUseApart()
    {
        // Only here do the two differ: an answer that mixed them up would still read right at an ordinary full cap.
        var tenant = await factory.CreateSendingTenantAsync(plan: "Growth");
        await SetDailyLimitAsync(tenant.KeyId, 3);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        }

        await SetDailyLimitAsync(tenant.KeyId, 1);

        var full = await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal((1, 3), (full.GetProperty("daily_limit").GetInt32(), full.GetProperty("daily_used").GetInt32()));
        Assert.StartsWith("Daily send limit reached (1/day on Growth plan).", full.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCountSurvivesARestart()
    {
        var (databasePath, tenant) = await CappedAtTwoBeforeARestartAsync(async (_, sender) =>
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(sender, Good)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(sender, Good)).StatusCode);
        });

        await using var second = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath);
        using var client = second.CreateApiClient(tenant.Key);

        var response = await client.PostAsJsonAsync("/api/v1/send-template", TemplateBody(Good));

        var json = await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, json.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task AnInterruptedSendIsSettledAndStillCounts()
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        SendingTenant tenant;
        DateTimeOffset now;
        await using (var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            tenant = await server.CreateSendingTenantAsync();
            await SetDailyLimitAsync(server, tenant.KeyId, 2);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
            // As if the process had died after writing a send's row and before Meta answered.
            await server.WithDbAsync(async db =>
            {
                var day = (await db.Messages.FirstAsync(m => m.ApiKeyId == tenant.KeyId)).QuotaDay;
                db.Messages.Add(new Message
                {
                    Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template,
                    ApiStatus = ApiStatuses.Pending, QuotaDay = day, CreatedAt = server.Clock.GetUtcNow().UtcDateTime,
                });
                await db.SaveChangesAsync();
            });
            server.Clock.Advance(InterruptedSendSweeper.SettleAfter + TimeSpan.FromSeconds(1));

            // The background sweep may already have run on the clock's tick; a second sweep finds nothing new.
            await server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None);

            await server.WithDbAsync(async db =>
                Assert.Equal(1, await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId && m.ApiStatus == ApiStatuses.Unknown)));
            now = server.Clock.GetUtcNow();
        }

        await using var restarted = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path);
        restarted.Clock.SetUtcNow(now);
        using var client = restarted.CreateApiClient(tenant.Key);
        var json = await (await client.PostAsJsonAsync("/api/v1/send-template", TemplateBody(Good)))
            .AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, json.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task ASendWhoseBodyCannotBeReadGivesItsUnitBack()
    {
        // A chunked body over 64 KB fails while it is read, after the unit was reserved: the exception used to
        // skip the refund, so a client's oversized or broken-off sends used up its cap without sending anything.
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0); // the in-memory server enforces no body limit on a chunked body
        server.StartServer();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 3);

        for (var i = 0; i < 2; i++)
        {
            var huge = "{\"phone\":\"919876543210\",\"template_name\":\"order_confirmation\",\"body_params\":[\"" + new string('x', 70_000) + "\"]}";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
            {
                Content = new StringContent(huge, System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.TransferEncodingChunked = true; // no length up front: the limit strikes while the body is read
            await (await tenant.Client.SendAsync(request)).AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
        }

        var health = await tenant.Client.GetAsync("/api/v1/health");

        Assert.Contains("\"day\";r=3;", Assert.Single(health.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherBusinesssTimeZoneChangeLeavesThisKeysCountAlone()
    {
        // A zone change dropped every key's counter; units held by this key's sends in flight (reserved, row
        // not written yet) were then missing from its count loaded again, and the key could go over its cap.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var other = await server.CreateBusinessAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        var quota = server.Services.GetRequiredService<DailyQuota>();
        var caller = new ApiCaller(
            tenant.KeyId, "key", tenant.BusinessId, "Acme", Plan.Pro, "Asia/Kolkata", [], null, 2, null, null);
        var inFlight = await quota.TryReserveAsync(caller, CancellationToken.None); // reserved; its row is not written yet

        await server.AdminPatchAsync($"/admin/v1/businesses/{other}", new { time_zone = "America/New_York" });
        var second = await quota.TryReserveAsync(caller, CancellationToken.None);
        var third = await quota.TryReserveAsync(caller, CancellationToken.None);

        Assert.True(inFlight.Allowed);
        Assert.True(second.Allowed);
        Assert.False(third.Allowed); // the in-flight unit still counts
    }

    [Fact]
    public async Task ASendMetaAnsweredWithAnUnknownOutcomeIsSettledByTheSweepOnceItsTimeHasPassed()
    {
        // The sweep leaves alone only sends still waiting for Meta; one that had its answer (a 500) is no longer among them.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusWebhooks"] = "false" });
        var tenant = await server.CreateSendingTenantAsync();
        await (await SendAsync(tenant, "919876540500")).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");

        server.Clock.Advance(InterruptedSendSweeper.SettleAfter + TimeSpan.FromSeconds(1));
        // The advance may start the periodic sweep too; whichever settles it, the row is settled once this one returns.
        await server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None);

        await server.WithDbAsync(async db =>
            Assert.Equal(ApiStatuses.Unknown, (await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId)).ApiStatus));
    }

    [Fact]
    public async Task TheSweepStampsASettledSendWithTheTimeItSettledIt()
    {
        // updated_at is what an operator reading the table goes by to tell when a send turned unknown.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var sentAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter * 2;
        await server.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message
            {
                Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template, ApiStatus = ApiStatuses.Pending,
                QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = sentAt, UpdatedAt = sentAt,
            });
            await db.SaveChangesAsync();
        });

        await server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None);

        await server.WithDbAsync(async db =>
        {
            var message = await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId);
            Assert.Equal((ApiStatuses.Unknown, server.Clock.GetUtcNow().UtcDateTime), (message.ApiStatus, message.UpdatedAt));
        });
    }

    [Fact]
    public async Task TheSweepTellsTheOperatorHowManySendsItMarkedUnknown()
    {
        // Each still counts against its key's cap: without the warning, a day's cap running out early has no explanation.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var sentAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter * 2;
        await server.WithDbAsync(async db =>
        {
            for (var i = 0; i < 2; i++)
            {
                db.Messages.Add(new Message
                {
                    Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template, ApiStatus = ApiStatuses.Pending,
                    QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = sentAt, UpdatedAt = sentAt,
                });
            }

            await db.SaveChangesAsync();
        });

        Assert.Equal(2, await server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None));

        Assert.Contains(server.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Warning
            && e.RenderMessage(CultureInfo.InvariantCulture) == "2 interrupted send(s) marked unknown; they still count against their key's daily cap");
    }

    [Fact]
    public async Task TheSweepKeepsAReasonAlreadyStored()
    {
        // "Meta answered HTTP 503" says more than "interrupted before Meta answered", which would be false.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message
            {
                Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template, ApiStatus = ApiStatuses.Pending,
                FailureReason = "Meta answered HTTP 503. The message may still be delivered (its status webhook will tell).",
                QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter * 2,
            });
            await db.SaveChangesAsync();
        });

        await server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None);

        await server.WithDbAsync(async db =>
        {
            var message = await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId);
            Assert.Equal((ApiStatuses.Unknown, "Meta answered HTTP 503. The message may still be delivered (its status webhook will tell)."),
                (message.ApiStatus, message.FailureReason));
        });
    }

    [Fact]
    public async Task TheSweepOfInterruptedSendsRunsEveryMinuteOnItsOwn()
    {
        // Nobody calls the sweep: a send left pending past its settle time turns unknown at the next minute's run,
        // not an hour later (a client reading message-status would see "pending" all that while).
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var sweeper = server.Services.GetRequiredService<InterruptedSendSweeper>();
        await sweeper.FirstRun.WaitAsync(Poll.Limit); // the run at start is over: only a tick can settle the row below
        await server.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message
            {
                Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template, ApiStatus = ApiStatuses.Pending,
                QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter * 2,
            });
            await db.SaveChangesAsync();
        });

        server.Clock.Advance(TimeSpan.FromMinutes(1));

        await Poll.UntilAsync(async () =>
        {
            var status = "";
            await server.WithDbAsync(async db => status = (await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId)).ApiStatus);
            return status == ApiStatuses.Unknown;
        }, "the sweep's run a minute later");
    }

    [Theory]
    [InlineData(60)]
    [InlineData(0)] // settled once it is older than that, not at it
    public async Task TheSweepLeavesASendPendingForNoLongerThanItsSettleTime(int secondsShort)
    {
        // Its answer may still come from Meta: marked unknown now, a caller would read "may have been delivered" too soon.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message
            {
                Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template, ApiStatus = ApiStatuses.Pending,
                QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter + TimeSpan.FromSeconds(secondsShort),
            });
            await db.SaveChangesAsync();
        });

        var settled = await server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None);

        Assert.Equal(0, settled);
        await server.WithDbAsync(async db =>
            Assert.Equal(ApiStatuses.Pending, (await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId)).ApiStatus));
    }

    [Fact]
    public async Task TheSweepOfInterruptedSendsWaitsItsTurnAtTheWriteGate()
    {
        // Outside the gate it waited in SQLite's busy loop behind a webhook backlog being applied, and a stop
        // waited for it.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message
            {
                Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template,
                ApiStatus = ApiStatuses.Pending, QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter * 2,
            });
            await db.SaveChangesAsync();
        });
        var gate = server.Services.GetRequiredService<TwaBot.Api.Data.SqliteWriteGate>();

        Task<int> sweep;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            sweep = server.Services.GetRequiredService<InterruptedSendSweeper>().SweepAsync(CancellationToken.None);
            await Task.Delay(300); // time enough to sweep, were it not waiting for the gate
            Assert.False(sweep.IsCompleted);
        }

        // The background sweep at start may have settled the row first (it queues at the gate the same way).
        await sweep.WaitAsync(TimeSpan.FromSeconds(10));
        await server.WithDbAsync(async db =>
            Assert.Equal(ApiStatuses.Unknown, (await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId)).ApiStatus));
    }

    [Fact]
    public async Task ASweepWithNothingToSettleLeavesAnotherProcessesLockAlone()
    {
        // Nearly every minute's sweep finds nothing: taking the write lock anyway, it failed each time another program
        // held the database, and held the write gate the sends queue behind while it waited.
        await using var server = new TwaBotApiFactory();
        var sweeper = server.Services.GetRequiredService<InterruptedSendSweeper>();
        await sweeper.FirstRun.WaitAsync(Poll.Limit);
        await using var held = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        // On a thread of its own, bounded: SQLite's busy wait blocks the calling thread.
        var settled = await Task.Run(() => sweeper.SweepAsync(CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(0, settled);
    }

    [Fact]
    public async Task ASweepWithSendsToSettleGivesUpOnAnotherProcessesLockWithinSecondsAndSettlesThemOnceItIsGone()
    {
        // It waited SQLite's whole busy timeout (30 s) behind a sqlite3 shell's lock holding the write gate, and every
        // send queued behind the gate before its own wait for the lock even began.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var sweeper = server.Services.GetRequiredService<InterruptedSendSweeper>();
        await sweeper.FirstRun.WaitAsync(Poll.Limit); // the sweep at start is not the one that settles the row below
        await server.WithDbAsync(async db =>
        {
            db.Messages.Add(new Message
            {
                Reference = MessageReferences.New(), BusinessId = tenant.BusinessId, ApiKeyId = tenant.KeyId, To = Good, Kind = MessageKinds.Template,
                ApiStatus = ApiStatuses.Pending, QuotaDay = new DateOnly(2026, 4, 14), CreatedAt = server.Clock.GetUtcNow().UtcDateTime - InterruptedSendSweeper.SettleAfter * 2,
            });
            await db.SaveChangesAsync();
        });
        await using var held = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        // Well under the 30 s busy timeout, with room for a loaded machine. On a thread of its own: SQLite's busy wait
        // blocks the calling thread, so the sweep's task would only be handed back once the wait was over.
        var refused = await Record.ExceptionAsync(() => Task.Run(() => sweeper.SweepAsync(CancellationToken.None)).WaitAsync(TimeSpan.FromSeconds(20)));
        await held.ReleaseAsync();

        var settled = await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal(5, Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(refused).SqliteErrorCode); // SQLITE_BUSY, tried again next minute
        Assert.Equal(1, settled);
    }

    [Fact]
    public async Task EachBusinessResetsAtItsOwnMidnight()
    {
        await using var server = new TwaBotApiFactory();
        var kolkata = await server.CreateSendingTenantAsync();
        var newYork = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{newYork.BusinessId}", new { time_zone = "America/New_York" });
        await SetDailyLimitAsync(server, kolkata.KeyId, 1);
        await SetDailyLimitAsync(server, newYork.KeyId, 1);
        // 23:59:59 in Kolkata (UTC+5:30) is 14:29:59 in New York (UTC-4 in April).
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 14, 18, 29, 59, TimeSpan.Zero));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(kolkata, Good)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(newYork, Good)).StatusCode);
        var full = await SendAsync(kolkata, Good);
        await full.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal("1", Assert.Single(full.Headers.GetValues("Retry-After")));

        server.Clock.Advance(TimeSpan.FromSeconds(1)); // midnight in Kolkata

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(kolkata, Good)).StatusCode);
        var stillFull = await SendAsync(newYork, Good);
        await stillFull.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(((int)TimeSpan.FromHours(9.5).TotalSeconds).ToString(CultureInfo.InvariantCulture),
            Assert.Single(stillFull.Headers.GetValues("Retry-After")));

        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 15, 4, 0, 0, TimeSpan.Zero)); // midnight in New York

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(newYork, Good)).StatusCode);
    }

    [Theory]
    // Santiago falls back from midnight to 23:00 (3 April 2027): at the first 23:59:59 an hour and a second are left, and the
    // refusal holds through the hour that comes again.
    [InlineData("America/Santiago", "2027-04-04T02:59:59Z", 3601, 90_000, 86_400)]
    // and springs forward over midnight (6 September 2026 begins at 01:00): a second is left, the new day has 23 hours.
    [InlineData("America/Santiago", "2026-09-06T03:59:59Z", 1, 86_400, 82_800)]
    [InlineData("Asia/Beirut", "2027-03-27T21:59:59Z", 1, 86_400, 82_800)]
    // Beirut and Nuuk fall back from midnight to 23:00 (24 October 2026).
    [InlineData("Asia/Beirut", "2026-10-24T20:59:59Z", 3601, 90_000, 86_400)]
    [InlineData("America/Nuuk", "2026-10-25T00:59:59Z", 3601, 90_000, 86_400)]
    // Nuuk springs forward from 23:00 to midnight (27 March 2027): at 22:59:59 a second is left, not an hour.
    [InlineData("America/Nuuk", "2027-03-28T00:59:59Z", 1, 82_800, 86_400)]
    // Havana falls back from 01:00 to midnight (1 November 2026): the day ends at the first midnight, the next has 25 hours.
    [InlineData("America/Havana", "2026-11-01T03:59:59Z", 1, 86_400, 90_000)]
    // Clock changes at midnight that .NET misplaces by an hour reading a local time: Amman sprang forward from midnight to
    // 01:00 (26 March 2021), Asuncion too (6 October 2024). Half an hour before, half an hour and a second are left, not 1.
    [InlineData("Asia/Amman", "2021-03-25T21:29:59Z", 1801, 86_400, 82_800)]
    [InlineData("America/Asuncion", "2024-10-06T03:29:59Z", 1801, 86_400, 82_800)]
    public async Task AFullDayIsRefusedUntilItsRealMidnightAcrossAClockChange(
        string timeZone, string lastSend, int secondsLeft, int dayLength, int nextDayLength)
    {
        // The server's clock is set to the instant, back or forward (the fake clock only goes forward), before the server
        // starts: moved after, the fake clock would run its minute jobs through every month between.
        await using var server = new SteppedClockApiFactory(new Dictionary<string, string?>());
        server.Step = DateTimeOffset.Parse(lastSend, CultureInfo.InvariantCulture) - server.Clock.GetUtcNow();
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = timeZone });
        await SetDailyLimitAsync(server, tenant.KeyId, 1);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);

        var full = await SendAsync(tenant, Good);
        var json = await full.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal("midnight", json.GetProperty("retry_after").GetString());
        Assert.Equal(secondsLeft.ToString(CultureInfo.InvariantCulture), Assert.Single(full.Headers.GetValues("Retry-After")));
        Assert.EndsWith($"\"day\";q=1;w={dayLength}", Assert.Single(full.Headers.GetValues("RateLimit-Policy")), StringComparison.Ordinal);
        Assert.EndsWith($"\"day\";r=0;t={secondsLeft}", Assert.Single(full.Headers.GetValues("RateLimit")), StringComparison.Ordinal);

        server.Clock.Advance(TimeSpan.FromSeconds(secondsLeft - 1));
        var lastSecond = await SendAsync(tenant, Good);
        await lastSecond.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal("1", Assert.Single(lastSecond.Headers.GetValues("Retry-After")));

        server.Clock.Advance(TimeSpan.FromSeconds(1)); // midnight, or the first moment of the new date
        var newDay = await SendAsync(tenant, Good);
        Assert.Equal(HttpStatusCode.OK, newDay.StatusCode);
        Assert.EndsWith($"\"day\";q=1;w={nextDayLength}", Assert.Single(newDay.Headers.GetValues("RateLimit-Policy")), StringComparison.Ordinal);
        Assert.EndsWith($"\"day\";r=0;t={nextDayLength}", Assert.Single(newDay.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AZoneChangeRetagsMoreSendsOfADayThanOneSqlStatementCanBind()
    {
        // SQLite binds at most 32,766 parameters in a statement; a busy key sends more than that in a day.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        const int Sends = 33_000;
        // One every 0.9 s from 19:00 UTC on 13 April: the 14th in Kolkata, the 13th in New York.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {2})
            INSERT INTO messages (business_id, api_key_id, reference, "to", kind, api_status, status_rank, quota_day, created_at, updated_at)
            SELECT {0}, {1}, 'twb:bulk' || i, '919876543210', 'template', 'success', 0, '2026-04-14', at, at
            FROM (SELECT i, strftime('%Y-%m-%d %H:%M:%f', '2026-04-13 19:00:00', '+' || (i * 9 / 10) || ' seconds') AS at FROM n)
            """, tenant.BusinessId, tenant.KeyId, Sends));

        using var admin = server.CreateAdminClient();
        var changed = await admin.PatchAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "America/New_York" });

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        await server.WithDbAsync(async db =>
            Assert.Equal(Sends, await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId && m.QuotaDay == new DateOnly(2026, 4, 13))));
    }

    [Fact]
    public async Task ChangingTheBusinessesTimeZoneMidDayKeepsTheDaysSendsCounted()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync(plan: "Growth");
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        // 20:52 UTC on 14 April: already the 15th in Kolkata, still the 14th in New York.
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 14, 20, 52, 0, TimeSpan.Zero));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);

        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "America/New_York" });
        var afterTheChange = await SendAsync(tenant, Good);

        // Both sends fall on New York's 14 April too: the cap is still used up.
        var json = await afterTheChange.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, json.GetProperty("daily_used").GetInt32());
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 15, 4, 0, 0, TimeSpan.Zero)); // New York's midnight
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
    }


    public static TheoryData<string, string, DateTimeOffset[], DateTimeOffset> ZoneChangesThatMoveEarlierSendsOntoToday => new()
    {
        // New York's 15 April began at 04:00 UTC, Kolkata's at 18:30 UTC on the 14th: the send at 20:00 UTC on the
        // 14th was New York's 14th and is Kolkata's 15th, and its row (tagged before today's UTC date) is tagged again.
        {
            "America/New_York", "Asia/Kolkata",
            [new(2026, 4, 14, 20, 0, 0, TimeSpan.Zero), new(2026, 4, 15, 4, 30, 0, TimeSpan.Zero)],
            new(2026, 4, 15, 4, 30, 0, TimeSpan.Zero)
        },
        // Pago Pago is UTC-11, Kiritimati UTC+14: 10:30 UTC on the 15th is Pago Pago's 14th and Kiritimati's 16th,
        // which at 05:00 UTC on the 16th is Kiritimati's today: a tag two days before the UTC date.
        {
            "Pacific/Pago_Pago", "Pacific/Kiritimati",
            [new(2026, 4, 15, 10, 30, 0, TimeSpan.Zero)],
            new(2026, 4, 16, 5, 0, 0, TimeSpan.Zero)
        },
    };

    [Theory]
    [MemberData(nameof(ZoneChangesThatMoveEarlierSendsOntoToday))]
    public async Task AZoneChangeCountsEarlierSendsThatFallOnTheNewToday(string from, string to, DateTimeOffset[] sends, DateTimeOffset change)
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = from });
        await SetDailyLimitAsync(server, tenant.KeyId, sends.Length);
        foreach (var at in sends)
        {
            server.Clock.SetUtcNow(at);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        }

        server.Clock.SetUtcNow(change);
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = to });
        var afterTheChange = await SendAsync(tenant, Good);

        var json = await afterTheChange.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(sends.Length, json.GetProperty("daily_used").GetInt32());
    }

    public static TheoryData<string, string, DateOnly, DateTimeOffset, DateTimeOffset> NewZonesDaysAndTheirUtcBounds => new()
    {
        // New York's 14 March 2027 has 23 hours (05:00 to 04:00 UTC), its 1 November 2026 25 (04:00 to 05:00 UTC).
        { "Asia/Kolkata", "America/New_York", new(2027, 3, 14), new(2027, 3, 14, 5, 0, 0, TimeSpan.Zero), new(2027, 3, 15, 4, 0, 0, TimeSpan.Zero) },
        { "Asia/Kolkata", "America/New_York", new(2026, 11, 1), new(2026, 11, 1, 4, 0, 0, TimeSpan.Zero), new(2026, 11, 2, 5, 0, 0, TimeSpan.Zero) },
        // Half and three-quarter hour zones: Kolkata's 15 April begins at 18:30 UTC, Kathmandu's at 18:15.
        { "America/New_York", "Asia/Kolkata", new(2026, 4, 15), new(2026, 4, 14, 18, 30, 0, TimeSpan.Zero), new(2026, 4, 15, 18, 30, 0, TimeSpan.Zero) },
        { "Europe/London", "Asia/Kathmandu", new(2026, 4, 15), new(2026, 4, 14, 18, 15, 0, TimeSpan.Zero), new(2026, 4, 15, 18, 15, 0, TimeSpan.Zero) },
        // Havana springs forward over its midnight (14 March 2027 begins at 01:00) and falls back to it (1 November
        // begins at the first of its two midnights).
        { "Asia/Kolkata", "America/Havana", new(2027, 3, 14), new(2027, 3, 14, 5, 0, 0, TimeSpan.Zero), new(2027, 3, 15, 4, 0, 0, TimeSpan.Zero) },
        { "Asia/Kolkata", "America/Havana", new(2026, 11, 1), new(2026, 11, 1, 4, 0, 0, TimeSpan.Zero), new(2026, 11, 2, 5, 0, 0, TimeSpan.Zero) },
    };

    [Theory]
    [MemberData(nameof(NewZonesDaysAndTheirUtcBounds))]
    public async Task AZoneChangeTagsEachSendWithTheNewZonesDayFromItsFirstInstantToTheNextDays(
        string from, string to, DateOnly day, DateTimeOffset start, DateTimeOffset end)
    {
        // The sends are tagged again by comparing their stored created_at text with each day's UTC bounds: a
        // different format or precision, or a bound counted in the wrong day, would put a send in the wrong day.
        await using var server = new TwaBotApiFactory();
        if (start.AddTicks(-1) > server.Clock.GetUtcNow())
        {
            // Moved to the first send before the server starts: moved later, the fake clock would run its periodic jobs
            // once for every minute skipped (tens of seconds for months, about half a second for a day).
            server.Clock.SetUtcNow(start.AddTicks(-1));
        }

        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = from });
        await SetDailyLimitAsync(server, tenant.KeyId, 10);
        foreach (var at in new[] { start.AddTicks(-1), start, end.AddTicks(-1), end })
        {
            server.Clock.SetUtcNow(at);
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        }

        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = to });
        var health = await tenant.Client.GetAsync("/api/v1/health");

        Assert.Contains("\"day\";r=9;", Assert.Single(health.Headers.GetValues("RateLimit")), StringComparison.Ordinal); // the send at the end: today
        await server.WithDbAsync(async db => Assert.Equal(
            [day.AddDays(-1), day, day, day.AddDays(1)],
            await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId).OrderBy(m => m.Id).Select(m => m.QuotaDay).ToListAsync()));
    }

    [Theory]
    [InlineData("Europe/London", "2026-04-15")]
    [InlineData("Pacific/Pago_Pago", "2026-04-14")] // UTC-11: made at 23:00 on the 14th there
    public async Task AZoneChangeTagsAgainASendOfTheOldestDayItLooksAtMadeBeforeThatDayBeganInUtc(string newZone, string day)
    {
        // The tags looked at go back to the UTC date two days before now (the 16th here); Kiritimati (UTC+14) began its 16th
        // 14 hours before UTC did, and a send made then falls on an earlier day in the new zone.
        await using var server = new SteppedClockApiFactory(new Dictionary<string, string?>());
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 15, 10, 0, 0, TimeSpan.Zero)); // Kiritimati's 16th begins
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Pacific/Kiritimati" });
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);

        server.Step = TimeSpan.FromDays(3); // the 18th in UTC: tags from the 16th are looked at
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = newZone });

        await server.WithDbAsync(async db => Assert.Equal(
            DateOnly.Parse(day, CultureInfo.InvariantCulture), await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId).Select(m => m.QuotaDay).SingleAsync()));
    }

    [Fact]
    public async Task AZoneChangeAfterTheClockSteppedBackTagsALaterSendWithItsOwnDayNotToday()
    {
        // A send made before the clock stepped back may fall after the new zone's today: it is tagged with its own day
        // there (tomorrow), not left with the old zone's date, which here is the new zone's today and would fill it.
        await using var server = new SteppedClockApiFactory(new Dictionary<string, string?>());
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 15, 20, 0, 0, TimeSpan.Zero)); // New York's 15th, Kolkata's 16th (01:30)
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "America/New_York" });
        await SetDailyLimitAsync(server, tenant.KeyId, 1);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);

        server.Step = -TimeSpan.FromHours(10); // 10:00 UTC: Kolkata's 15th (15:30)
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Asia/Kolkata" });
        var today = await SendAsync(tenant, Good);

        Assert.Equal(HttpStatusCode.OK, today.StatusCode);
        await server.WithDbAsync(async db => Assert.Equal(
            [new DateOnly(2026, 4, 16), new DateOnly(2026, 4, 15)],
            await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId).OrderBy(m => m.Id).Select(m => m.QuotaDay).ToListAsync()));
    }

    [Fact]
    public async Task AUnitTakenBeforeTheBusinesssOwnZoneChangeStaysHeldUntilItIsGivenBack()
    {
        // The in-flight unit is in no row yet: the count after the change still holds it, and Meta's refusal then frees
        // it there (it was neither dropped by the change nor kept after the refusal).
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode); // counted by its row
        var quota = server.Services.GetRequiredService<DailyQuota>();
        var caller = new ApiCaller(
            tenant.KeyId, "key", tenant.BusinessId, "Acme", Plan.Pro, "Asia/Kolkata", [], null, 2, null, null);
        var inFlight = await quota.TryReserveAsync(caller, CancellationToken.None);

        // Dubai is still on the 14th (14:30), as Kolkata (16:00): the day's row stays on it.
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Asia/Dubai" });
        var second = await quota.TryReserveAsync(caller, CancellationToken.None);
        quota.Refund(inFlight.Reservation); // Meta refused the first
        var third = await quota.TryReserveAsync(caller, CancellationToken.None);
        var fourth = await quota.TryReserveAsync(caller, CancellationToken.None);

        Assert.True(inFlight.Allowed);
        Assert.False(second.Allowed); // 1 sent + 1 in flight = the cap of 2
        Assert.True(third.Allowed);
        Assert.False(fourth.Allowed);
    }

    [Fact]
    public async Task AUnitHeldByASendInFlightStaysCountedThroughItsBusinesssOwnZoneChange()
    {
        // A send holds its unit from the cap check until its row is written, and its body is read in between. The zone
        // change counted the key's day again from the rows alone: the unit of a send still reading its body was left
        // out, and the key sent one more than its cap.
        await using var server = new TwaBotApiFactory();
        var tenant = await CappedAtTwoWithOneSentAsync(server);
        await using var held = await HeldSend.StartAsync(tenant);

        // Dubai is on Kolkata's date (16:00 there, 14:30 here): the day's sends stay on it.
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Asia/Dubai" });
        var meanwhile = await SendAsync(tenant, Good);
        var answer = await held.FinishAsync();

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        var refused = await meanwhile.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, refused.GetProperty("daily_used").GetInt32());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the new day's count is in memory already when the held send's row is written
    public async Task AUnitHeldByASendInFlightCountsOnTheNewTodayWhenItsBusinesssZoneChangesTheDate(bool newDayLoadedFirst)
    {
        // As above, but the new zone is already on the next day: the held send's row was tagged with the old zone's day
        // (the reservation's), outside the new today, so the key sent one more than its cap on that day.
        await using var server = new TwaBotApiFactory();
        var tenant = await CappedAtTwoWithOneSentAsync(server);
        await using var held = await HeldSend.StartAsync(tenant);

        // Kiritimati (UTC+14) is already on the 15th (00:30) while Kolkata is on the 14th (16:00).
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Pacific/Kiritimati" });
        if (newDayLoadedFirst)
        {
            (await tenant.Client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode(); // its RateLimit headers load the 15th
        }

        var answer = await held.FinishAsync();
        var after = await SendAsync(tenant, Good);

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        var refused = await after.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, refused.GetProperty("daily_used").GetInt32());
        await server.WithDbAsync(async db => Assert.Equal(
            [new DateOnly(2026, 4, 15), new DateOnly(2026, 4, 15)],
            await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId).OrderBy(m => m.Id).Select(m => m.QuotaDay).ToListAsync()));
        // And back on Kolkata's 14th, both count there once: the unit left that day with its row.
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Asia/Kolkata" });
        var back = await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, back.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task ASendWhoseRowCannotFollowItsBusinesssZoneChangeStillGoesOutAndCountsOnTheFormerZonesDay()
    {
        // A storage fault while moving the held send's row onto the new zone's day does not fail a send Meta is about
        // to get: the row stays on the day it was reserved on, and a warning names it.
        await using var server = new RowMoveFailsServer();
        var tenant = await CappedAtTwoWithOneSentAsync(server);
        await using var held = await HeldSend.StartAsync(tenant);
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Pacific/Kiritimati" });
        server.DiskFull = true;

        var answer = await held.FinishAsync();

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        long heldId = 0;
        await server.WithDbAsync(async db =>
        {
            var rows = await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId).OrderBy(m => m.Id).Select(m => new { m.Id, m.QuotaDay, m.ApiStatus }).ToListAsync();
            Assert.Equal([(new DateOnly(2026, 4, 15), ApiStatuses.Success), (new DateOnly(2026, 4, 14), ApiStatuses.Success)],
                rows.Select(r => (r.QuotaDay, r.ApiStatus)));
            heldId = rows[1].Id;
        });
        Assert.Contains(server.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Warning && e.Exception is not null
            && e.RenderMessage(CultureInfo.InvariantCulture) == $"Message {heldId} was written under its business's former time zone, "
                + "and moving it to the day of the new one failed; it counts on the former zone's day");
    }

    [Fact]
    public async Task AUnitOfASendAtMetaWhenItsBusinesssZoneChangesTheDateGoesBackToTheNewDayWhenMetaRefuses()
    {
        // The zone change moves the waiting send's row, and its unit, onto Kiritimati's 15th (counted there since a
        // request of the key loaded that day). Meta's refusal gave the unit back to the 14th it was reserved on, and the
        // 15th kept it: the key could send one fewer than its cap that day.
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        var business = $"/admin/v1/businesses/{tenant.BusinessId}";
        await server.AdminPatchAsync(business, new { time_zone = "Pacific/Kiritimati" }); // the 15th (00:30) there
        (await tenant.Client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode(); // its RateLimit headers load the key's 15th
        await server.AdminPatchAsync(business, new { time_zone = "Asia/Kolkata" }); // the 14th (16:00)
        var refusedAtMeta = SendAsync(tenant, "919876540047");
        await server.UnderWayAsync();

        await server.AdminPatchAsync(business, new { time_zone = "Pacific/Kiritimati" });
        server.Release.SetResult();
        await (await refusedAtMeta).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        var first = await SendAsync(tenant, Good);
        var second = await SendAsync(tenant, Good);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
    }

    [Fact]
    public async Task AKeysUnitInFlightStaysCountedWhileAKeyFarEastIsTwoDaysAhead()
    {
        // At 11:00 UTC Kiritimati (UTC+14) is on the 16th and Baker Island (UTC-12) still on the 14th: that day has not ended
        // everywhere, so a send on the 16th must not drop the count of a key still on the 14th (a unit in flight has no row).
        await using var server = new TwaBotApiFactory();
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 15, 11, 0, 0, TimeSpan.Zero));
        var quota = server.Services.GetRequiredService<DailyQuota>();
        var west = new ApiCaller(1, "west", 1, "Acme", Plan.Pro, "Etc/GMT+12", [], null, 1, null, null);
        var east = new ApiCaller(2, "east", 2, "Globex", Plan.Pro, "Pacific/Kiritimati", [], null, 1, null, null);

        var inFlight = await quota.TryReserveAsync(west, CancellationToken.None);
        Assert.True((await quota.TryReserveAsync(east, CancellationToken.None)).Allowed);
        var second = await quota.TryReserveAsync(west, CancellationToken.None);

        Assert.True(inFlight.Allowed);
        Assert.False(second.Allowed); // the cap of 1 is held by the send still waiting on Meta
    }

    [Fact]
    public async Task ACountStillLoadingWhenItsBusinesssZoneChangesIsLoadedAgainWithTheSendsMovedOntoItsDay()
    {
        // A request of the key was loading Kiritimati's 15th, its rows read before the zone change moved the day's send
        // onto that day: kept, that count missed the send, and the key could send once more than its cap.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode); // Kolkata's 14th (16:00)
        await using var reads = new MessagesReadHeld(server);
        var quota = QuotaOver(server, reads.Scopes);
        var kiritimati = CallerIn(tenant, "Pacific/Kiritimati"); // the 15th (00:30) there

        reads.HoldNextRead();
        var loading = quota.LoadTodayAsync(kiritimati, CancellationToken.None);
        await reads.Held;
        await server.WithDbAsync(db => quota.TimeZoneChangedAsync(db, tenant.BusinessId, "Pacific/Kiritimati", CancellationToken.None));
        reads.Release();
        await loading;
        var second = await quota.TryReserveAsync(kiritimati, CancellationToken.None);
        var third = await quota.TryReserveAsync(kiritimati, CancellationToken.None);

        Assert.Equal(2, second.Used); // the moved send and this one
        Assert.False(third.Allowed);
    }

    [Fact]
    public async Task ASendsRowFollowedOntoADayStillLoadingCountsThere()
    {
        // The send's row, tagged with Kolkata's 14th it was reserved on, follows its business's zone change onto Kiritimati's
        // 15th while a request of the key is loading that day, its rows read before the row moved: kept, that count missed
        // the send, and the key could send once more than its cap.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        await using var reads = new MessagesReadHeld(server);
        var quota = QuotaOver(server, reads.Scopes);
        var kiritimati = CallerIn(tenant, "Pacific/Kiritimati");
        var inFlight = await quota.TryReserveAsync(CallerIn(tenant, "Asia/Kolkata"), CancellationToken.None);
        await server.WithDbAsync(db => quota.TimeZoneChangedAsync(db, tenant.BusinessId, "Pacific/Kiritimati", CancellationToken.None));
        // The in-flight send's row: the server's own count, still on Kolkata, tags it with the 14th.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        (long Id, DateTime CreatedAt) row = default;
        await server.WithDbAsync(async db =>
        {
            await db.Businesses.Where(b => b.Id == tenant.BusinessId).ExecuteUpdateAsync(set => set.SetProperty(b => b.TimeZone, "Pacific/Kiritimati"));
            var last = await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId).OrderBy(m => m.Id).LastAsync();
            row = (last.Id, last.CreatedAt);
        });

        reads.HoldNextRead();
        var loading = quota.LoadTodayAsync(kiritimati, CancellationToken.None);
        await reads.Held;
        var following = server.WithDbAsync(db => quota.FollowRowAsync(db, inFlight.Reservation, tenant.BusinessId, row.Id, row.CreatedAt, CancellationToken.None));
        await Poll.UntilAsync(async () =>
        {
            var day = DateOnly.MinValue;
            await server.WithDbAsync(async db => day = await db.Messages.Where(m => m.Id == row.Id).Select(m => m.QuotaDay).SingleAsync());
            return day == new DateOnly(2026, 4, 15);
        }, "the row to follow the zone change");
        reads.Release();
        await following;
        await loading;
        var third = await quota.TryReserveAsync(kiritimati, CancellationToken.None);

        Assert.False(third.Allowed);
        Assert.Equal(2, third.Used);
    }

    /// <summary>A daily cap of its own over the test server's database, whose loads read through <paramref name="scopes"/>.</summary>
    private static DailyQuota QuotaOver(TwaBotApiFactory server, IServiceScopeFactory scopes) =>
        new(scopes, server.Clock, server.Services.GetRequiredService<IOptionsMonitor<TwaBotOptions>>());

    private static ApiCaller CallerIn(SendingTenant tenant, string timeZone) =>
        new(tenant.KeyId, "key", tenant.BusinessId, "Acme", Plan.Pro, timeZone, [], null, 2, null, null);

    [Fact]
    public async Task ACountThatFailedToLoadIsLoadedAgainByTheNextSend()
    {
        // The database was busy when the key's first send of the day loaded its count: that send fails, the next loads again.
        var (quota, caller, busyAtFirst) = await SentOnceThenBusyAsync();
        await using var _ = busyAtFirst;

        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => quota.TryReserveAsync(caller, CancellationToken.None));
        var next = await quota.TryReserveAsync(caller, CancellationToken.None);

        Assert.True(next.Allowed);
        Assert.Equal(2, next.Used); // the sent message's row, and this unit
    }

    [Fact]
    public async Task TheHeadersDayLoadedAsTheAnswerStartsIsLeftOutWhenTheDatabaseIsBusy()
    {
        // A request across midnight loads the new day as its answer starts: a busy database then costs the headers their
        // day part, not the answer (a 500 after a send went out); the next request loads it.
        var (quota, caller, busyAtFirst) = await SentOnceThenBusyAsync();
        await using var _ = busyAtFirst;

        var busy = await quota.CurrentAsync(caller, CancellationToken.None);
        var next = await quota.CurrentAsync(caller, CancellationToken.None);

        Assert.Null(busy);
        Assert.Equal(1, next?.Used);
        Assert.Equal(1, next?.Remaining);
    }

    /// <summary>
    /// A Growth key capped at 2 that has sent once, and a cap of its own over the test server's database whose first read
    /// of the messages fails as a busy database does.
    /// </summary>
    private async Task<(DailyQuota Quota, ApiCaller Caller, FirstMessagesReadFails BusyAtFirst)> SentOnceThenBusyAsync()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Growth");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        var busyAtFirst = new FirstMessagesReadFails(factory);
        var quota = QuotaOver(factory, busyAtFirst.Scopes);
        var caller = new ApiCaller(tenant.KeyId, "key", tenant.BusinessId, "Acme", Plan.Growth, "Asia/Kolkata", [], null, 2, null, null);
        return (quota, caller, busyAtFirst);
    }

    [Fact]
    public async Task RefusedSendsStillDoNotCountAfterARestart()
    {
        var (databasePath, tenant) = await CappedAtTwoBeforeARestartAsync(async (_, sender) =>
        {
            // Meta refuses 0047: its row is written before the call, then marked failed.
            await (await SendAsync(sender, "919876540047")).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(sender, Good)).StatusCode);
        });

        await AssertOneMoreSendAfterARestartAsync(databasePath, tenant.Key);
    }

    [Fact]
    public async Task SendsFromBeforeTheDailyCapCountAfterTheUpgrade()
    {
        // The cap's migration left the quota day of earlier rows at 0001-01-01, and the cap counts by quota day:
        // on the day of the upgrade, a key capped at 2 that had sent 2 could send 2 more.
        var (databasePath, tenant) = await CappedAtTwoBeforeARestartAsync(async (first, sender) =>
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(sender, Good)).StatusCode);
            await using var scope = first.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            // As a database upgraded from before the cap: that row untagged, and a migration (any) to apply at the next start.
            await db.Database.ExecuteSqlRawAsync("""
                UPDATE messages SET quota_day = '0001-01-01';
                DROP TABLE recipient_wa_ids;
                DELETE FROM "__EFMigrationsHistory" WHERE migration_id = '20261201201459_RecipientWaIds';
                """);
        });

        await AssertOneMoreSendAfterARestartAsync(databasePath, tenant.Key);
    }

    [Fact]
    public async Task SendsFromBeforeTheDailyCapCountWhenTheUpgradingStartStoppedAfterMigrating()
    {
        // The upgrading start migrates, then tags the older rows: one stopped in between (a kill, an impatient health
        // check) left them untagged with no migration pending, and later starts counted none of the day's earlier sends.
        var (databasePath, tenant) = await CappedAtTwoBeforeARestartAsync(async (first, sender) =>
        {
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(sender, Good)).StatusCode);
            await using var scope = first.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<TwaBotDbContext>().Database
                .ExecuteSqlRawAsync("UPDATE messages SET quota_day = '0001-01-01';");
        });

        await AssertOneMoreSendAfterARestartAsync(databasePath, tenant.Key);
    }

    [Fact]
    public async Task ACapLoweredBelowTodaysUseLeavesNoneRemainingNotANegativeCount()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await SetDailyLimitAsync(tenant.KeyId, 2);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);

        await SetDailyLimitAsync(tenant.KeyId, 1);
        var health = await tenant.Client.GetAsync("/api/v1/health");

        Assert.Contains("\"day\";r=0;", Assert.Single(health.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AZoneChangeWhoseCallerHangsUpAfterTheSaveStillCountsTheDaysSends()
    {
        // The new zone is committed first; the day's rows are tagged again after. A client that goes away in between
        // (a timeout, a closed tab) must not leave the zone changed and the rows as they were: today would count none.
        await using var server = new HangsUpAfterTheZoneIsSaved();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode); // 16:00 on the 14th in Kolkata
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        using var admin = server.CreateAdminClient();

        server.Armed = true;
        try
        {
            await admin.PatchAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "Pacific/Kiritimati" });
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException)
        {
            // the caller hung up: what it gets does not matter, what was stored does
        }

        // The handler goes on after the caller left; it holds the write gate until it is done.
        using (await server.Services.GetRequiredService<SqliteWriteGate>().EnterAsync(CancellationToken.None))
        {
        }

        var business = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(server.Armed);
        Assert.Equal("Pacific/Kiritimati", business.GetProperty("business").GetProperty("time_zone").GetString());
        // 10:30 UTC is 00:30 on the 15th in Kiritimati: both sends are on its today.
        var json = await (await SendAsync(tenant, Good)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, json.GetProperty("daily_used").GetInt32());
    }

    /// <summary>A server whose disk, once full, refuses to move a send's row to another day.</summary>
    private sealed class RowMoveFailsServer : TwaBotApiFactory
    {
        public volatile bool DiskFull;

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(options => options.AddInterceptors(new RefuseMove(this))));
        }

        private sealed class RefuseMove(RowMoveFailsServer server) : DbCommandInterceptor
        {
            public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
                System.Data.Common.DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
            {
                if (server.DiskFull && command.CommandText.Contains("UPDATE \"messages\"", StringComparison.Ordinal)
                    && command.CommandText.Contains("\"quota_day\" =", StringComparison.Ordinal))
                {
                    throw new Microsoft.Data.Sqlite.SqliteException("SQLite Error 13: 'database or disk is full'.", 13);
                }

                return base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
            }
        }
    }

    /// <summary>A server whose admin caller, once armed, hangs up right after a business's change is saved.</summary>
    private sealed class HangsUpAfterTheZoneIsSaved : TwaBotApiFactory
    {
        public bool Armed { get; set; }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddHttpContextAccessor().ConfigureDbContext<TwaBotDbContext>(
                (provider, options) => options.AddInterceptors(new HangUp(this, provider.GetRequiredService<IHttpContextAccessor>()))));
        }

        private sealed class HangUp(HangsUpAfterTheZoneIsSaved server, IHttpContextAccessor http)
            : SaveChangesInterceptor
        {
            public override ValueTask<int> SavedChangesAsync(
                SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
            {
                if (server.Armed && eventData.Context!.ChangeTracker.Entries<Business>().Any())
                {
                    server.Armed = false;
                    http.HttpContext!.Abort();
                }

                return ValueTask.FromResult(result);
            }
        }
    }

    /// <summary>Starts the server on a port (for <see cref="HeldSend"/>) with a key capped at two sends a day, one sent.</summary>
    private static async Task<SendingTenant> CappedAtTwoWithOneSentAsync(TwaBotApiFactory server)
    {
        server.UseKestrel(0);
        server.StartServer();
        var tenant = await server.CreateSendingTenantAsync();
        await SetDailyLimitAsync(server, tenant.KeyId, 2);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant, Good)).StatusCode);
        return tenant;
    }

    /// <summary>
    /// A send-template on a raw socket whose body stops after its first byte: it has taken its daily unit and waits for
    /// the rest (HttpClient and the in-memory server send a body whole, so the tests using it run on Kestrel).
    /// </summary>
    private sealed class HeldSend(System.Net.Sockets.TcpClient socket, byte[] body) : IAsyncDisposable
    {
        public static async Task<HeldSend> StartAsync(SendingTenant tenant)
        {
            var socket = new System.Net.Sockets.TcpClient();
            await socket.ConnectAsync(tenant.Client.BaseAddress!.Host, tenant.Client.BaseAddress.Port);
            var body = System.Text.Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(TemplateBody(Good)));
            await socket.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes("POST /api/v1/send-template HTTP/1.1\r\nHost: localhost\r\n"
                + $"X-API-Key: {tenant.Key}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{{\r\n"));
            await Poll.UntilAsync(
                async () => (await tenant.Client.GetAsync("/api/v1/health")).Headers.GetValues("RateLimit").Single().Contains("\"day\";r=0;", StringComparison.Ordinal),
                "the held send to take the cap's last unit");
            return new HeldSend(socket, body);
        }

        /// <summary>Sends the rest of the body; the start of the answer.</summary>
        public async Task<string> FinishAsync()
        {
            var stream = socket.GetStream();
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"{body.Length - 1:x}\r\n"));
            await stream.WriteAsync(body.AsMemory(1));
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes("\r\n0\r\n\r\n"));
            var answer = new byte[4096];
            var read = await stream.ReadAsync(answer).AsTask().WaitAsync(Poll.SlowWorkLimit);
            return System.Text.Encoding.ASCII.GetString(answer, 0, read);
        }

        public ValueTask DisposeAsync()
        {
            socket.Dispose();
            return ValueTask.CompletedTask;
        }
    }

    private static Task<HttpResponseMessage> SendAsync(SendingTenant tenant, string phone) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-template", TemplateBody(phone));

    /// <summary>A server on a file kept after it stops, with a tenant capped at 2 a day, then <paramref name="before"/>.</summary>
    private static async Task<(string DatabasePath, SendingTenant Tenant)> CappedAtTwoBeforeARestartAsync(
        Func<TwaBotApiFactory, SendingTenant, Task> before)
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        await using var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath) { DeleteDatabaseOnDispose = false };
        var tenant = await first.CreateSendingTenantAsync();
        await SetDailyLimitAsync(first, tenant.KeyId, 2);
        await before(first, tenant);
        return (databasePath, tenant);
    }

    /// <summary>A server started again on the file: the key, capped at 2 with one send counted, may send once more.</summary>
    private static async Task AssertOneMoreSendAfterARestartAsync(string databasePath, string key)
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath);
        using var client = server.CreateApiClient(key);

        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/send-template", TemplateBody(Good))).StatusCode);
        var json = await (await client.PostAsJsonAsync("/api/v1/send-template", TemplateBody(Good)))
            .AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, json.GetProperty("daily_used").GetInt32());
    }

    private static object TemplateBody(string phone) =>
        new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } };

    private Task SetDailyLimitAsync(long keyId, int limit) => SetDailyLimitAsync(factory, keyId, limit);

    private static Task SetDailyLimitAsync(TwaBotApiFactory server, long keyId, int limit) =>
        server.AdminPatchAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = limit });
}
