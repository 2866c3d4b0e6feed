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
}
