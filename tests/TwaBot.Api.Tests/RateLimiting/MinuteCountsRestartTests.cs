using System.Net;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary>
/// The per-minute counts survive a graceful restart within the minute (PRODUCT §2: counts survive a restart),
/// so a deploy mid-minute does not hand out a second minute's worth; a start in a later minute counts afresh.
/// </summary>
public class MinuteCountsRestartTests
{
    private static readonly Dictionary<string, string?> Limits = new()
    {
        ["TwaBot:RateLimits:GlobalPerMinute"] = "5",
        ["TwaBot:RateLimits:PerKeyPerMinute"] = "3",
    };

    /// <summary>
    /// Key A uses its 3 of the minute and key B none; then a second server on the same database after <paramref name="pause"/>
    /// (which leaves the database for a third when <paramref name="keptAt"/> names it).
    /// </summary>
    private static async Task<(TwaBotApiFactory Server, HttpClient A, HttpClient B)> RestartedAfterAsync(TimeSpan pause, string? keptAt = null)
    {
        var path = keptAt ?? Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        string keyA, keyB;
        DateTimeOffset stopped;
        await using (var first = new TwaBotApiFactory(Limits, databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            var businessId = await first.CreateBusinessAsync();
            (keyA, _) = await first.CreateApiKeyAsync(businessId);
            (keyB, _) = await first.CreateApiKeyAsync(businessId);
            using var a = first.CreateApiClient(keyA);
            for (var i = 0; i < 3; i++)
            {
                (await a.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
            }

            stopped = first.Clock.GetUtcNow(); // 10:30:45
        }

        var restarted = new TwaBotApiFactory(Limits, databasePath: path) { DeleteDatabaseOnDispose = keptAt is null };
        restarted.Clock.SetUtcNow(stopped + pause);
        return (restarted, restarted.CreateApiClient(keyA), restarted.CreateApiClient(keyB));
    }

    [Fact]
    public async Task ARestartWithinTheMinuteKeepsTheKeysAndTheGlobalCounts()
    {
        var (server, a, b) = await RestartedAfterAsync(TimeSpan.FromSeconds(5));
        await using var _ = server;

        var aAgain = await a.GetAsync("/api/v1/health");
        var bFirst = await b.GetAsync("/api/v1/health");
        var bSecond = await b.GetAsync("/api/v1/health");
        var bThird = await b.GetAsync("/api/v1/health"); // the server's 6th of the minute: over the global 5

        await aAgain.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
        Assert.Equal(HttpStatusCode.OK, bFirst.StatusCode);
        Assert.Equal(HttpStatusCode.OK, bSecond.StatusCode);
        await bThird.AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
    }

    [Fact]
    public async Task ASecondRestartWithinTheMinuteKeepsWhatTheRestartedServerCounted()
    {
        // The kept counts are taken once read: the restarted server keeps its own at its stop, B's two requests included.
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        var (restarted, _, b) = await RestartedAfterAsync(TimeSpan.FromSeconds(5), keptAt: path); // A used 3 of the global 5
        var keyB = Assert.Single(b.DefaultRequestHeaders.GetValues("X-API-Key"));
        DateTimeOffset stopped;
        await using (restarted)
        {
            (await b.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
            (await b.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
            stopped = restarted.Clock.GetUtcNow();
        }

        await using var again = new TwaBotApiFactory(Limits, databasePath: path);
        again.Clock.SetUtcNow(stopped + TimeSpan.FromSeconds(5)); // 10:30:55, still the same minute
        using var bAgain = again.CreateApiClient(keyB);

        await (await bAgain.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");
    }

    [Fact]
    public async Task AStopInALaterMinuteKeepsNoCountOfTheMinuteBefore()
    {
        // A used its 3 at 10:30:45 and nothing came after; the server stops at 10:31:05 and starts again at 10:31:10.
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        string keyA;
        DateTimeOffset stopped;
        await using (var first = new TwaBotApiFactory(Limits, databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            (keyA, _) = await first.CreateApiKeyAsync(await first.CreateBusinessAsync());
            using var a = first.CreateApiClient(keyA);
            for (var i = 0; i < 3; i++)
            {
                (await a.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
            }

            first.Clock.Advance(TimeSpan.FromSeconds(20));
            stopped = first.Clock.GetUtcNow();
        }

        await using var restarted = new TwaBotApiFactory(Limits, databasePath: path);
        restarted.Clock.SetUtcNow(stopped + TimeSpan.FromSeconds(5));
        using var aAgain = restarted.CreateApiClient(keyA);

        Assert.Equal(HttpStatusCode.OK, (await aAgain.GetAsync("/api/v1/health")).StatusCode);
    }

    [Fact]
    public async Task ARestartInALaterMinuteCountsAfresh()
    {
        var (server, a, _) = await RestartedAfterAsync(TimeSpan.FromSeconds(20)); // 10:31:05

        await using var _ = server;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await a.GetAsync("/api/v1/health")).StatusCode);
        }
    }
}
