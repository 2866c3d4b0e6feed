using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

public class AdminAuthenticationTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task MissingAdminKeyReturns401()
    {
        using var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro" });

        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
        Assert.Equal("A valid admin key is required in the X-Admin-Key header.", json.GetProperty("error").GetString());
    }

    [Theory] // the whole key, exactly: no more, no less, no other letter case
    [InlineData(TwaBotApiFactory.AdminKey + "x")]
    [InlineData("test-admin-key-0123456789abcde")]
    [InlineData("TEST-ADMIN-KEY-0123456789ABCDEF")]
    [InlineData("test")]
    public async Task WrongAdminKeyReturns401(string key)
    {
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", key);

        var response = await client.GetAsync("/admin/v1/businesses/1");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    [Theory] // as two API keys are: "a valid key is required" reads as wrong to someone who sent the right one, twice
    [InlineData(TwaBotApiFactory.AdminKey, TwaBotApiFactory.AdminKey)]
    [InlineData(TwaBotApiFactory.AdminKey, "proxy-key")]
    public async Task TwoAdminKeysAreRefusedSayingSo(string first, string second)
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/businesses");
        request.Headers.TryAddWithoutValidation("X-Admin-Key", [first, second]);

        var response = await client.SendAsync(request);

        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
        Assert.Equal("X-Admin-Key is given more than once; give one key.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TwoAdminKeysAreNoWrongGuess()
    {
        // A proxy adding its key beside the script's is a setup mistake, not someone guessing: it must not lock the
        // address out of the admin API once the setup is fixed.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:RateLimits:FailedAuthPerMinute"] = "1" });
        using var client = server.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            using var twice = new HttpRequestMessage(HttpMethod.Get, "/admin/v1/businesses");
            twice.Headers.TryAddWithoutValidation("X-Admin-Key", [TwaBotApiFactory.AdminKey, "proxy-key"]);
            await (await client.SendAsync(twice)).AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
        }

        using var admin = server.CreateAdminClient();
        (await admin.GetAsync("/admin/v1/businesses")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task AnApiKeyWithAllPermissionsDoesNotOpenTheAdminApi()
    {
        var (_, client, key) = await factory.CreateTenantAsync();
        client.DefaultRequestHeaders.Add("X-Admin-Key", key);

        var response = await client.GetAsync("/admin/v1/businesses/1");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    [Fact]
    public async Task TheAdminKeyDoesNotOpenThePublicApi()
    {
        using var admin = factory.CreateAdminClient();
        admin.DefaultRequestHeaders.Add("X-API-Key", TwaBotApiFactory.AdminKey);

        var response = await admin.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
    }
}
