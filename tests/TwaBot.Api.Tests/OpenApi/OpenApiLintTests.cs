using System.Net;
using System.Text.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.OpenApi;

/// <summary>
/// The served document passes Redocly's recommended rules (redocly.yaml): what code generators and API tools
/// stumble on (no server, undeclared tags, unused components, ambiguous paths), beyond what our own tests check.
/// </summary>
public class OpenApiLintTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task TheSandboxDocumentHasNoLintErrorsOrWarnings() => await AssertLintCleanAsync(factory);

    /// <summary>Without the sandbox's routes, nothing the document declares may be left unused.</summary>
    [Fact]
    public async Task TheLiveDocumentHasNoLintErrorsOrWarnings()
    {
        await using var live = LiveMode.Factory();
        await AssertLintCleanAsync(live);
    }

    private static async Task AssertLintCleanAsync(TwaBotApiFactory server)
    {
        var redocly = await Repository.NodeToolAsync("redocly");
        using var client = server.CreateClient();
        // As a deployment serves it: the rules take a server on localhost for a placeholder left in.
        client.DefaultRequestHeaders.Host = "whatsapp.shop.test";
        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).Content.ReadAsStringAsync();
        var file = Path.Combine(Path.GetTempPath(), $"twabot-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, document);
        try
        {
            var (_, output) = await Repository.RunAsync(redocly,
                ["lint", file, "--config", Repository.PathOf("redocly.yaml"), "--format", "json"], TimeSpan.FromMinutes(1),
                new Dictionary<string, string> { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" });

            // The JSON report comes first; Node's own notices may follow it on stderr.
            using var report = JsonDocument.Parse(output[..(output.LastIndexOf("\n}", StringComparison.Ordinal) + 2)]);
            var problems = report.RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => $"{p.GetProperty("severity").GetString()} {p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()} at "
                    + p.GetProperty("location")[0].GetProperty("pointer").GetString())
                .ToList();
            Assert.True(problems.Count == 0, string.Join('\n', problems));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task TheDocumentNamesTheServerThatServesIt()
    {
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

        var server = Assert.Single(document.GetProperty("servers").EnumerateArray());
        Assert.Equal("http://localhost", server.GetProperty("url").GetString());
        Assert.All(document.GetProperty("tags").EnumerateArray(), tag => Assert.False(string.IsNullOrEmpty(tag.GetProperty("description").GetString())));
    }
}
