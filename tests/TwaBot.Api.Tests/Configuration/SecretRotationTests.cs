using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Configuration;

/// <summary>
/// The secrets that live in configuration (the admin key, the app secret, the verify token) are replaced by a restart
/// with the new value, as docs/operations.md (Rotating secrets) says: nothing stored is lost, the old value is refused
/// (the admin key's only once TwaBot:PreviousAdminKey no longer names it).
/// </summary>
public sealed class SecretRotationTests : IDisposable
{
    private const string PhoneNumberId = "106540352242922";
    private readonly string _databasePath = Path.Combine(Path.GetTempPath(), $"twabot-test-rotation-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task AfterARestartWithANewAdminKeyTheOldIsRefusedAndTheNewSeesEverything()
    {
        const string newKey = "new-admin-key-fedcba9876543210";
        long businessId;
        await using (var first = Server(new() { ["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey }))
        {
            businessId = await first.CreateBusinessAsync();
        }

        await using var second = Server(new() { ["TwaBot:AdminKey"] = newKey });
        using var old = second.CreateAdminClient();
        using var renewed = second.CreateClient();
        renewed.DefaultRequestHeaders.Add("X-Admin-Key", newKey);

        await (await old.GetAsync($"/admin/v1/businesses/{businessId}")).AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync($"/admin/v1/businesses/{businessId}")).StatusCode);
    }

    [Fact]
    public async Task DuringARotationThePreviousAdminKeyStillWorksAndItsCallsAreLogged()
    {
        const string oldKey = TwaBotApiFactory.AdminKey, newKey = "new-admin-key-fedcba9876543210";
        await using var server = Server(new() { ["TwaBot:AdminKey"] = newKey, ["TwaBot:PreviousAdminKey"] = oldKey });
        using var old = server.CreateAdminClient();
        using var renewed = server.CreateClient();
        renewed.DefaultRequestHeaders.Add("X-Admin-Key", newKey);
        using var wrong = server.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-Admin-Key", "other-admin-key-0123456789");

        var businessId = await server.CreateBusinessAsync(); // with the previous key
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync($"/admin/v1/businesses/{businessId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync($"/admin/v1/businesses/{businessId}")).StatusCode);
        await (await wrong.GetAsync($"/admin/v1/businesses/{businessId}")).AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");

        // One warning in the minute however often a script calls; every request line of the old key is marked.
        var warnings = server.Logs.Events.Where(e => e.Level == Serilog.Events.LogEventLevel.Warning
            && e.MessageTemplate.Text.Contains("used TwaBot:PreviousAdminKey", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings);
        var lines = server.Logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["RequestPath"].ToString().Contains("/admin/v1/businesses", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal(2, lines.Count(e => e.Properties.TryGetValue("AdminKey", out var key) && key.ToString() == "\"previous\""));
        var text = string.Join('\n', server.Logs.Events.Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.DoesNotContain(oldKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain(newKey, text, StringComparison.Ordinal);

        server.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync($"/admin/v1/businesses/{businessId}")).StatusCode);
        Assert.Equal(2, server.Logs.Events.Count(e => e.MessageTemplate.Text.Contains("used TwaBot:PreviousAdminKey", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DeliveriesSignedWithANewAppSecretAreRefusedUntilTheRestartThenMetasRedeliveryIsApplied()
    {
        const string oldSecret = "old-app-secret-0123456789abcdef", newSecret = "new-app-secret-fedcba9876543210";
        var before = Delivery(Entry(MessagesChange(PhoneNumberId, messages: [Text("wamid.before-reset", "919876543210", "Hi", TwaBotApiFactory.Start)])));
        var after = Delivery(Entry(MessagesChange(PhoneNumberId, messages: [Text("wamid.after-reset", "919876543211", "Hi", TwaBotApiFactory.Start)])));
        // The connect asks Meta for the WABA's numbers, so Meta is a fake that lists this one.
        await using var meta = await Meta.FakeMetaUpstream.StartAsync();
        meta.PhoneNumbers[PhoneNumberId] = "+1 555-078-3881";
        await using (var first = Server(new() { ["TwaBot:Meta:AppSecret"] = oldSecret, ["TwaBot:Meta:GraphBaseUrl"] = meta.GraphBaseUrl.ToString() }, onSockets: true))
        {
            var businessId = await first.CreateBusinessAsync();
            await first.ConnectWhatsAppAsync(businessId, PhoneNumberId);
            // Acknowledged just before the stop, whether or not the processor got to it: the next start has it.
            (await first.PostWebhookAsync(before)).EnsureSuccessStatusCode();

            // Meta has reset the secret: its deliveries are refused (Meta keeps them and tries again), not stored.
            var refused = await first.PostWebhookAsync(after.ToJsonString(), Sign(after, newSecret));

            await refused.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_SIGNATURE");
            Assert.False(await first.IsStoredAsync(Encoding.UTF8.GetBytes(after.ToJsonString())));
            Assert.Contains(first.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Warning
                && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Contains("TwaBot:Meta:AppSecret is not the Meta app's secret", StringComparison.Ordinal));
        }

        await using var second = Server(new() { ["TwaBot:Meta:AppSecret"] = newSecret });
        (await second.PostWebhookAsync(after.ToJsonString(), Sign(after, newSecret))).EnsureSuccessStatusCode(); // Meta's retry
        await (await second.PostWebhookAsync(after.ToJsonString(), Sign(after, oldSecret))).AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_SIGNATURE");
        await second.ApplyWebhooksAsync();

        await second.WithDbAsync(async db => Assert.Equal(["wamid.after-reset", "wamid.before-reset"],
            await db.InboundMessages.OrderBy(m => m.Wamid).Select(m => m.Wamid).ToListAsync()));
    }

    [Fact]
    public async Task AfterARestartWithANewVerifyTokenOnlyItPassesTheHandshake()
    {
        await using (var first = Server(new() { ["TwaBot:Meta:VerifyToken"] = "old-verify-token" }))
        {
            using var client = first.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Handshake("old-verify-token"))).StatusCode);
        }

        await using var second = Server(new() { ["TwaBot:Meta:VerifyToken"] = "new-verify-token" });
        using var renewed = second.CreateClient();

        Assert.Equal("42", await (await renewed.GetAsync(Handshake("new-verify-token"))).Content.ReadAsStringAsync());
        await (await renewed.GetAsync(Handshake("old-verify-token"))).AssertErrorAsync(HttpStatusCode.Forbidden, "WEBHOOK_VERIFICATION_FAILED");
    }

    public void Dispose() => DatabaseFiles.Delete(_databasePath);

    private static string Handshake(string token) => $"{WebhooksApi.Path}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=42";

    private static string Sign(System.Text.Json.Nodes.JsonNode body, string secret) => WebhookSignature.Sign(Encoding.UTF8.GetBytes(body.ToJsonString()), secret);

    /// <summary>A live-mode server on this test's database, started; the file stays for the next one.</summary>
    /// <summary>A live server on the test's database; <paramref name="onSockets"/>: on Kestrel, so that its Meta client calls a fake Meta.</summary>
    private TwaBotApiFactory Server(Dictionary<string, string?> settings, bool onSockets = false)
    {
        var all = LiveMode.Settings();
        foreach (var (name, value) in settings)
        {
            all[name] = value;
        }

        var server = new TwaBotApiFactory(all, environment: "Production", _databasePath) { DeleteDatabaseOnDispose = false };
        if (onSockets)
        {
            server.UseKestrel(0);
        }

        server.StartServer();
        return server;
    }
}
