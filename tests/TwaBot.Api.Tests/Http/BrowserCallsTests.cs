using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>
/// A key is for servers: a web page that held one would hand it to every visitor. So the API grants no
/// origin (no CORS): a browser's preflight is refused in the envelope, and a page's own request gets no
/// header that would let its script read the answer.
/// </summary>
public class BrowserCallsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Page = "https://shop.example";

    [Theory]
    [InlineData("/api/v1/send-template", HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED")]
    [InlineData("/api/v1/quick-send", HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED")]
    [InlineData("/admin/v1/businesses", HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED")] // the admin key first, before any method rule
    public async Task APreflightFromAWebPageIsRefusedAndGrantsNoOrigin(string path, HttpStatusCode status, string errorCode)
    {
        using var anonymous = factory.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
        preflight.Headers.Add("Origin", Page);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key,content-type");

        var response = await anonymous.SendAsync(preflight);

        await response.AssertErrorAsync(status, errorCode);
        Assert.DoesNotContain(response.Headers, header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task ASendFromAWebPageGetsNoHeaderThatLetsThePageReadTheAnswer()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
        {
            Content = JsonContent.Create(new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } }),
        };
        request.Headers.Add("Origin", Page);

        var response = await tenant.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode); // a server sending an Origin header is served as any other
        Assert.DoesNotContain(response.Headers, header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("Sec-Purpose", "prefetch")]            // speculation rules, or a link hovered
    [InlineData("Sec-Purpose", "prefetch;prerender")]  // an address-bar suggestion of a quick-send URL opened before
    [InlineData("Purpose", "prefetch")]                // <link rel=prefetch> in older browsers
    [InlineData("X-Purpose", "preview")]               // Safari's page previews
    [InlineData("X-Moz", "prefetch")]                  // Firefox's link prefetching
    public async Task ABrowsersPrefetchOfAQuickSendUrlSendsNothingAndTheUsersOwnFetchSends(string header, string value)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var url = "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-12345,x";
        using var prefetch = new HttpRequestMessage(HttpMethod.Get, url);
        prefetch.Headers.Add(header, value);

        var refused = await tenant.Client.SendAsync(prefetch);

        await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "PREFETCH_REFUSED"); // not a success: the browser drops it and asks again on a real open
        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == tenant.BusinessId)));
        var opened = await tenant.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, opened.StatusCode);
    }
}
