using System.Text.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>An operator's own console sink replaces the plain console output instead of doubling every line.</summary>
public class JsonConsoleTests
{
    [Fact]
    public async Task AConsoleSinkInConfigurationReplacesThePlainTextOne()
    {
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["Serilog__WriteTo__0__Name"] = "Console",
            ["Serilog__WriteTo__0__Args__formatter"] = "Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact",
        });
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", server.SeededApiKey());

        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        await Poll.UntilAsync(() => server.Output.Contains("\"RequestPath\":\"/api/v1/health\"", StringComparison.Ordinal), "the request's line"); // just after its answer

        var lines = server.Output.Split('\n').Where(line => line.Contains("/api/v1/health", StringComparison.Ordinal)
            && line.Contains("responded", StringComparison.Ordinal)).ToList();
        var requestLine = Assert.Single(lines); // once: not also as plain text
        using var json = JsonDocument.Parse(requestLine);
        Assert.Equal("HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms", json.RootElement.GetProperty("@mt").GetString());
        Assert.DoesNotContain(server.SeededApiKey(), server.Output.Replace(SandboxBanner(server), "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    /// <summary>The first-start banner prints the key on purpose, outside the log.</summary>
    private static string SandboxBanner(ServerProcess server) => $"X-API-Key: {server.SeededApiKey()}";

    [Theory]
    [InlineData("Consol")]
    [InlineData("console")] // Serilog finds sinks by their exact name
    public async Task AMisspeltSinkLeavesThePlainConsoleOutput(string sink)
    {
        // Serilog skips a sink it cannot find without an error; the server must not end up printing nothing.
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["Serilog__WriteTo__0__Name"] = sink });
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", server.SeededApiKey());

        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        await Poll.UntilAsync(() => server.Output.Contains(" responded ", StringComparison.Ordinal), "the request's line"); // the first-start banner names /api/v1/health too

        Assert.Contains("HTTP GET /api/v1/health responded 200", server.Output, StringComparison.Ordinal);
    }
}
