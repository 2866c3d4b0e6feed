using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Meta;

/// <summary>
/// Businesses share one server: one business's bad day at Meta (its number slow, hanging, refusing its token) must not
/// become another's. Proved by order, not by time: the first business's calls are held at Meta while the other's complete.
/// </summary>
public partial class LiveMetaAnswersTests
{
    private const string NeighbourNumber = "106540352249999";

    /// <summary>A second business on the same server, with a number and WABA of its own, connected and synced; its key's client.</summary>
    private static async Task<HttpClient> NeighbourAsync(LiveMeta live)
    {
        var neighbour = await live.Server.CreateBusinessAsync(name: "Beta Traders");
        live.Meta.PhoneNumbers[NeighbourNumber] = "+1 631-555-0199";
        (await live.Admin.PutAsJsonAsync($"/admin/v1/businesses/{neighbour}/whatsapp",
            new { phone_number_id = NeighbourNumber, waba_id = "102290129349999", access_token = "EAAGneighbourToken0123456789" })).EnsureSuccessStatusCode();
        live.Meta.Reply(FakeMetaUpstream.Json(200, LiveMeta.Templates));
        (await live.Admin.PostAsync($"/admin/v1/businesses/{neighbour}/templates/sync", null)).EnsureSuccessStatusCode();
        live.Meta.Calls.Clear();
        return live.Server.CreateApiClient((await live.Server.CreateApiKeyAsync(neighbour)).Key);
    }

    /// <summary>Meta accepting each send with a wamid of its own.</summary>
    private static Func<HttpContext, Task> EachAccepted(string prefix)
    {
        var sent = 0;
        return context => FakeMetaUpstream.Accepted($"wamid.{prefix}{Interlocked.Increment(ref sent)}")(context);
    }

    private static int SendsAtMeta(LiveMeta live, string number) =>
        live.Meta.Calls.Count(c => c.PathAndQuery.EndsWith($"/{number}/messages", StringComparison.Ordinal));

    private static Task<HttpResponseMessage> SendFromAsync(HttpClient client, int i, CancellationToken cancellationToken = default) =>
        client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "+91987651" + (1000 + i), template_name = "order_confirmation", body_params = new[] { "Rahul", "#" + i } }, cancellationToken);

    /// <summary>
    /// One business's CRM sends 60 messages at once to a number whose answers Meta holds (half its callers hang up while
    /// they wait); another business's 20 sends are all answered meanwhile, while every one of the first's is still at Meta.
    /// Once Meta answers, each held send gets its row, those whose caller left included.
    /// </summary>
    [Fact]
    public async Task AnotherBusinesssSendsAreAnsweredWhileOneNumbersSendsAreHeldAtMeta()
    {
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 60, settings: new Dictionary<string, string?>(AtVolume)
        {
            ["TwaBot:Meta:Resilience:TotalTimeoutSeconds"] = "120",
        });
        using var neighbour = await NeighbourAsync(live);
        var held = new HeldAnswer(EachAccepted("held"));
        live.Meta.SendRepliesByNumber[PhoneNumberId] = held.Reply;
        live.Meta.SendRepliesByNumber[NeighbourNumber] = EachAccepted("neighbour");
        const int Flood = 60;
        using var hangUp = new CancellationTokenSource();
        var floodSends = Enumerable.Range(0, Flood).Select(i => SendFromAsync(live.Client, i, i % 2 == 0 ? hangUp.Token : default)).ToList();
        try
        {
            await Poll.UntilAsync(() => SendsAtMeta(live, PhoneNumberId) == Flood, "every send of the flood at Meta", Poll.SlowWorkLimit);
            await hangUp.CancelAsync();

            var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => SendFromAsync(neighbour, i)))
                .WaitAsync(Poll.SlowWorkLimit); // below the held calls' 60 s: behind them, these would wait for them

            Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
            Assert.Equal(20, SendsAtMeta(live, NeighbourNumber));
            Assert.DoesNotContain(floodSends.Where((_, i) => i % 2 == 1), s => s.IsCompleted); // all still held at Meta
        }
        finally
        {
            held.Release();
        }

        foreach (var stayed in floodSends.Where((_, i) => i % 2 == 1))
        {
            Assert.Equal(HttpStatusCode.OK, (await stayed).StatusCode);
        }

        // The callers who left: Meta accepted their sends, so their rows say so.
        await Poll.UntilAsync(async () => await CountRowsAsync(live, TwaBot.Api.Messages.ApiStatuses.Success) == Flood + 20,
            "every accepted send's row", Poll.SlowWorkLimit);
    }

    /// <summary>
    /// Meta refuses one number's token (190) to 30 sends at once: that business's health says so, while another business's
    /// health still says connected and its sends go through (refusals are kept per number).
    /// </summary>
    [Fact]
    public async Task OneNumbersRefusedTokenLeavesAnotherBusinesssSendsAndHealthAsTheyWere()
    {
        await using var live = await LiveMeta.StartAsync(settings: AtVolume);
        using var neighbour = await NeighbourAsync(live);
        live.Meta.SendRepliesByNumber[PhoneNumberId] = FakeMetaUpstream.Error(401, 190, "Error validating access token: Session has expired");
        live.Meta.SendRepliesByNumber[NeighbourNumber] = EachAccepted("neighbour");

        var refused = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => SendFromAsync(live.Client, i)));
        var sent = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => SendFromAsync(neighbour, i)));

        foreach (var answer in refused)
        {
            Assert.Equal("WHATSAPP_NOT_CONNECTED", (await answer.ReadJsonAsync(answer.StatusCode)).GetProperty("error_code").GetString());
        }

        Assert.All(sent, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.False(await live.HealthSaysConnectedAsync());
        var health = await (await neighbour.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.True(health.GetProperty("whatsapp_connected").GetBoolean());
    }
}
