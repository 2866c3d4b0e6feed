using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>
/// HEAD gets the answer GET would get, status and headers, without a body (<c>curl -I</c>, uptime
/// monitors), on every GET route except quick-send, whose GET sends a message.
/// </summary>
public class HeadRequestTests
{
    [Fact]
    public async Task EveryGetRouteAnswersHeadExceptQuickSend()
    {
        await using var factory = new TwaBotApiFactory();
        _ = factory.Server;

        var getRoutes = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => (Path: e.RoutePattern.RawText!, Methods: e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []))
            .Where(route => route.Methods.Contains(HttpMethods.Get))
            .ToList();

        Assert.Contains(getRoutes, route => route.Path.StartsWith("/admin/", StringComparison.Ordinal));
        Assert.All(getRoutes.Where(route => !route.Path.EndsWith("/quick-send", StringComparison.Ordinal)),
            route => Assert.True(route.Methods.Contains(HttpMethods.Head), $"HEAD {route.Path} is not answered"));
        Assert.Equal([HttpMethods.Get], Assert.Single(getRoutes, route => route.Path.EndsWith("/quick-send", StringComparison.Ordinal)).Methods);
    }

    [Fact]
    public async Task AHeadGetsTheStatusAndHeadersOfTheGetWithoutTheBody()
    {
        await using var factory = new TwaBotApiFactory();
        factory.UseKestrel(0); // the real server is what leaves the body out
        factory.StartServer();
        var tenant = await factory.CreateSendingTenantAsync();
        using var keyed = factory.CreateApiClient(tenant.Key);
        using var admin = factory.CreateAdminClient();
        using var anonymous = factory.CreateClient();

        (HttpClient Client, string Path, HttpStatusCode Status)[] cases =
        [
            (keyed, "/api/v1/health", HttpStatusCode.OK),
            (keyed, "/api/v1/templates", HttpStatusCode.OK),
            (keyed, "/api/v1/message-status/wamid.unknown", HttpStatusCode.NotFound),
            (anonymous, "/api/v1/templates", HttpStatusCode.Unauthorized),
            (admin, $"/admin/v1/businesses/{tenant.BusinessId}", HttpStatusCode.OK),
        ];
        foreach (var (client, path, status) in cases)
        {
            using var get = await client.GetAsync(path);
            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

            Assert.Equal(status, get.StatusCode);
            Assert.Equal(status, head.StatusCode);
            Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
            Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
            Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task AHeadOnQuickSendSendsNothingAndAnswers405()
    {
        await using var factory = new TwaBotApiFactory();
        var tenant = await factory.CreateSendingTenantAsync();
        const string Url = "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-12345,x";

        using var head = await tenant.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Equal(["GET"], head.Content.Headers.Allow);
        await factory.WithDbAsync(async db => Assert.Equal(0, await db.Messages.CountAsync()));
        using var get = await tenant.Client.GetAsync(Url); // the same URL as a GET does send
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        await factory.WithDbAsync(async db => Assert.Equal(1, await db.Messages.CountAsync()));
    }

    [Fact]
    public async Task AMethodNotAllowedAnswerListsHeadBesideGet()
    {
        await using var factory = new TwaBotApiFactory();
        var tenant = await factory.CreateSendingTenantAsync();

        using var response = await tenant.Client.DeleteAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET", "HEAD"], response.Content.Headers.Allow);
    }
}
