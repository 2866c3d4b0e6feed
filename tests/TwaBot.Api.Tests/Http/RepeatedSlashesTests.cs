using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Http;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>A URL put together from a base ending in / and a path starting with / reaches its route.</summary>
public class RepeatedSlashesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Theory]
    [InlineData("//api/v1/health", "/api/v1/health")]
    [InlineData("/api//v1///health", "/api/v1/health")]
    [InlineData("/api/v1/health", "/api/v1/health")]
    [InlineData("/", "/")]
    [InlineData("//", "/")]
    public void RepeatedSlashesAreOne(string path, string read) => Assert.Equal(read, RepeatedSlashes.Collapse(path));

    [Fact]
    public async Task ASendAndAReadWithADoubleSlashAreAnsweredAsWithOne()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var root = tenant.Client.BaseAddress!.GetLeftPart(UriPartial.Authority);

        var send = await tenant.Client.PostAsJsonAsync(new Uri(root + "//api/v1/send-template"),
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
        var health = await tenant.Client.GetAsync(new Uri(root + "/api//v1/health"));

        Assert.Equal("queued", (await send.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivery_status").GetString());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.True(health.Headers.CacheControl?.NoStore); // the /api rules apply to it too
    }
}
