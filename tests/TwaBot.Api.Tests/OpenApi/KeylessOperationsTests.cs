using System.Net;
using System.Text.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.OpenApi;

/// <summary>
/// Linters (Redocly's security-defined) and readers take an operation without <c>security</c> for one whose key was
/// forgotten; one that takes no key says so with an empty list.
/// </summary>
public class KeylessOperationsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task EveryOperationSaysWhichKeyItTakesOrThatItTakesNone()
    {
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

        var keyless = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                Assert.True(operation.Value.TryGetProperty("security", out var security), $"{operation.Name} {path.Name} does not say which key it takes");
                if (security.ValueKind == JsonValueKind.Array && security.GetArrayLength() == 0)
                {
                    keyless.Add($"{operation.Name} {path.Name}");
                }
            }
        }

        Assert.Equal(["get /webhooks/meta", "post /webhooks/meta"], keyless);
    }
}
