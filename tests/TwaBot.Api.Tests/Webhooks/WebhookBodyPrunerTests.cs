using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>Raw bodies of deliveries applied long ago are dropped; their keys stay, so a replay is still a no-op.</summary>
public class WebhookBodyPrunerTests
{
    [Fact]
    public async Task BodiesAppliedLongerAgoThanConfiguredAreDroppedAndAReplayIsStillSkipped()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Webhooks:KeepBodiesDays"] = "1" });
        var businessId = await server.CreateBusinessAsync();
        var phoneNumberId = await server.ConnectWhatsAppAsync(businessId);
        var old = Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.old", "919812345678", "STOP", server.Clock.GetUtcNow())]))).ToJsonString();
        const string unreadable = "{\"entry\": [ not json";
        await server.PostWebhookAsync(old);
        await server.PostWebhookAsync(unreadable);
        await server.ApplyWebhooksAsync();
        server.Clock.Advance(TimeSpan.FromHours(25)); // (each periodic timer of the server fires for every period passed)
        var recent = Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.recent", "919812345678", "Hi", server.Clock.GetUtcNow())]))).ToJsonString();
        await server.PostWebhookAsync(recent);
        await server.ApplyWebhooksAsync();

        await server.Services.GetRequiredService<WebhookBodyPruner>().PruneAsync(); // (the hourly run may have been first)
        var replay = await server.PostWebhookAsync(old);
        await server.ApplyWebhooksAsync();

        Assert.Equal(System.Net.HttpStatusCode.OK, replay.StatusCode);
        Assert.Equal(1, await server.MovedCountAsync(Encoding.UTF8.GetBytes(old))); // the replay was recognised: still one row
        await server.WithDbAsync(async db =>
        {
            var bodies = await db.WebhookEvents.OrderBy(e => e.Id).Select(e => e.Body.Length).ToListAsync();
            Assert.Equal(0, bodies[0]);                                    // applied 25 hours ago: dropped
            Assert.Equal(Encoding.UTF8.GetByteCount(unreadable), bodies[1]); // never applied: kept
            Assert.Equal(Encoding.UTF8.GetByteCount(recent), bodies[2]);     // applied just now: kept
            Assert.Equal(1, await db.InboundMessages.CountAsync(m => m.Wamid == "wamid.old"));
        });
    }

    [Fact]
    public async Task ALargeBacklogIsDroppedInBatches()
    {
        await using var server = new TwaBotApiFactory();
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
            INSERT INTO webhook_events (received_at, event_time, body_sha256, body, applied_at, attempts)
            SELECT '2020-01-01 00:00:00', i, randomblob(32), x'7b7d', '2020-01-01 00:00:00', 1 FROM n
            """));

        await server.Services.GetRequiredService<WebhookBodyPruner>().PruneAsync(); // (or the start-up run, if it came later)

        var empty = Array.Empty<byte>();
        await server.WithDbAsync(async db => Assert.False(await db.WebhookEvents.AnyAsync(e => e.Body != empty)));
    }
}
