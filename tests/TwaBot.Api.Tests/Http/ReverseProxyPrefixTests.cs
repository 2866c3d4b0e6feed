using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>
/// A reverse proxy that serves the server under a path (nginx: <c>location /twabot/ { proxy_pass http://127.0.0.1:8080/; }</c>)
/// strips the path and names it in <c>X-Forwarded-Prefix</c> (docs/operations.md): with forwarded headers on, what the
/// server names as a URL carries it, so a client can follow it through the proxy.
/// </summary>
public class ReverseProxyPrefixTests
{
    [Fact]
    public async Task BehindAPathPrefixTheOpenApiDocumentAndLocationsNameIt()
    {
        // Was http://localhost and /admin/v1/businesses/{id}: "Try it out" and a generated client called the proxy's root,
        // and a 201's Location led outside the prefix.
        await using var server = BehindAProxy();
        using var admin = server.CreateAdminClient();
        ThroughTheProxy(admin, "X-Forwarded-Prefix", "/twabot");

        var document = await (await admin.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
        var created = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Prefixed", plan = "Growth" });

        Assert.Equal("http://localhost/twabot", ServerUrl(document));
        var id = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business").GetProperty("id").GetInt64();
        Assert.Equal($"/twabot/admin/v1/businesses/{id}", created.Headers.Location?.ToString());
    }

    [Fact]
    public async Task BehindATlsProxyTheOpenApiDocumentNamesHttps()
    {
        // A proxy that ends TLS calls the server over http and says so in X-Forwarded-Proto: "Try it out" and a generated
        // client must call https, which is all the proxy may answer.
        await using var server = BehindAProxy();
        using var client = server.CreateClient();
        ThroughTheProxy(client, "X-Forwarded-Proto", "https");
        client.DefaultRequestHeaders.Host = "whatsapp.shop.test";

        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("https://whatsapp.shop.test", ServerUrl(document));
    }

    [Fact]
    public async Task APrefixWithASpaceIsEscapedInTheLocation()
    {
        // The proxy names the path as written in its configuration; a Location with a bare space in it is no URL.
        await using var server = BehindAProxy();
        using var admin = server.CreateAdminClient();
        ThroughTheProxy(admin, "X-Forwarded-Prefix", "/my twabot");

        var created = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Escaped", plan = "Growth" });

        var id = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business").GetProperty("id").GetInt64();
        Assert.Equal($"/my%20twabot/admin/v1/businesses/{id}", created.Headers.NonValidated["Location"].ToString()); // as sent, not as HttpClient re-escapes it
    }

    [Fact]
    public async Task BehindAPathPrefixOnlyALocationFromTheRootIsMoved()
    {
        // The Swagger UI's redirect is relative ("swagger/index.html"), so it already stays under the prefix; an answer
        // with no Location gets none.
        await using var server = BehindAProxy();
        using var client = server.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        ThroughTheProxy(client, "X-Forwarded-Prefix", "/twabot");

        var redirect = await client.GetAsync("/swagger");
        var document = await client.GetAsync("/swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.MovedPermanently, redirect.StatusCode);
        Assert.Equal("swagger/index.html", redirect.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Null(document.Headers.Location);
    }

    [Fact]
    public async Task WithoutForwardedHeadersOnAClientsPrefixIsIgnored()
    {
        // Trusted only when the operator says a proxy is in front, as X-Forwarded-For is.
        await using var server = new TwaBotApiFactory();
        using var admin = server.CreateAdminClient();
        admin.DefaultRequestHeaders.Add("X-Forwarded-Prefix", "/elsewhere");

        var document = await (await admin.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
        var created = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Unprefixed", plan = "Growth" });

        Assert.Equal("http://localhost", ServerUrl(document));
        var id = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business").GetProperty("id").GetInt64();
        Assert.Equal($"/admin/v1/businesses/{id}", created.Headers.Location?.ToString());
    }

    /// <summary>A server told that a proxy is in front of it, which trusts the X-Forwarded-* headers.</summary>
    private static TwaBotApiFactory BehindAProxy() => new(new Dictionary<string, string?> { ["FORWARDEDHEADERS_ENABLED"] = "true" });

    /// <summary>Requests as the proxy forwards them: the caller's address, and what it says of the outer request.</summary>
    private static void ThroughTheProxy(HttpClient client, string header, string value)
    {
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.7");
        client.DefaultRequestHeaders.Add(header, value);
    }

    /// <summary>The base URL the OpenAPI document names ("Try it out" and generated clients call it).</summary>
    private static string? ServerUrl(System.Text.Json.JsonElement document) =>
        Assert.Single(document.GetProperty("servers").EnumerateArray()).GetProperty("url").GetString();
}
