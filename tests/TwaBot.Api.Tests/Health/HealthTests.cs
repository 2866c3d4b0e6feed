using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Health;

public class HealthTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task HealthHasTheSeedsShapePlusTheMode()
    {
        var businessId = await factory.CreateBusinessAsync(name: "Your Business Name");
        var (key, _) = await factory.CreateApiKeyAsync(businessId, name: "My CRM");
        using var client = factory.CreateApiClient(key);

        var json = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(["success", "business", "whatsapp_connected", "api_key_name", "timestamp", "mode"], json.PropertyNames());
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal("Your Business Name", json.GetProperty("business").GetString());
        Assert.False(json.GetProperty("whatsapp_connected").GetBoolean());
        Assert.Equal("My CRM", json.GetProperty("api_key_name").GetString());
        Assert.Equal("sandbox", json.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task TheTimestampIsUtcWithMilliseconds()
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var json = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(
            factory.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            json.GetProperty("timestamp").GetString());
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$", json.GetProperty("timestamp").GetString());
    }

    [Fact]
    public async Task AnyPermissionIsEnoughForHealth()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, _) = await factory.CreateApiKeyAsync(businessId, ["send_media"]);
        using var client = factory.CreateApiClient(key);

        var response = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

/// <summary>The same server in live mode (Production, Meta credentials, no sandbox).</summary>
public class LiveHealthTests : IAsyncLifetime
{
    private readonly TwaBotApiFactory _factory = LiveMode.Factory();

    [Fact]
    public async Task HealthSaysLiveAndKeysAreLiveKeys()
    {
        var (_, client, key) = await _factory.CreateTenantAsync();

        var json = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("live", json.GetProperty("mode").GetString());
        Assert.StartsWith("twb_live_", key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATestKeyIsRefusedByALiveServer()
    {
        using var client = _factory.CreateApiClient(TwaBot.Api.ApiKeys.ApiKeyFormat.Generate("twb_test_"));

        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
    }

    [Fact]
    public async Task ASandboxConnectionIsRefusedByALiveServer()
    {
        var businessId = await _factory.CreateBusinessAsync();
        using var admin = _factory.CreateAdminClient();

        var response = await admin.PutAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new StringContent("""{"sandbox":true}""", System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("sandbox", json.GetProperty("field").GetString());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}

public class LivenessTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task HealthzAnswersWithoutAKey()
    {
        using var client = factory.CreateClient();

        var json = await (await client.GetAsync("/healthz")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("healthy", json.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("TRACE")]
    public async Task HealthzAnswersOtherMethodsThanGetAndHeadWith405(string method)
    {
        using var client = factory.CreateClient();

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/healthz"));
        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));

        await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task HealthzFailsOnlyForWhatARestartCouldBeAboutNotForMetaOrALock()
    {
        // An orchestrator restarts a container whose check fails: Meta failing, or another process holding the write
        // lock for a while, must not do that (docs/operations.md, Health); a database file gone must show.
        await using var server = new TwaBotApiFactory();
        using var client = server.CreateClient();
        var tenant = await server.CreateSendingTenantAsync();
        for (var i = 0; i < 3; i++)
        {
            await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "91987654" + TwaBot.Api.Sandbox.MagicNumbers.ServerError, template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode); // Meta answering 5xx
        await using (await AnotherProcessLock.TakeAsync(server.DatabasePath))
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode); // locked: not waiting the busy timeout either
            // Half the busy timeout (30 s) a probe waiting for the lock would take: a loaded machine can stretch one request for seconds.
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15), $"{waited.Elapsed}");
        }

        File.Delete(server.DatabasePath);
        var gone = await client.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, gone.StatusCode);
        Assert.Equal("unhealthy", (await gone.ReadJsonAsync(HttpStatusCode.ServiceUnavailable)).GetProperty("status").GetString());
    }
}
