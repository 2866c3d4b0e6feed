using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;

namespace TwaBot.Api.Tests.Configuration;

/// <summary>
/// PRODUCT §7's settings, each read where it matters: a value other than the default changes what the server does
/// (a default written into the code instead of read would pass a test of the default alone).
/// </summary>
public class ConfiguredSettingsTests
{
    [Fact]
    public async Task ANewBusinessGetsTheConfiguredDefaultTimeZone()
    {
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:DefaultTimeZone"] = "Europe/London" });
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var json = await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("Europe/London", json.GetProperty("business").GetProperty("time_zone").GetString());
    }

    [Theory]
    [InlineData("Growth", " Upgrade to Pro for higher limits.")]
    [InlineData("Pro", "")]
    public async Task EachPlansDailyLimitComesFromItsSetting(string plan, string upgrade)
    {
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { [$"TwaBot:Plans:{plan}:DailyLimit"] = "2" });
        var tenant = await factory.CreateSendingTenantAsync(plan: plan);

        var answers = new List<HttpResponseMessage>();
        foreach (var phone in new[] { "919876541001", "919876541002", "919876541003" })
        {
            answers.Add(await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } }));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], answers.Take(2).Select(a => a.StatusCode));
        var json = await answers[2].AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal($"Daily send limit reached (2/day on {plan} plan). Resets at midnight.{upgrade}", json.GetProperty("error").GetString());
        Assert.Equal((2, plan), (json.GetProperty("daily_limit").GetInt32(), json.GetProperty("plan").GetString()));
    }

    [Fact]
    public async Task LiveModeCallsMetaAtTheConfiguredGraphVersion()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"data":[]}"""));
        await using var live = LiveMode.Against(meta, new Dictionary<string, string?> { ["TwaBot:Meta:GraphVersion"] = "v21.0" });
        var businessId = await live.CreateBusinessAsync();
        using var admin = live.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = "EAAGtesttoken" })).EnsureSuccessStatusCode();

        (await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null)).EnsureSuccessStatusCode();

        Assert.StartsWith("/v21.0/102290129340398/message_templates?", Assert.Single(meta.Calls).PathAndQuery, StringComparison.Ordinal);
        Assert.StartsWith("/v21.0/102290129340398/phone_numbers?", Assert.Single(meta.NumberListCalls).PathAndQuery, StringComparison.Ordinal); // the connect's check
    }

    [Fact]
    public async Task TheConfiguredAppSecretSignsTheEmulatorsWebhooksAndVerifiesMetas()
    {
        const string Secret = "configured-app-secret-0123456789";
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Meta:AppSecret"] = Secret });
        var tenant = await factory.CreateSendingTenantAsync();
        var body = """{"object":"whatsapp_business_account","entry":[]}"""u8.ToArray();
        using var client = factory.CreateClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)));

        var delivery = await client.PostAsync("/webhooks/meta", content);
        var sent = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876541004", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } })).ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();

        Assert.Equal(HttpStatusCode.OK, delivery.StatusCode);
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("read", status.GetProperty("delivery_status").GetString());
    }

    [Fact]
    public async Task ALiveServerAnswersMetasHandshakeWithTheConfiguredVerifyTokenOnly()
    {
        await using var live = LiveMode.Factory();
        using var client = live.CreateClient();

        var configured = await client.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=live-verify-token&hub.challenge=1158201444");
        var sandboxToken = await client.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token&hub.challenge=1158201444");

        Assert.Equal("1158201444", await configured.Content.ReadAsStringAsync());
        await sandboxToken.AssertErrorAsync(HttpStatusCode.Forbidden, "WEBHOOK_VERIFICATION_FAILED");
    }

    [Theory]
    [InlineData("POST", "/sandbox/v1/inbound")]
    [InlineData("GET", "/sandbox/graph/v23.0/102290129340398/message_templates")]
    [InlineData("POST", "/sandbox/graph/v23.0/106540352242922/messages")]
    public async Task ALiveServerMountsNoMetaEmulator(string method, string path)
    {
        await using var live = LiveMode.Factory();
        using var admin = live.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { business_id = 1, from = "919876543210", text = "Hi" });
        }

        var response = await admin.SendAsync(request);

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }
}
