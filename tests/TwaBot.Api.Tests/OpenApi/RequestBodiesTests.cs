using System.Net;
using System.Text.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.OpenApi;

/// <summary>
/// What a generated client makes of the request bodies: OpenAPI takes a body as optional unless it says
/// <c>required</c>, and a client generated from it then lets a call leave out a body the server refuses.
/// </summary>
public class RequestBodiesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task EveryBodyTheServerRefusesToGoWithoutIsRequired()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (_, keyId) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);
        using var admin = factory.CreateAdminClient();

        var bodies = 0;
        foreach (var path in document.GetProperty("paths").EnumerateObject().Where(p => !p.Name.StartsWith("/api/v1/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Value.TryGetProperty("requestBody", out _)))
            {
                bodies++;
                var required = operation.Value.GetProperty("requestBody").TryGetProperty("required", out var flag) && flag.ValueKind == JsonValueKind.True;
                Assert.True(required, $"{operation.Name} {path.Name}: its body is documented as optional");
                if (path.Name == "/webhooks/meta")
                {
                    continue; // Meta's signed bytes, not the envelope's body check
                }

                // And the server does refuse the call without it.
                var url = path.Name.Replace("{id}", businessId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
                    .Replace("{keyId}", keyId.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url);
                var error = await (await admin.SendAsync(request)).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
                Assert.Equal("A JSON request body is required.", error.GetProperty("error").GetString());
            }
        }

        Assert.True(bodies > 8, $"only {bodies} operations with a body"); // the admin API's, the sandbox's and the webhook's
    }
}
