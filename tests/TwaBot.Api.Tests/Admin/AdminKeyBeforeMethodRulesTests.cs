using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// A method no route of an admin path takes is answered by routing itself (405), not by an admin route; the admin key is
/// still checked first (PRODUCT.md §6: a missing or wrong admin key is 401), as it is before the body rules
/// (AdminKeyBeforeBodyRulesTests). With the key, the 405 names the methods to use, as before.
/// </summary>
public class AdminKeyBeforeMethodRulesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    /// <summary>Every route behind the admin key (its pattern), a method none of its path's routes takes, and the Allow that answers it.</summary>
    public static readonly TheoryData<string, string, string, string> WrongMethods = new()
    {
        { "/admin/v1/businesses", "PUT", "/admin/v1/businesses", "GET, HEAD, POST" },
        { "/admin/v1/businesses/{id:long}", "DELETE", "/admin/v1/businesses/1", "GET, HEAD, PATCH" },
        { "/admin/v1/businesses/{id:long}/api-keys", "DELETE", "/admin/v1/businesses/1/api-keys", "GET, HEAD, POST" },
        { "/admin/v1/api-keys/{keyId:long}", "POST", "/admin/v1/api-keys/1", "DELETE, GET, HEAD, PATCH" },
        { "/admin/v1/businesses/{id:long}/suppressions", "PUT", "/admin/v1/businesses/1/suppressions", "GET, HEAD, POST" },
        // Also the path of GET /suppressions/{phone}: its methods are allowed too.
        { "/admin/v1/businesses/{id:long}/suppressions/import", "PUT", "/admin/v1/businesses/1/suppressions/import", "DELETE, GET, HEAD, POST" },
        { "/admin/v1/businesses/{id:long}/suppressions/{phone}", "POST", "/admin/v1/businesses/1/suppressions/919812340003", "DELETE, GET, HEAD" },
        { "/admin/v1/businesses/{id:long}/whatsapp", "GET", "/admin/v1/businesses/1/whatsapp", "DELETE, PUT" },
        { "/admin/v1/businesses/{id:long}/templates", "DELETE", "/admin/v1/businesses/1/templates", "GET, HEAD, POST" },
        { "/admin/v1/businesses/{id:long}/templates/{templateId:long}", "POST", "/admin/v1/businesses/1/templates/1", "GET, HEAD" },
        { "/admin/v1/businesses/{id:long}/templates/sync", "GET", "/admin/v1/businesses/1/templates/sync", "POST" },
        { "/sandbox/v1/inbound", "GET", "/sandbox/v1/inbound", "POST" },
    };

    public static TheoryData<string, string, string?, HttpStatusCode> EveryWrongMethodAndKey()
    {
        var cases = new TheoryData<string, string, string?, HttpStatusCode>();
        foreach (var row in WrongMethods)
        {
            var (method, path) = ((string)row[1], (string)row[2]);
            cases.Add(method, path, null, HttpStatusCode.Unauthorized);
            cases.Add(method, path, TwaBotApiFactory.AdminKey + "x", HttpStatusCode.Unauthorized);
            cases.Add(method.ToLowerInvariant(), path.ToUpperInvariant(), null, HttpStatusCode.Unauthorized); // as routing reads it
            cases.Add(method, path, TwaBotApiFactory.AdminKey, HttpStatusCode.MethodNotAllowed);
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(EveryWrongMethodAndKey))]
    public async Task AWrongMethodIsA401WithoutTheAdminKeyAndA405WithIt(string method, string path, string? key, HttpStatusCode status)
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        var response = await client.SendAsync(request);

        if (status == HttpStatusCode.Unauthorized)
        {
            await response.AssertErrorAsync(status, "ADMIN_UNAUTHORIZED");
            Assert.False(response.Content.Headers.Contains("Allow"), "a caller without the key learns no route's methods");
        }
        else
        {
            var allow = (string)WrongMethods.Single(row => (string)row[2] == path)[3];
            var json = await response.AssertErrorAsync(status, "METHOD_NOT_ALLOWED");
            Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
            Assert.Equal($"Method {method} is not allowed on {path}: use {allow}.", json.GetProperty("error").GetString());
        }
    }

    [Fact]
    public void TheTableHasEveryRouteBehindTheAdminKey()
    {
        _ = factory.Server;
        var adminRoutes = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.OfType<IAuthorizeData>().Any(a => a.Policy == ApiKeyAuthenticationExtensions.AdminPolicy))
            .Select(e => e.RoutePattern.RawText!).ToHashSet();

        Assert.Equal(adminRoutes.Order(StringComparer.Ordinal), WrongMethods.Select(row => (string)row[0]).Order(StringComparer.Ordinal));
    }
}
