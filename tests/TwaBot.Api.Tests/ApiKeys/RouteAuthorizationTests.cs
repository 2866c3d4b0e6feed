using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.ApiKeys;

/// <summary>
/// The authentication boundary over every route the app maps, read from the endpoint data source so that a
/// route added later is covered too: <c>/api/v1</c> takes an API key only, <c>/admin/v1</c> and the sandbox's
/// inbound the admin key only, and the few routes that take neither check a secret of their own (Meta's
/// signature or verify token, the emulator's bearer token) or expose nothing (<c>/healthz</c>).
/// </summary>
public partial class RouteAuthorizationTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly string[] RoutesWithTheirOwnCheck = ["/webhooks/meta", "/healthz", "/sandbox/graph/"];

    private List<(string Pattern, IReadOnlyList<string> Methods, string[] Policies)> Routes()
    {
        _ = factory.Server;
        return [.. factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (e.RoutePattern.RawText!, e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [],
                e.Metadata.OfType<IAuthorizeData>().Select(a => a.Policy ?? "").ToArray()))];
    }

    private static string? PolicyFor(string pattern) =>
        pattern.StartsWith("/api/v1/", StringComparison.Ordinal) ? ApiKeyAuthenticationExtensions.ApiKeyPolicy
        : pattern.StartsWith("/admin/v1/", StringComparison.Ordinal) || pattern == "/sandbox/v1/inbound" ? ApiKeyAuthenticationExtensions.AdminPolicy
        : null;

    [Fact]
    public void EveryRouteHasThePolicyOfItsPrefixAndNoneIsAnonymous()
    {
        var routes = Routes();
        Assert.NotEmpty(routes);
        Assert.DoesNotContain(factory.Services.GetRequiredService<EndpointDataSource>().Endpoints, e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null);
        Assert.All(routes, route =>
        {
            if (PolicyFor(route.Pattern) is { } policy)
            {
                Assert.True(route.Policies.SequenceEqual([policy]), $"{route.Pattern}: [{string.Join(", ", route.Policies)}], expected {policy}");
            }
            else
            {
                Assert.True(route.Policies.Length == 0 && RoutesWithTheirOwnCheck.Any(p => route.Pattern.StartsWith(p, StringComparison.Ordinal)),
                    $"{route.Pattern} takes no key and is not one of the routes that check their own secret");
            }
        });
    }

    /// <summary>Each method of each keyed route, also written in capitals, refuses no key, a wrong key and the other kind of key.</summary>
    [Fact]
    public async Task EveryKeyedRouteRefusesNoKeyAWrongKeyAndTheOtherKindOfKey()
    {
        var tenant = await factory.CreateTenantAsync();
        using var anonymous = factory.CreateClient();
        using var admin = factory.CreateAdminClient();
        using var wrongApiKey = factory.CreateApiClient(ApiKeyFormat.Generate(ApiKeyFormat.TestPrefix));
        using var wrongAdminKey = factory.CreateClient();
        wrongAdminKey.DefaultRequestHeaders.Add("X-Admin-Key", TwaBotApiFactory.AdminKey + "x");
        var checkedRoutes = 0;
        foreach (var (pattern, methods, _) in Routes())
        {
            if (PolicyFor(pattern) is not { } policy)
            {
                continue;
            }

            var path = Parameter().Replace(pattern, match => match.Groups["long"].Success ? tenant.BusinessId.ToString(CultureInfo.InvariantCulture) : "x1");
            var isApi = policy == ApiKeyAuthenticationExtensions.ApiKeyPolicy;
            (HttpClient Client, string Code)[] refused = isApi
                ? [(anonymous, "MISSING_API_KEY"), (wrongApiKey, "INVALID_API_KEY"), (admin, "MISSING_API_KEY")]
                : [(anonymous, "ADMIN_UNAUTHORIZED"), (wrongAdminKey, "ADMIN_UNAUTHORIZED"), (tenant.Client, "ADMIN_UNAUTHORIZED")];
            foreach (var method in methods)
            {
                foreach (var variant in new[] { path, path.ToUpperInvariant(), path + "/" })
                {
                    foreach (var (client, code) in refused)
                    {
                        using var request = new HttpRequestMessage(new HttpMethod(method), variant);
                        if (method is "POST" or "PUT" or "PATCH")
                        {
                            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                        }

                        using var response = await client.SendAsync(request);
                        Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {variant}: {(int)response.StatusCode}");
                        if (method != "HEAD")
                        {
                            await response.AssertErrorAsync(HttpStatusCode.Unauthorized, code);
                        }
                    }
                }

                checkedRoutes++;
            }
        }

        Assert.True(checkedRoutes > 20, $"only {checkedRoutes} keyed routes found");
    }

    public static TheoryData<string> Permissions => [ApiKeyPermissions.SendTemplate, ApiKeyPermissions.SendText, ApiKeyPermissions.SendMedia, ApiKeyPermissions.SendOtp];

    /// <summary>
    /// A key holding one permission: every send route, quick-send in both modes (both given: the template is sent) and
    /// spellings of a path that reach the same route, refuses it with 403 exactly when it needs another permission.
    /// </summary>
    [Theory]
    [MemberData(nameof(Permissions))]
    public async Task AKeyWithOnePermissionSendsOnlyWhatItAllows(string permission)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: [permission]);
        const string template = """{"phone": "919876543210", "template_name": "order_confirmation", "body_params": ["a", "b", "c"]}""";
        const string text = """{"phone": "919876543210", "message": "Hi"}""";
        (string Method, string Path, string? Body, string Needs)[] sends =
        [
            ("POST", "/api/v1/send-template", template, ApiKeyPermissions.SendTemplate),
            ("POST", "/API/V1/SEND-TEMPLATE/", template, ApiKeyPermissions.SendTemplate),
            ("POST", "/api/v1/send-text", text, ApiKeyPermissions.SendText),
            ("POST", "/api/v1/send%2Dtext", text, ApiKeyPermissions.SendText),
            ("POST", "/Api/V1/Send-Text/", text, ApiKeyPermissions.SendText),
            ("POST", "/api/v1/send-media", """{"phone": "919876543210", "media_type": "image", "media_url": "https://example.com/a.png"}""", ApiKeyPermissions.SendMedia),
            ("POST", "/api/v1/send-otp", """{"phone": "919876543210", "template_name": "otp_verification"}""", ApiKeyPermissions.SendOtp),
            ("GET", "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c", null, ApiKeyPermissions.SendTemplate),
            ("GET", "/api/v1/quick-send?phone=919876543210&message=Hi", null, ApiKeyPermissions.SendText),
            ("GET", "/API/V1/QUICK-SEND/?phone=919876543210&message=Hi", null, ApiKeyPermissions.SendText),
            ("GET", "/api/v1/quick-send?phone=919876543210&message=Hi&template=%20", null, ApiKeyPermissions.SendText),
            ("GET", "/api/v1/quick-send?phone=919876543210&message=Hi&template=order_confirmation&params=a,b,c", null, ApiKeyPermissions.SendTemplate),
        ];
        foreach (var (method, path, body, needs) in sends)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            using var response = await tenant.Client.SendAsync(request);
            if (needs == permission)
            {
                // Sent, or refused by a later step (the 24-hour window for free-form messages): never for its key.
                Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                    $"{method} {path} with {permission}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            else
            {
                var json = await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
                Assert.Contains($"'{needs}'", json.GetProperty("error").GetString(), StringComparison.Ordinal);
            }
        }
    }

    /// <summary>PRODUCT §2: health, templates and message-status need only a valid key, whatever it may send.</summary>
    [Theory]
    [MemberData(nameof(Permissions))]
    public async Task TheReadingRoutesNeedOnlyAValidKey(string permission)
    {
        var sender = await factory.CreateSendingTenantAsync();
        var sent = await (await sender.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } })).ReadJsonAsync(HttpStatusCode.OK);
        var (key, _) = await factory.CreateApiKeyAsync(sender.BusinessId, [permission]);
        using var reader = factory.CreateApiClient(key);

        var health = await reader.GetAsync("/api/v1/health");
        var templates = await reader.GetAsync("/api/v1/templates");
        var status = await reader.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { health.StatusCode, templates.StatusCode, status.StatusCode });
    }

    [GeneratedRegex(@"\{[a-zA-Z]+(?<long>:long)?[^}]*\}")]
    private static partial Regex Parameter();
}
