using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.ApiKeys;

/// <summary>A CRM moves from its key to a new one, as docs/operations.md (Rotating secrets) tells the operator.</summary>
public class ApiKeyRotationTests
{
    private static readonly object Order = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    [Fact]
    public async Task BothKeysSendDuringTheOverlapAndTheOldIsRefusedAtOnceWhenRevokedThoughItWasCached()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        using var admin = server.CreateAdminClient();
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 2 });
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode); // cached now
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);

        var (newKey, newKeyId) = await server.CreateApiKeyAsync(tenant.BusinessId, name: "My CRM 2026-12");
        using var renewed = server.CreateApiClient(newKey);

        // The old key's day is full; the new one counts its own day, with its own limits.
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).AssertErrorAsync((HttpStatusCode)429, "DAILY_LIMIT_REACHED");
        Assert.Equal(HttpStatusCode.OK, (await renewed.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
        var health = await (await renewed.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("My CRM 2026-12", health.GetProperty("api_key_name").GetString()); // how a CRM checks it switched
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/health")).StatusCode); // both valid meanwhile

        (await admin.DeleteAsync($"/admin/v1/api-keys/{tenant.KeyId}")).EnsureSuccessStatusCode();

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");
        var refused = RefusedRequestLine(server);
        Assert.Equal(tenant.KeyId.ToString(CultureInfo.InvariantCulture), refused.Properties["ApiKeyId"].ToString()); // who still sends it
        Assert.Equal(tenant.BusinessId.ToString(CultureInfo.InvariantCulture), refused.Properties["BusinessId"].ToString()); // and for whom
        Assert.Equal(HttpStatusCode.OK, (await renewed.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
        var keys = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal([newKeyId], keys.GetProperty("api_keys").EnumerateArray()
            .Where(k => k.GetProperty("revoked_at").ValueKind == System.Text.Json.JsonValueKind.Null).Select(k => k.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task AnOldKeySetToExpireSendsUntilThenAndIsRefusedAfter()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode); // cached now
        var (newKey, _) = await server.CreateApiKeyAsync(tenant.BusinessId);
        using var renewed = server.CreateApiClient(newKey);

        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { expires_at = server.Clock.GetUtcNow().AddDays(7) });
        server.Clock.Advance(TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
        server.Clock.Advance(TimeSpan.FromSeconds(1));

        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_EXPIRED");
        Assert.Equal(tenant.KeyId.ToString(CultureInfo.InvariantCulture), RefusedRequestLine(server).Properties["ApiKeyId"].ToString());
        Assert.Equal(HttpStatusCode.OK, (await renewed.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
    }

    /// <summary>The request log line of the latest 401.</summary>
    private static Serilog.Events.LogEvent RefusedRequestLine(TwaBotApiFactory server) => server.Logs.Events.Last(e =>
        e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal) && e.Properties["StatusCode"].ToString() == "401");
}
