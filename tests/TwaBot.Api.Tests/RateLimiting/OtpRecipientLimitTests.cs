using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Errors;
using TwaBot.Api.RateLimiting;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary>The hourly OTP cap per recipient (against OTP pumping and bombing), through HTTP.</summary>
public class OtpRecipientLimitTests
{
    private const string Number = "919876543210";

    private static Dictionary<string, string?> Settings(int perHour) =>
        new() { ["TwaBot:RateLimits:OtpPerRecipientPerHour"] = perHour.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static TwaBotApiFactory Server(int perHour) => new(Settings(perHour));

    private static Task<HttpResponseMessage> OtpAsync(SendingTenant tenant, string phone = Number) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone, template_name = "otp_verification" });

    /// <summary>
    /// A server with the cap, a tenant that does <paramref name="before"/>, then a second server on the same database
    /// (as after a restart) ten minutes later, with the tenant's key.
    /// </summary>
    private static async Task<Restarted> RestartedAfterAsync(int perHour, Func<TwaBotApiFactory, SendingTenant, Task> before)
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        var settings = Settings(perHour);
        SendingTenant tenant;
        DateTimeOffset now;
        await using (var server = new TwaBotApiFactory(settings, databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            tenant = await server.CreateSendingTenantAsync();
            await before(server, tenant);
            now = server.Clock.GetUtcNow();
        }

        var restarted = new TwaBotApiFactory(settings, databasePath: path);
        restarted.Clock.SetUtcNow(now + TimeSpan.FromMinutes(10));
        return new Restarted(restarted, tenant with { Client = restarted.CreateApiClient(tenant.Key) });
    }

    private sealed record Restarted(TwaBotApiFactory Server, SendingTenant Tenant) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    [Fact]
    public async Task AnOtpOverTheNumbersHourlyCapIsRefusedUntilItsOldestLeavesTheHour()
    {
        await using var server = Server(perHour: 2);
        var tenant = await server.CreateSendingTenantAsync();

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        server.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, "+91 98765 43210")).StatusCode); // the same number, written otherwise
        server.Clock.Advance(TimeSpan.FromMinutes(10));

        var refused = await OtpAsync(tenant);

        var json = await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        Assert.Equal("Too many OTPs to 919876543210: at most 2 per hour are sent to one number. Try again in 40 minutes.",
            json.GetProperty("error").GetString());
        Assert.Equal(2400, json.GetProperty("retry_after_seconds").GetInt32());
        Assert.Equal("2400", Assert.Single(refused.Headers.GetValues("Retry-After")));

        // Other numbers, and other kinds of message to this one, are not held back.
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, "919876543211")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = Number, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } })).StatusCode);

        server.Clock.Advance(TimeSpan.FromMinutes(40) - TimeSpan.FromSeconds(1));
        await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task EachBusinessHasItsOwnCountForANumber()
    {
        await using var server = Server(perHour: 1);
        var first = await server.CreateSendingTenantAsync();
        var second = await server.CreateSendingTenantAsync();

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(first)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(second)).StatusCode);
        await (await OtpAsync(first)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task TheKeysOfOneBusinessShareItsCountForANumber()
    {
        // A second integration (or a key made to get around the cap) sends for the same business: the number's phone is one.
        await using var server = Server(perHour: 1);
        var tenant = await server.CreateSendingTenantAsync();
        var (otherKey, _) = await server.CreateApiKeyAsync(tenant.BusinessId);
        using var other = server.CreateApiClient(otherKey);

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);

        var refused = await other.PostAsJsonAsync("/api/v1/send-otp", new { phone = "0091 98765 43210", template_name = "otp_verification" });
        var json = await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        Assert.Equal(3600, json.GetProperty("retry_after_seconds").GetInt32());
    }

    [Theory]
    [InlineData("5511987654321", "551187654321")]
    [InlineData("525512345670", "5215512345670")]
    [InlineData("541158749890", "5491158749890")]
    public async Task AMobileWrittenAsItsNumberOrItsWaIdIsOneNumberToTheCap(string written, string waIdForm)
    {
        // One phone, reached by both forms (Meta's wa_id for a Brazilian mobile lacks the ninth digit, a Mexican or
        // Argentine one adds a digit): alternating them must not double its cap.
        await using (var server = Server(perHour: 1))
        {
            var tenant = await server.CreateSendingTenantAsync();
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, written)).StatusCode);

            await (await OtpAsync(tenant, waIdForm)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        }

        // Counted from the rows too, after a restart, whichever form came first: the rows keep the form sent to.
        foreach (var (first, then) in new[] { (waIdForm, written), (written, waIdForm) })
        {
            await using var restarted = await RestartedAfterAsync(perHour: 1, async (_, tenant) =>
                Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, first)).StatusCode));
            await (await OtpAsync(restarted.Tenant, then)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        }
    }

    [Theory]
    [InlineData("5511987654322", "551187654322")]   // Brazil: with and without the ninth digit
    [InlineData("525512345678", "5215512345678")]   // Mexico: without and with the 1
    [InlineData("541158749895", "5491158749895")]   // Argentina: without and with the 9
    public async Task AlternatingTheTwoFormsOfAMobileKeepsOneCountInMemory(string written, string waIdForm)
    {
        // Each form held its own count in memory, the second loaded from the rows: alternating them went past the cap.
        await using var server = Server(perHour: 2);
        var tenant = await server.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, written)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, waIdForm)).StatusCode);

        await (await OtpAsync(tenant, written)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        await (await OtpAsync(tenant, waIdForm)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task ParallelOtpsToOneNumberAcceptExactlyTheCap()
    {
        await using var server = Server(perHour: 5);
        var tenant = await server.CreateSendingTenantAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => OtpAsync(tenant)));

        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(25, responses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task AnOtpMetaRefusesDoesNotCountButOneThatMayHaveBeenSentDoes()
    {
        await using var server = Server(perHour: 1);
        var tenant = await server.CreateSendingTenantAsync();

        // 0047: Meta refuses (131047), so each try reaches Meta again instead of the cap.
        await (await OtpAsync(tenant, "919876540047")).AssertErrorAsync(HttpStatusCode.BadRequest, ErrorCodes.WindowClosed);
        await (await OtpAsync(tenant, "919876540047")).AssertErrorAsync(HttpStatusCode.BadRequest, ErrorCodes.WindowClosed);

        // 0500: Meta's HTTP 500, after which the code may still arrive: it counts.
        await (await OtpAsync(tenant, "919876540500")).AssertErrorAsync(HttpStatusCode.BadGateway, ErrorCodes.MetaUnavailable);
        await (await OtpAsync(tenant, "919876540500")).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task AnOtpTheCapRefusesGivesBackItsUnitOfTheDailyCap()
    {
        await using var server = Server(perHour: 1);
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 3 });

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        }

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, "919876543211")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant, "919876543212")).StatusCode);
        var full = await (await OtpAsync(tenant, "919876543213")).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.DailyLimitReached);
        Assert.Equal(3, full.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task TheCountSurvivesARestart()
    {
        await using var restarted = await RestartedAfterAsync(perHour: 2, async (server, tenant) =>
        {
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
            server.Clock.Advance(TimeSpan.FromMinutes(30));
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        });

        var json = await (await OtpAsync(restarted.Tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        Assert.Equal(20 * 60, json.GetProperty("retry_after_seconds").GetInt32()); // the first of the two leaves the hour then
    }

    [Fact]
    public async Task AnAuthenticationTemplateSentThroughSendTemplateOrQuickSendIsAnOtpToo()
    {
        await using var server = Server(perHour: 2);
        var tenant = await server.CreateSendingTenantAsync();

        // The README's other way to send a code: send-template with an AUTHENTICATION template and the code as its value.
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = Number, template_name = "otp_verification", body_params = new[] { "482913" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);

        await (await tenant.Client.GetAsync($"/api/v1/quick-send?phone={Number}&template=otp_verification&params=654321"))
            .AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = Number, template_name = "otp_verification", body_params = new[] { "482913" } }))
            .AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task AnAuthenticationTemplateSentThroughSendTemplateCountsAfterARestart()
    {
        await using var restarted = await RestartedAfterAsync(perHour: 1, async (_, tenant) =>
            Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = Number, template_name = "otp_verification", body_params = new[] { "482913" } })).StatusCode));

        await (await OtpAsync(restarted.Tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task AfterTheCapIsLoweredTheWaitIsUntilEnoughOtpsLeaveTheHour()
    {
        await using var server = Server(perHour: 3);
        var tenant = await server.CreateSendingTenantAsync();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
            server.Clock.Advance(TimeSpan.FromMinutes(10));
        }

        var configuration = (IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>();
        configuration["TwaBot:RateLimits:OtpPerRecipientPerHour"] = "1";
        configuration.Reload();

        // Sent at 0, 10 and 20 minutes, now 30: one slot frees when two have left the hour, at 80 minutes.
        var refused = await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        Assert.Equal(50 * 60, refused.GetProperty("retry_after_seconds").GetInt32());
        server.Clock.Advance(TimeSpan.FromMinutes(50) - TimeSpan.FromSeconds(1));
        await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        server.Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
    }

    [Fact]
    public void ASendThatReadTheClockEarlierButCameInLaterKeepsTheOldestFirst()
    {
        var sends = new OtpRecipientLimit.RecentSends([]);
        var start = TwaBotApiFactory.Start;

        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, start + TimeSpan.FromMinutes(10), out _));
        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, start, out _));

        Assert.Equal(OtpRecipientLimit.Taken.None, sends.TryTake(2, start + TimeSpan.FromMinutes(20), out var secondsUntilFree));
        Assert.Equal(40 * 60, secondsUntilFree); // the one taken at the start leaves the hour first
    }

    [Fact]
    public void OtpsTheClockNowPutsInTheFutureHoldTheirSlotsForAnHourFromNowWithoutASweepFirst()
    {
        // Two OTPs at 30 minutes, then the clock steps back 20 minutes: within the hour after the last sweep, so no sweep
        // has moved them to now first.
        var sends = new OtpRecipientLimit.RecentSends([]);
        var start = TwaBotApiFactory.Start;
        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, start + TimeSpan.FromMinutes(30), out _));
        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, start + TimeSpan.FromMinutes(30), out _));

        Assert.Equal(OtpRecipientLimit.Taken.None, sends.TryTake(2, start + TimeSpan.FromMinutes(10), out var secondsUntilFree));
        Assert.Equal(3600, secondsUntilFree); // not 80 minutes: the step's length is no part of the wait
    }

    [Theory]
    [InlineData(300, 3600)] // 3599.7 s to wait
    [InlineData(3_599_500, 1)] // half a second: Retry-After is never 0, which a client would retry at once
    public void AStartedSecondOfTheWaitCountsAsAWholeOne(int millisecondsLater, int expectedSeconds)
    {
        var start = TwaBotApiFactory.Start;
        var sends = new OtpRecipientLimit.RecentSends([start]);

        Assert.Equal(OtpRecipientLimit.Taken.None, sends.TryTake(1, start + TimeSpan.FromMilliseconds(millisecondsLater), out var secondsUntilFree));
        Assert.Equal(expectedSeconds, secondsUntilFree);
    }

    [Fact]
    public void ASlotMovedBackByAClockStepIsStillGivenBackWhenMetaRefusesItsSend()
    {
        var sends = new OtpRecipientLimit.RecentSends([]);
        var start = TwaBotApiFactory.Start;
        var tenMinutesOn = start + TimeSpan.FromMinutes(10);
        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, tenMinutesOn, out _)); // a send waits on Meta
        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, start, out _)); // the clock stepped back: that slot is now "now"

        sends.GiveBack(tenMinutesOn); // Meta refused the first send

        Assert.Equal(OtpRecipientLimit.Taken.Slot, sends.TryTake(2, start, out _));
    }

    [Fact]
    public async Task NumbersOfAnHourOfOtpsToDistinctNumbersAreForgottenAfterTheHour()
    {
        // OTP pumping sends each code to another number: the map must not keep every number ever sent to.
        await using var server = Server(perHour: 5);
        var limit = server.Services.GetRequiredService<OtpRecipientLimit>();
        for (var i = 0; i < 2_000; i++)
        {
            Assert.True((await limit.TryReserveAsync(1, $"91987{i:D7}", default)).Allowed);
        }

        var held = limit.Count;
        server.Clock.Advance(OtpRecipientLimit.Window + TimeSpan.FromMinutes(1));
        await limit.TryReserveAsync(1, Number, default);

        Assert.Equal(2_000, held);
        Assert.Equal(1, limit.Count);
    }

    [Fact]
    public async Task ANumberIsForgottenWithinTwoHoursOfItsLastOtpThoughNoOtpFollows()
    {
        // docs/operations.md, Personal data: what memory holds is "the numbers sent an OTP in the last two hours"; Limits:
        // "dropped from memory by the hourly sweep". A business whose sign-up form goes quiet sends no next OTP to sweep.
        await using var server = Server(perHour: 5);
        var tenant = await server.CreateSendingTenantAsync();
        var limit = server.Services.GetRequiredService<OtpRecipientLimit>();
        server.Clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        Assert.Equal(1, limit.Count);

        server.Clock.Advance(TimeSpan.FromHours(2));

        await Poll.UntilAsync(() => limit.Count == 0, "the hourly sweep to forget the number");
    }

    [Fact]
    public async Task AfterTheClockStepsBackANumbersFullHourHoldsForAnHourAtMost()
    {
        // The OTPs sent before the step are now "in the future": they must not fill the hour for as long as the step.
        await using var server = new SteppedClockApiFactory(Settings(perHour: 2));
        var tenant = await server.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);

        server.Step = -TimeSpan.FromDays(1);
        var refused = await OtpAsync(tenant);

        var json = await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        Assert.Equal(3600, json.GetProperty("retry_after_seconds").GetInt32());
        Assert.Equal("3600", Assert.Single(refused.Headers.GetValues("Retry-After")));
        server.Clock.Advance(OtpRecipientLimit.Window);
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task NumbersAreStillForgottenAfterTheClockStepsBack()
    {
        await using var server = new SteppedClockApiFactory(Settings(perHour: 5));
        var limit = server.Services.GetRequiredService<OtpRecipientLimit>();
        for (var i = 0; i < 100; i++)
        {
            Assert.True((await limit.TryReserveAsync(1, $"91987{i:D7}", default)).Allowed);
        }

        server.Step = -TimeSpan.FromDays(1);
        await limit.TryReserveAsync(1, Number, default);
        server.Clock.Advance(OtpRecipientLimit.Window + TimeSpan.FromMinutes(1));
        await limit.TryReserveAsync(1, Number, default);

        Assert.Equal(1, limit.Count);
    }

    [Fact]
    public async Task ANumbersCountThatFailedToLoadIsLoadedAgainByTheNextOtp()
    {
        // The database was busy when the number's first OTP loaded its hour: that send fails, the next loads again.
        await using var server = Server(perHour: 1);
        var tenant = await server.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        await using var busyAtFirst = new FirstMessagesReadFails(server);
        var limit = new OtpRecipientLimit(busyAtFirst.Scopes, server.Clock, server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<TwaBot.Api.Configuration.TwaBotOptions>>());

        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => limit.TryReserveAsync(tenant.BusinessId, Number, CancellationToken.None));
        var next = await limit.TryReserveAsync(tenant.BusinessId, Number, CancellationToken.None);

        Assert.False(next.Allowed); // the OTP sent before counts: the cap of 1 is full
    }

    [Fact]
    public void ACountTheSweepRetiredTakesNoSlot()
    {
        var start = TwaBotApiFactory.Start;
        var sends = new OtpRecipientLimit.RecentSends([start]);

        Assert.False(sends.TryRetire(start + TimeSpan.FromMinutes(59)));
        Assert.True(sends.TryRetire(start + OtpRecipientLimit.Window));

        // A send that found the count in the map just before the sweep dropped it must take its slot from the next one,
        // which is loaded from the rows: a slot taken here would be counted nowhere.
        Assert.Equal(OtpRecipientLimit.Taken.Retired, sends.TryTake(5, start + OtpRecipientLimit.Window, out _));
    }

    [Fact]
    public async Task TheCountAfterARestartReadsThroughThePartialIndex()
    {
        await using var server = Server(perHour: 5);
        var tenant = await server.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        var plan = new List<string>();

        await server.WithDbAsync(async db =>
        {
            await using var command = OtpRecipientLimit.RecentQuery(db, tenant.BusinessId, Number, server.Clock.GetUtcNow().UtcDateTime.AddHours(-1))
                .CreateDbCommand();
            command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            await db.Database.OpenConnectionAsync();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(reader.GetOrdinal("detail")));
            }
        });

        Assert.Contains(plan, step => step.Contains("INDEX ix_messages_business_id_to_created_at (business_id=? AND to=? AND created_at>?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedOtpsStillDoNotCountAfterARestartButOnesThatMayHaveBeenSentDo()
    {
        await using var restarted = await RestartedAfterAsync(perHour: 1, async (_, tenant) =>
        {
            await (await OtpAsync(tenant, "919876540047")).AssertErrorAsync(HttpStatusCode.BadRequest, ErrorCodes.WindowClosed);
            await (await OtpAsync(tenant, "919876540500")).AssertErrorAsync(HttpStatusCode.BadGateway, ErrorCodes.MetaUnavailable);
        });

        await (await OtpAsync(restarted.Tenant, "919876540047")).AssertErrorAsync(HttpStatusCode.BadRequest, ErrorCodes.WindowClosed); // Meta again, not the cap
        await (await OtpAsync(restarted.Tenant, "919876540500")).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task AfterARestartOnlyTheBusinesssOwnOtpsToTheNumberCount()
    {
        // The rows hold every message to the number: another business's OTPs and this business's other messages are no
        // part of its count, after a restart as before it.
        await using var restarted = await RestartedAfterAsync(perHour: 1, async (server, tenant) =>
        {
            var other = await server.CreateSendingTenantAsync();
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(other)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = Number, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } })).StatusCode);
        });

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(restarted.Tenant)).StatusCode);
        await (await OtpAsync(restarted.Tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Fact]
    public async Task TheSlotIsTakenWhenTheSendGoesNotWhenTheNumbersLoadStarted()
    {
        // The number's hour is read from the rows while the clock moves on (a busy database): the hour starts at the send.
        await using var server = Server(perHour: 1);
        await using var slowLoad = ServerDatabaseScopes.With(server, new ClockMovesOnAtTheMessagesRead(server.Clock));
        var limit = new OtpRecipientLimit(slowLoad.GetRequiredService<IServiceScopeFactory>(), server.Clock,
            server.Services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<TwaBot.Api.Configuration.TwaBotOptions>>());

        Assert.True((await limit.TryReserveAsync(1, Number, CancellationToken.None)).Allowed);
        var next = await limit.TryReserveAsync(1, Number, CancellationToken.None);

        Assert.False(next.Allowed);
        Assert.Equal(3600, next.SecondsUntilFree); // not 50 minutes: the ten the load took are no part of the hour
    }

    [Fact]
    public async Task AnOtpWhoseRowCannotBeWrittenGivesBackItsSlotAndItsUnitOfTheDailyCap()
    {
        await using var server = Server(perHour: 1);
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 });
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER refuse_row BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk full'); END
            """));

        await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_row"));

        Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task ARetryWithTheSameIdempotencyKeyIsReplayedNotCountedAndARefusalIsNotKept()
    {
        await using var server = Server(perHour: 1);
        var tenant = await server.CreateSendingTenantAsync();

        Assert.Equal(HttpStatusCode.OK, (await KeyedOtpAsync(tenant, "first")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await KeyedOtpAsync(tenant, "first")).StatusCode); // the replay, not a second OTP
        await (await KeyedOtpAsync(tenant, "second")).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);

        server.Clock.Advance(OtpRecipientLimit.Window);

        Assert.Equal(HttpStatusCode.OK, (await KeyedOtpAsync(tenant, "second")).StatusCode); // sent now, not the 429 again
    }

    private static async Task<HttpResponseMessage> KeyedOtpAsync(SendingTenant tenant, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-otp")
        {
            Content = JsonContent.Create(new { phone = Number, template_name = "otp_verification", otp = "482913" }),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await tenant.Client.SendAsync(request);
    }

    [Fact]
    public async Task ZeroTurnsTheCapOff()
    {
        await using var server = Server(perHour: 0);
        var tenant = await server.CreateSendingTenantAsync();

        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        }
    }

    [Fact]
    public async Task TheDefaultCapIsFivePerHour()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
        }

        await (await OtpAsync(tenant)).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
    }

    [Theory]
    [InlineData(1, "1 second")]
    [InlineData(59, "59 seconds")]
    [InlineData(60, "1 minute")]
    [InlineData(61, "2 minutes")]
    [InlineData(3600, "60 minutes")]
    public void TheWaitIsSaidInSecondsThenInStartedMinutes(int seconds, string said)
    {
        var error = ApiErrors.OtpRecipientLimitReached(Number, 5, seconds);

        Assert.EndsWith($"Try again in {said}.", error.Body.Error);
        Assert.Equal(seconds, error.RetryAfterSeconds);
    }

    [Theory]
    [InlineData(1, "at most 1 per hour is sent")]
    [InlineData(5, "at most 5 per hour are sent")]
    public void TheCapIsSaidInGoodEnglish(int limit, string said)
    {
        Assert.Contains(said, ApiErrors.OtpRecipientLimitReached(Number, limit, 60).Body.Error, StringComparison.Ordinal);
    }

    /// <summary>Moves the clock on ten minutes as the messages table is read, as a load held up by a busy database.</summary>
    private sealed class ClockMovesOnAtTheMessagesRead(Microsoft.Extensions.Time.Testing.FakeTimeProvider clock)
        : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        public override ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("FROM \"messages\"", StringComparison.Ordinal))
            {
                clock.Advance(TimeSpan.FromMinutes(10));
            }

            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }
}
