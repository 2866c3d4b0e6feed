using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Errors;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary>The hourly OTP cap per recipient (against OTP pumping and bombing), through HTTP.</summary>
public class OtpRecipientLimitTests
{
    private const string Number = "919876543210";

    private static TwaBotApiFactory Server(int perHour) =>
        new(new Dictionary<string, string?> { ["TwaBot:RateLimits:OtpPerRecipientPerHour"] = perHour.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    private static Task<HttpResponseMessage> OtpAsync(SendingTenant tenant, string phone = Number) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone, template_name = "otp_verification" });

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
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        SendingTenant tenant;
        DateTimeOffset now;
        await using (var server = new TwaBotApiFactory(
            new Dictionary<string, string?> { ["TwaBot:RateLimits:OtpPerRecipientPerHour"] = "2" }, databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            tenant = await server.CreateSendingTenantAsync();
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
            server.Clock.Advance(TimeSpan.FromMinutes(30));
            Assert.Equal(HttpStatusCode.OK, (await OtpAsync(tenant)).StatusCode);
            now = server.Clock.GetUtcNow();
        }

        await using var restarted = new TwaBotApiFactory(
            new Dictionary<string, string?> { ["TwaBot:RateLimits:OtpPerRecipientPerHour"] = "2" }, databasePath: path);
        restarted.Clock.SetUtcNow(now + TimeSpan.FromMinutes(10));
        using var client = restarted.CreateApiClient(tenant.Key);
        var again = await client.PostAsJsonAsync("/api/v1/send-otp", new { phone = Number, template_name = "otp_verification" });

        var json = await again.AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.OtpRecipientLimitReached);
        Assert.Equal(20 * 60, json.GetProperty("retry_after_seconds").GetInt32()); // the first of the two leaves the hour then
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
}
