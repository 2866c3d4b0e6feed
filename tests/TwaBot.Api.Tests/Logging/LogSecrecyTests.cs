using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// Runs requests that carry every kind of secret through a server logging at Verbose for all
/// sources (ASP.NET's own "Request starting …?apikey=…" line included) and checks none is in any log line.
/// </summary>
public class LogSecrecyTests : IAsyncLifetime
{
    private const string MetaToken = "EAAGm0PX4ZCpsBAsentinelAccessToken0123456789";
    private readonly TwaBotApiFactory _factory = new(new Dictionary<string, string?>
    {
        ["Serilog:MinimumLevel:Default"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
        ["Serilog:MinimumLevel:Override:System"] = "Verbose",
    });

    [Fact]
    public async Task NoSecretAppearsInAnyLogLine()
    {
        var businessId = await _factory.CreateBusinessAsync();
        var (key, _) = await _factory.CreateApiKeyAsync(businessId);
        using var admin = _factory.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = MetaToken })).EnsureSuccessStatusCode();
        using var anonymous = _factory.CreateClient();
        using var api = _factory.CreateApiClient(key);

        (await api.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        await anonymous.GetAsync($"/api/v1/quick-send?apikey={key}&phone=919876543210&message=hi");
        await anonymous.GetAsync($"/api/v1/health?apikey={key}");
        await anonymous.GetAsync($"/nowhere?apikey={key}");

        var logs = _factory.Logs.AllText();
        Assert.Contains("Request starting", logs, StringComparison.Ordinal); // the framework line really was captured
        Assert.Contains("/api/v1/health", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(key[9..], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TwaBotApiFactory.AdminKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(MetaToken, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EachRequestIsOneStructuredLine()
    {
        var (_, client, _) = await _factory.CreateTenantAsync();

        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        var line = Assert.Single(_factory.Logs.Events, e =>
            e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["RequestPath"].ToString() == "\"/api/v1/health\"");
        Assert.Equal("200", line.Properties["StatusCode"].ToString());
        Assert.True(line.Properties.ContainsKey("ApiKeyId"));
        Assert.True(line.Properties.ContainsKey("BusinessId"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
