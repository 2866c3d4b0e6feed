using System.Net;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// A body over the limit sent where no route takes it is answered by what is wrong (no such path, no such method), not 413:
/// no smaller body would get through, and nothing reads it. Behind the admin key, the key still comes first.
/// </summary>
public class RouteBeforeBodySizeTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Theory]
    [InlineData("POST", "/api/v1/send-templates", null, HttpStatusCode.NotFound, "NOT_FOUND")]
    [InlineData("POST", "/nowhere", null, HttpStatusCode.NotFound, "NOT_FOUND")]
    [InlineData("PUT", "/api/v1/send-template", null, HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED")]
    [InlineData("POST", "/healthz", null, HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED")]
    [InlineData("PUT", "/webhooks/meta", null, HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED")]
    [InlineData("PUT", "/admin/v1/businesses", TwaBotApiFactory.AdminKey, HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED")]
    [InlineData("PUT", "/admin/v1/businesses", null, HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED")]
    [InlineData("POST", "/admin/v1/businesses", TwaBotApiFactory.AdminKey, HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE")] // a route's own limit, as before
    [InlineData("POST", "/webhooks/meta", null, HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE")] // Meta's 3 MB, before the signature
    public async Task ABodyOverTheLimitWhereNoRouteTakesItIsAnsweredByTheRoute(string method, string path, string? adminKey, HttpStatusCode status, string errorCode)
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new ByteArrayContent(new byte[(int)Api.Errors.RequestBodyLimits.WebhookBytes + 1]),
        };
        request.Content.Headers.ContentType = new("application/json");
        if (adminKey is not null)
        {
            request.Headers.Add("X-Admin-Key", adminKey);
        }

        var response = await client.SendAsync(request);

        await response.AssertErrorAsync(status, errorCode);
        Assert.Equal(status == HttpStatusCode.MethodNotAllowed, response.Content.Headers.Allow.Count > 0); // a 405 says which methods to use
    }

    /// <summary>
    /// A route that reads no body is answered as if the body were not there: its document lists no 413 (only the routes that
    /// read one do), and no smaller body would change its answer.
    /// </summary>
    [Theory]
    [InlineData("GET", "/admin/v1/businesses", HttpStatusCode.OK)]
    [InlineData("DELETE", "/admin/v1/businesses/999999/suppressions/919876543210", HttpStatusCode.NotFound)]
    public async Task ABodyOverTheLimitSentToARouteThatReadsNoneIsNotA413(string method, string path, HttpStatusCode status)
    {
        using var client = factory.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new ByteArrayContent(new byte[(int)Api.Errors.RequestBodyLimits.ApiBytes + 1]),
        };
        request.Content.Headers.ContentType = new("application/json");

        var response = await client.SendAsync(request);

        Assert.Equal(status, response.StatusCode);
    }
}
