using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary><c>RateLimit-Policy</c> and <c>RateLimit</c> (IETF draft) on /api/v1 answers.</summary>
public class RateLimitHeadersTests : IAsyncLifetime
{
    private readonly TwaBotApiFactory _factory = new(new Dictionary<string, string?>
    {
        ["TwaBot:RateLimits:PerKeyPerMinute"] = "5",
    });

    [Fact]
    public async Task AnswersDescribeTheMinuteAndTheDay()
    {
        var tenant = await _factory.CreateSendingTenantAsync(plan: "Growth");

        var health = await tenant.Client.GetAsync("/api/v1/health");
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        Assert.Equal("\"minute\";q=5;w=60, \"day\";q=150;w=86400", Header(health, "RateLimit-Policy"));
        // 10:30:45 UTC: 15 s left in the minute, 28755 s to midnight in Kolkata.
        Assert.Equal("\"minute\";r=4;t=15, \"day\";r=150;t=28755", Header(health, "RateLimit"));
        Assert.Equal(HttpStatusCode.OK, send.StatusCode);
        Assert.Equal("\"minute\";r=3;t=15, \"day\";r=149;t=28755", Header(send, "RateLimit"));
    }

    [Fact]
    public async Task AProKeysDayIsProsOwnCap()
    {
        // Each plan's cap comes from its own setting (5,000 on Pro, 150 on Growth), not one read for both.
        var tenant = await _factory.CreateSendingTenantAsync(plan: "Pro");

        var response = await tenant.Client.GetAsync("/api/v1/health");

        Assert.Equal("\"minute\";q=5;w=60, \"day\";q=5000;w=86400", Header(response, "RateLimit-Policy"));
    }

    [Theory]
    [InlineData("2026-11-01T15:00:00Z", 90_000)] // New York's clocks fall back: the day is 25 hours long
    [InlineData("2027-03-14T15:00:00Z", 82_800)] // and spring forward: 23
    public async Task TheDaysWindowIsTheLocalDaysRealLength(string now, int seconds)
    {
        // Set before the server starts: moved after, the fake clock ran its timers (the minute sweeps) through every month between.
        _factory.Clock.SetUtcNow(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        var tenant = await _factory.CreateSendingTenantAsync(plan: "Growth");
        await _factory.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "America/New_York" });

        var response = await tenant.Client.GetAsync("/api/v1/health");

        Assert.Equal($"\"minute\";q=5;w=60, \"day\";q=150;w={seconds}", Header(response, "RateLimit-Policy"));
    }

    [Fact]
    public async Task ASendAnsweredAfterMidnightDescribesTheNewDay()
    {
        // The send takes its unit at 23:59:59 in Kolkata and is answered at 00:00:01: the headers describe the day the
        // client is now in (nothing used of it yet), not the day that ended and not no day at all.
        await using var server = new FirstSendHeldAtMeta();
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 14, 18, 29, 59, TimeSpan.Zero));
        var tenant = await server.CreateSendingTenantAsync(plan: "Growth");

        var send = tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        await server.UnderWayAsync();
        server.Clock.Advance(TimeSpan.FromSeconds(2));
        server.Release.SetResult();
        var answered = await send;

        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.EndsWith(", \"day\";q=150;w=86400", Header(answered, "RateLimit-Policy"), StringComparison.Ordinal);
        Assert.Equal("\"day\";r=150;t=86399", Header(answered, "RateLimit").Split(", ")[1]);
    }

    [Fact]
    public async Task A429HasNoneLeftAndRetryAfterMatchesTheBody()
    {
        var (_, client, _) = await _factory.CreateTenantAsync(plan: "Starter");
        for (var i = 0; i < 5; i++)
        {
            (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        }

        var refused = await client.GetAsync("/api/v1/health");

        var json = await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Equal(json.GetProperty("retry_after_seconds").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Assert.Single(refused.Headers.GetValues("Retry-After")));
        // Starter cannot send, so it has no daily window.
        Assert.Equal("\"minute\";q=5;w=60", Header(refused, "RateLimit-Policy"));
        Assert.Equal("\"minute\";r=0;t=15", Header(refused, "RateLimit"));
    }

    [Fact]
    public async Task AnUnauthenticatedAnswerHasNoRateLimitHeaders()
    {
        using var client = _factory.CreateClient();

        var response = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("RateLimit"));
        Assert.False(response.Headers.Contains("RateLimit-Policy"));
    }

    [Fact]
    public async Task WhatRemainsOfTheMinuteCountsTheGlobalLimitWhenLessIsLeftOfIt()
    {
        // A key allowed 5 a minute on a server allowed 3: after one request it can make 2 more, not 4.
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:RateLimits:PerKeyPerMinute"] = "5",
            ["TwaBot:RateLimits:GlobalPerMinute"] = "3",
        });
        var (_, client, _) = await factory.CreateTenantAsync(plan: "Starter");

        var first = await client.GetAsync("/api/v1/health");
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        var third = await client.GetAsync("/api/v1/health");

        Assert.Equal("\"minute\";r=2;t=15", Header(first, "RateLimit"));
        Assert.Equal("\"minute\";r=0;t=15", Header(third, "RateLimit"));
        await (await client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
    }

    [Fact]
    public async Task ARefusalByTheGlobalLimitStillStatesTheKeysOwnQuota()
    {
        // The policy describes the key's minute (what the client may plan for), not the server's total it shares with others.
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:RateLimits:PerKeyPerMinute"] = "5",
            ["TwaBot:RateLimits:GlobalPerMinute"] = "1",
        });
        var (_, client, _) = await factory.CreateTenantAsync(plan: "Starter");
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        var refused = await client.GetAsync("/api/v1/health");

        await refused.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Equal("\"minute\";q=5;w=60", Header(refused, "RateLimit-Policy"));
        Assert.Equal("\"minute\";r=0;t=15", Header(refused, "RateLimit"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private static string Header(HttpResponseMessage response, string name) => Assert.Single(response.Headers.GetValues(name));
}
