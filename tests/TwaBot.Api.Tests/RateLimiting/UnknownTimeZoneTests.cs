using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary>
/// A business's stored time zone this host's tz database lacks (an older name such as Asia/Calcutta on a host without
/// tzdata-legacy, a database moved from another host): its sends go on, counted by UTC days, and each start says so.
/// </summary>
public class UnknownTimeZoneTests
{
    private const string Unknown = "Mars/Olympus_Mons";

    [Fact]
    public async Task ABusinessWhoseZoneTheHostLacksSendsCountedByUtcDaysAndTheStartNamesIt()
    {
        using var database = new TemporaryDatabase();
        long businessId;
        string key;
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            var tenant = await first.CreateSendingTenantAsync();
            (businessId, key) = (tenant.BusinessId, tenant.Key);
            await first.WithDbAsync(db => db.Businesses.Where(b => b.Id == businessId).ExecuteUpdateAsync(s => s.SetProperty(b => b.TimeZone, Unknown)));
        }

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var client = server.CreateApiClient(key);

        var sent = await client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });

        await sent.ReadJsonAsync(HttpStatusCode.OK);
        // 10:30:45 UTC: the UTC day has 48,555 seconds left.
        Assert.EndsWith("\"day\";r=4999;t=48555", Assert.Single(sent.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
        var logs = server.Logs.AllText();
        Assert.Contains($"Time zone \"{Unknown}\" of business \"{businessId}\" is not in this host's time-zone database", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStartNamesOnlyTheZonesTheHostLacks()
    {
        // The line is an error an operator is told to act on: a business in a zone the host has is no business of it.
        using var database = new TemporaryDatabase();
        long unknownZone;
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            await first.CreateBusinessAsync(); // in the server's zone
            unknownZone = await first.CreateBusinessAsync();
            await first.WithDbAsync(db => db.Businesses.Where(b => b.Id == unknownZone).ExecuteUpdateAsync(s => s.SetProperty(b => b.TimeZone, Unknown)));
        }

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var admin = server.CreateAdminClient(); // starts the server

        var named = Assert.Single(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Time zone {TimeZone} of business", StringComparison.Ordinal));
        Assert.Equal($"\"{Unknown}\"", named.Properties["TimeZone"].ToString());
    }

    [Theory]
    [InlineData(10, "")]
    [InlineData(11, " and 1 more")]
    public async Task TheStartNamesTenBusinessesOfTheZoneAndCountsTheRest(int businesses, string rest)
    {
        // A line naming ten thousand businesses would be unreadable: ten, in id order, and how many more.
        using var database = new TemporaryDatabase();
        var ids = new List<long>();
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            for (var i = 0; i < businesses; i++)
            {
                ids.Add(await first.CreateBusinessAsync());
            }

            await first.WithDbAsync(db => db.Businesses.Where(b => ids.Contains(b.Id)).ExecuteUpdateAsync(s => s.SetProperty(b => b.TimeZone, Unknown)));
        }

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var admin = server.CreateAdminClient(); // starts the server

        Assert.Contains($"Time zone \"{Unknown}\" of business \"{string.Join(", ", ids.Order().Take(10))}{rest}\" is not", server.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ItsBusinessCanBeRenamedWithTheStoredZoneSentBackAndMovedToACurrentOne()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.WithDbAsync(db => db.Businesses.Where(b => b.Id == tenant.BusinessId).ExecuteUpdateAsync(s => s.SetProperty(b => b.TimeZone, Unknown)));
        using var admin = server.CreateAdminClient();
        var path = $"/admin/v1/businesses/{tenant.BusinessId}";

        // A form that sends every field sends the stored zone back unchanged: no change to refuse.
        (await admin.PatchAsJsonAsync(path, new { name = "Renamed", time_zone = Unknown })).EnsureSuccessStatusCode();
        var refused = await (await admin.PatchAsJsonAsync(path, new { time_zone = "Mars/Olympus" })).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains("this server's time-zone database", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        (await admin.PatchAsJsonAsync(path, new { time_zone = "Asia/Kolkata" })).EnsureSuccessStatusCode();

        await server.WithDbAsync(async db => Assert.Equal(("Renamed", "Asia/Kolkata"),
            await db.Businesses.Where(b => b.Id == tenant.BusinessId).Select(b => new ValueTuple<string, string>(b.Name, b.TimeZone)).SingleAsync()));
    }
}
