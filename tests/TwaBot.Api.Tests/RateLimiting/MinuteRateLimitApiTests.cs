using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.RateLimiting;

public class MinuteRateLimitApiTests : IAsyncLifetime
{
    private readonly TwaBotApiFactory _factory = new(new Dictionary<string, string?>
    {
        ["TwaBot:RateLimits:GlobalPerMinute"] = "20",
        ["TwaBot:RateLimits:PerKeyPerMinute"] = "10",
    });

    [Fact]
    public async Task OverTheKeysLimitAnswers429WithTheSeedsBodyAndRetryAfter()
    {
        var (_, client, _) = await _factory.CreateTenantAsync();
        for (var i = 0; i < 10; i++)
        {
            (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        }

        var response = await client.GetAsync("/api/v1/health");

        // The factory's clock stands at 10:30:45: 15 s to the next minute.
        var json = await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Equal("Rate limit exceeded. Please slow down.", json.GetProperty("error").GetString());
        Assert.Equal(15, json.GetProperty("retry_after_seconds").GetInt32());
        Assert.Equal("15", Assert.Single(response.Headers.GetValues("Retry-After")));
    }

    [Fact]
    public async Task TheGlobalLimitCapsAllKeysTogetherAndTellsEachRefusalTheRealWait()
    {
        // Three keys, each within its own 10, together over the global 20.
        var clients = new List<HttpClient>();
        for (var i = 0; i < 3; i++)
        {
            clients.Add((await _factory.CreateTenantAsync()).Client);
        }

        var responses = new List<HttpResponseMessage>();
        foreach (var client in clients)
        {
            for (var i = 0; i < 10; i++)
            {
                responses.Add(await client.GetAsync("/api/v1/health"));
            }
        }

        Assert.Equal(20, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.OK).ToList();
        Assert.Equal(10, refused.Count);
        foreach (var response in refused)
        {
            var json = await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
            Assert.Equal(15, json.GetProperty("retry_after_seconds").GetInt32()); // 10:30:45: 15 s to the next minute
            Assert.Equal("15", Assert.Single(response.Headers.GetValues("Retry-After")));
        }
    }

    [Fact]
    public async Task TheMinuteLimitComesBeforeThePlan()
    {
        var tenant = await _factory.CreateSendingTenantAsync(plan: "Starter");
        for (var i = 0; i < 10; i++)
        {
            await (await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation"))
                .AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
        }

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation");

        await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
    }

    [Fact]
    public async Task APerKeyOverrideTakesEffectAtOnce()
    {
        var (businessId, client, _) = await _factory.CreateTenantAsync();
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        using var admin = _factory.CreateAdminClient();
        var keyId = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("api_keys")[0].GetProperty("id").GetInt64();

        (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { per_minute_limit = 2 })).EnsureSuccessStatusCode();
        var second = await client.GetAsync("/api/v1/health");
        var third = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        await third.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
    }

    [Fact]
    public async Task ANoisyKeyLeavesAnotherKeysRequestsUntouched()
    {
        var (_, noisy, _) = await _factory.CreateTenantAsync(name: "Noisy");
        var (_, quiet, _) = await _factory.CreateTenantAsync(name: "Quiet");

        var noisyStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 50; i++)
        {
            noisyStatuses.Add((await noisy.GetAsync("/api/v1/templates")).StatusCode);
        }

        var quietStatuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            quietStatuses.Add((await quiet.GetAsync("/api/v1/templates")).StatusCode);
        }

        Assert.Equal(10, noisyStatuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(quietStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }

    [Fact]
    public async Task UnauthenticatedRequestsDoNotSpendTheBudget()
    {
        using var anonymous = _factory.CreateClient();
        for (var i = 0; i < 30; i++)
        {
            await anonymous.GetAsync("/api/v1/health");
        }

        var (_, client, _) = await _factory.CreateTenantAsync();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/health")).StatusCode);
    }

    [Fact] // PRODUCT §2: the minute limits are on /api/v1 requests; the admin's scripts and Meta's deliveries are no API traffic
    public async Task AdminCallsAndMetasWebhooksNeitherSpendNorMeetTheApisMinuteLimits()
    {
        using var admin = _factory.CreateAdminClient();
        for (var i = 0; i < 25; i++) // each alone is more than the global 20
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/admin/v1/businesses")).StatusCode);
            var delivery = MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange($"10654035229{i:D4}")));
            Assert.Equal(HttpStatusCode.OK, (await _factory.PostWebhookAsync(delivery)).StatusCode);
        }

        var (_, client, _) = await _factory.CreateTenantAsync();
        var response = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("\"minute\";r=9;", Assert.Single(response.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClockSteppedBackAnHourDoesNotRefuseEveryoneForThatHour()
    {
        // The minute counted before the step used to go on counting until the clock reached it again: once
        // full, every request was refused for the hour, each told to retry within the minute.
        var (server, client) = await SteppedClockServerAsync("TwaBot:RateLimits:GlobalPerMinute", limit: 10, used: 10);
        await using var _ = server;

        server.Step = TimeSpan.FromHours(-1);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/health")).StatusCode);
    }

    [Fact]
    public async Task AfterAClockSteppedBackAMomentRetryAfterCountsToTheEndOfTheNewerMinute()
    {
        // Stepped back from 10:30:45 to 10:29:45, the key's requests still count in 10:30: it used to be told 15 s,
        // and be refused again then.
        var (server, client) = await SteppedClockServerAsync("TwaBot:RateLimits:PerKeyPerMinute", limit: 10, used: 10);
        await using var _ = server;

        server.Step = TimeSpan.FromMinutes(-1);
        var response = await client.GetAsync("/api/v1/health");

        var json = await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Equal(75, json.GetProperty("retry_after_seconds").GetInt32());
        Assert.Equal("75", Assert.Single(response.Headers.GetValues("Retry-After")));
    }

    [Fact]
    public async Task AfterAClockSteppedBackAMomentTheRateLimitHeaderCountsToTheEndOfTheNewerMinute()
    {
        // An allowed answer's t is when its r comes back: the requests still count in 10:30, so not at 10:30:00.
        var (server, client) = await SteppedClockServerAsync("TwaBot:RateLimits:PerKeyPerMinute", limit: 10, used: 1);
        await using var _ = server;

        server.Step = TimeSpan.FromMinutes(-1);
        var response = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("\"minute\";r=8;t=75,", Assert.Single(response.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    /// <summary>A server whose clock can step back, with a key that has made <paramref name="used"/> requests this minute.</summary>
    private static async Task<(SteppedClockApiFactory Server, HttpClient Client)> SteppedClockServerAsync(string limitSetting, int limit, int used)
    {
        var server = new SteppedClockApiFactory(new Dictionary<string, string?> { [limitSetting] = limit.ToString(CultureInfo.InvariantCulture) });
        var (_, client, _) = await server.CreateTenantAsync();
        for (var i = 0; i < used; i++)
        {
            (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        }

        return (server, client);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
