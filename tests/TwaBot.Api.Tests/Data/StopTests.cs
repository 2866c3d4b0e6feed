using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Sending;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;
using TwaBot.Api.Tests.Webhooks;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>A stop (SIGTERM from Docker or systemd) is a clean exit whenever it comes, and leaves nothing to repair.</summary>
public sealed class StopTests : IDisposable
{
    private readonly TemporaryDatabase _database = new();

    [Fact]
    public async Task ASigtermWhileStartingIsACleanExitNotACrash()
    {
        // Held in start-up: migrations pending, and EF's migration lock freshly taken by "another" server.
        await using (var old = new TwaBotDbContext(_database.ContextOptions()))
        {
            await old.GetService<IMigrator>().MigrateAsync("20261126045008_TimeOrderedWebhookKey");
        }

        await _database.LeaveMigrationLockRowAsync(takenAt: DateTimeOffset.UtcNow);
        await using var server = ServerProcess.Launch(databasePath: _database.Path);
        // Its server-lock file is taken in start-up's first step, after the host listens for SIGTERM; from then on it
        // waits for the migration lock (which a fixed delay could not tell on a loaded machine: a stop before the host
        // listens is the runtime's own exit 143, not the one tested here).
        await Poll.UntilAsync(() => File.Exists(DatabaseOwnership.LockPathOf(_database.Path)), "the server-lock file", Poll.ProcessStartLimit);

        await Task.Delay(TimeSpan.FromMilliseconds(500)); // into the wait for the migration lock

        var exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{server.Output}");
        Assert.DoesNotContain("Unhandled exception", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", server.Output, StringComparison.Ordinal); // the host's line, with a stack trace
        Assert.Contains("stopped while starting", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASendAtMetaWhenTheStopComesGetsMetasAnswerAndItsRowThoughMetaTakesLongerThanTheHostsOwnWait()
    {
        const string appSecret = "stop-test-app-secret";
        const string wamid = "wamid.answered-during-the-stop";
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200,
            $$"""{"messaging_product":"whatsapp","contacts":[{"input":"919812345671","wa_id":"919812345671"}],"messages":[{"id":"{{wamid}}"}]}""",
            delay: TimeSpan.FromSeconds(5)));
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["TwaBot__AdminKey"] = TwaBotApiFactory.AdminKey,
            ["TwaBot__Sandbox__Enabled"] = "false",
            ["TwaBot__Meta__AppSecret"] = appSecret,
            ["TwaBot__Meta__VerifyToken"] = "live-verify-token",
            ["TwaBot__Meta__GraphBaseUrl"] = meta.GraphBaseUrl.ToString(),
            ["TwaBot__Meta__Resilience__AttemptTimeoutSeconds"] = "10",
            ["TwaBot__Meta__Resilience__TotalTimeoutSeconds"] = "10",
            // The host's own wait for requests under way (30 s by default, beside Meta's 20), shorter than Meta's answer takes.
            ["shutdownTimeoutSeconds"] = "1",
        }, _database.Path);
        using var admin = server.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", TwaBotApiFactory.AdminKey);
        var businessId = (await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro" }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business").GetProperty("id").GetInt64();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp", new
        {
            phone_number_id = FakeMetaUpstream.Connection.PhoneNumberId, waba_id = FakeMetaUpstream.Connection.WabaId, access_token = "EAAGtesttoken",
        })).EnsureSuccessStatusCode();
        var key = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new { name = "CRM", permissions = new[] { "*" } }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("key").GetString()!;

        // The customer writes first, so a text may go (the 24-hour window).
        var inbound = System.Text.Encoding.UTF8.GetBytes(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(
            FakeMetaUpstream.Connection.PhoneNumberId, messages: [MetaPayloads.Text("wamid.customer-hi", "919812345671", "Hi", DateTimeOffset.UtcNow)]))).ToJsonString());
        using (var content = new ByteArrayContent(inbound))
        {
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            content.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Sign(inbound, appSecret));
            (await admin.PostAsync("/webhooks/meta", content)).EnsureSuccessStatusCode();
        }

        await Poll.UntilAsync(
            async () => Convert.ToInt64(await _database.ScalarAsync("SELECT count(*) FROM inbound_messages"), System.Globalization.CultureInfo.InvariantCulture) > 0,
            "the customer's message to be stored");

        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", key);
        var send = client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919812345671", message = "Your order has shipped" });
        await Poll.UntilAsync(() => meta.Calls.Any(c => c.PathAndQuery.EndsWith("/messages", StringComparison.Ordinal)), "the send to reach Meta before the stop");
        var exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(30));

        var json = await (await send).ReadJsonAsync(HttpStatusCode.OK); // not a connection cut at the host's 1 s
        Assert.Equal(wamid, json.GetProperty("message_id").GetString());
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{server.Output}");
        Assert.Equal("success", await _database.ScalarAsync($"SELECT api_status FROM messages WHERE wamid = '{wamid}'"));
        Assert.DoesNotContain("ObjectDisposedException", server.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(30, 20, 30)]  // the defaults: the host's 30 s already covers Meta's 20 and the writes
    [InlineData(30, 60, 70)]  // a longer Meta timeout lengthens the wait
    [InlineData(120, 20, 120)] // an operator's longer shutdownTimeoutSeconds stays
    public void AStopWaitsForASendAtMetaAndItsWrites(int hostSeconds, int metaTotalSeconds, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), SendApi.StopWait(
            TimeSpan.FromSeconds(hostSeconds), new MetaResilienceOptions { TotalTimeoutSeconds = metaTotalSeconds }));

    public void Dispose() => _database.Dispose();
}
