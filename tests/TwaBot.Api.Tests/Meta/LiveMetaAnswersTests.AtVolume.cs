using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TwaBot.Api.Metrics;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Meta;

/// <summary>
/// A CRM sending dozens of messages at once while Meta has a bad day: what each client gets, what reaches Meta, the rows,
/// the daily cap and the operator's metrics, for each way Meta fails at volume.
/// </summary>
public partial class LiveMetaAnswersTests
{
    /// <summary>Per-minute limits out of the way (the bursts are the point), the breaker's pause short, the backoff too.</summary>
    private static readonly Dictionary<string, string?> AtVolume = new()
    {
        ["TwaBot:RateLimits:PerKeyPerMinute"] = "100000",
        ["TwaBot:RateLimits:GlobalPerMinute"] = "100000",
        ["TwaBot:Meta:Resilience:BreakerBreakSeconds"] = "1",
        ["TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds"] = "10",
    };

    /// <summary>
    /// Meta (or what answers at its address) answers 200 without a message id for some sends: each of those callers gets the
    /// "outcome unknown" 502 with our id, and the operator's metrics counted the call <c>ok</c>, so the alert operations.md
    /// suggests (outcome <c>unavailable</c>) never fired while clients got 502s.
    /// </summary>
    [Fact]
    public async Task ATwoHundredWithoutAMessageIdIsCountedAsUnavailableNotOk()
    {
        await using var live = await LiveMeta.StartAsync(settings: AtVolume);
        using var calls = new MetricCollector<long>(live.Server.Services.GetRequiredService<IMeterFactory>(), TwaBotMetrics.MeterName, "twabot.meta.calls");
        string[] broken = ["", "{not json", """{"messaging_product":"whatsapp","messages":[]}""", """{"messaging_product":"whatsapp","messages":[{"status":"accepted"}]}"""];
        for (var i = 0; i < 40; i++)
        {
            live.Meta.Reply(i % 2 == 0 ? FakeMetaUpstream.Json(200, broken[i / 2 % broken.Length]) : FakeMetaUpstream.Accepted("wamid.volume" + i));
        }

        var answers = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => SendAtVolumeAsync(live, i, key: i % 3 == 0 ? "key-" + i : null)));

        Assert.Equal(20, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        foreach (var unknown in answers.Where(a => a.StatusCode != HttpStatusCode.OK))
        {
            var body = await unknown.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
            Assert.StartsWith("twb:", body.GetProperty("message_id").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(40, live.Meta.Calls.Count);
        Assert.Equal(20, await CountRowsAsync(live, "pending"));
        var unreadable = live.Server.Logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("Meta answered HTTP", StringComparison.Ordinal)).ToList();
        Assert.Equal(20, unreadable.Count);
        Assert.All(unreadable, e => Assert.Contains(PhoneNumberId, e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Equal(
            [("ok", 20L), ("unavailable", 20L)],
            calls.GetMeasurementSnapshot().GroupBy(m => (string)m.Tags["twabot.meta.outcome"]!).Select(g => (g.Key, g.Sum(m => m.Value))).OrderBy(o => o.Key));
    }

    private static async Task<HttpResponseMessage> SendAtVolumeAsync(LiveMeta live, int i, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
        {
            Content = JsonContent.Create(new { phone = "+91987650" + (1000 + i), template_name = "order_confirmation", body_params = new[] { "Rahul", "#" + i } }),
        };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return await live.Client.SendAsync(request);
    }

    private static async Task<int> CountRowsAsync(LiveMeta live, string apiStatus)
    {
        var count = 0;
        await live.Server.WithDbAsync(async db => count = await db.Messages.CountAsync(m => m.ApiStatus == apiStatus));
        return count;
    }
}
