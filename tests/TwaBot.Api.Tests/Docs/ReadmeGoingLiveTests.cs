using System.Text.Json;
using System.Text.RegularExpressions;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;
using static TwaBot.Api.Tests.Docs.ReadmeQuickstartTests;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// The README's going-live checklist, run as written with curl against a live-mode server whose Graph API is a
/// stand-in for Meta; only what the checklist tells the reader to fill in is substituted.
/// </summary>
public class ReadmeGoingLiveTests
{
    [Fact]
    public async Task TheGoingLiveCommandsConnectABusinessAndSendItsFirstMessage()
    {
        const string Wamid = "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSR09MSVZFMDEyMzQ1Njc4OTAA";
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        await using var meta = await FakeMetaUpstream.StartAsync();
        await using var server = LiveMode.Against(meta);
        using var probe = server.CreateClient();
        var url = probe.BaseAddress!.ToString().TrimEnd('/');
        string Fill(string block) => block.Replace("https://your-host", url, StringComparison.Ordinal)
            .Replace("your-webhook-verify-token", LiveMode.Settings()["TwaBot:Meta:VerifyToken"], StringComparison.Ordinal)
            .Replace("your-admin-key", TwaBotApiFactory.AdminKey, StringComparison.Ordinal)
            .Replace("EAAG…", "EAAGgoLiveToken0123456789", StringComparison.Ordinal);

        Assert.Equal("1158201444", await BashAsync(Fill(Block(readme, "golive:handshake"))));

        meta.Reply(FakeMetaUpstream.Json(200, """
            {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} of {{3}} is confirmed."}]}]}
            """));
        var business = Fill(Block(readme, "golive:business"));
        var answers = JsonLines(await BashAsync(business));
        Assert.Equal(3, answers.Count);
        Assert.Equal(1, answers[0].GetProperty("business").GetProperty("id").GetInt64());
        Assert.True(answers[1].GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
        Assert.Equal(1, answers[2].GetProperty("created").GetInt32());
        Assert.Contains(meta.Calls, c => c.PathAndQuery.Contains("/102290129340398/message_templates", StringComparison.Ordinal)
            && c.Authorization == "Bearer EAAGgoLiveToken0123456789");

        var adminLine = business.Split('\n')[0] + "\n";
        using var created = JsonDocument.Parse(await BashAsync(adminLine + Fill(Block(readme, "golive:key"))));
        var key = created.RootElement.GetProperty("api_key").GetProperty("key").GetString()!;
        Assert.StartsWith("twb_live_", key, StringComparison.Ordinal);

        meta.Reply(FakeMetaUpstream.Accepted(Wamid));
        var send = Fill(Block(readme, "golive:send")).Replace("twb_live_…", key, StringComparison.Ordinal);
        using var sent = JsonDocument.Parse(await BashAsync(send));
        Assert.True(sent.RootElement.GetProperty("success").GetBoolean(), sent.RootElement.ToString());
        Assert.Equal(Wamid, sent.RootElement.GetProperty("message_id").GetString());

        var status = send.Split('\n')[0] + "\n" + Fill(Block(readme, "golive:status")).Replace("wamid.HBgM…", Wamid, StringComparison.Ordinal);
        using (var before = JsonDocument.Parse(await BashAsync(status)))
        {
            Assert.Equal("sent", before.RootElement.GetProperty("delivery_status").GetString());
        }

        // Meta's status webhook, signed with the app secret, as the subscription of step 3 brings it.
        (await server.PostWebhookAsync(Delivery(Entry(MessagesChange("106540352242922",
            statuses: [Status(Wamid, "delivered", server.Clock.GetUtcNow())]))))).EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();
        using var followed = JsonDocument.Parse(await BashAsync(status));
        Assert.Equal("delivered", followed.RootElement.GetProperty("delivery_status").GetString());
    }

    private static List<JsonElement> JsonLines(string output) =>
        Regex.Split(output, @"(?<=\})(?=\{)").Select(part => JsonDocument.Parse(part).RootElement.Clone()).ToList();
}
