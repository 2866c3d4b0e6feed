using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Postman;

/// <summary>Runs the Postman collection with newman against the real server in sandbox mode.</summary>
public class PostmanCollectionTests
{
    private const string AdminKey = "postman-admin-key-0123456789";

    /// <summary>
    /// Three runs against one server, as a reader trying it out repeats it: nothing a run leaves behind (a template
    /// it created, a number's hourly OTPs) may fail the next. The per-minute limits are raised for the three runs
    /// in a few seconds, which would otherwise be over the 60 a minute of the key.
    /// </summary>
    [Fact]
    public async Task TheCollectionPassesAgainstASandboxServerRunAfterRun()
    {
        var newman = await Repository.NewmanAsync();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["TwaBot__AdminKey"] = AdminKey,
            ["TwaBot__RateLimits__PerKeyPerMinute"] = "1000",
            ["TwaBot__RateLimits__GlobalPerMinute"] = "1000",
        });
        // The key of the Sandbox Business the server seeds on first start, printed once to the console.
        var apiKey = server.SeededApiKey();

        var (exitCode, output) = await Repository.RunAsync(newman,
        [
            "run", Repository.PathOf("postman/TwaBot.postman_collection.json"),
            "--environment", Repository.PathOf("postman/TwaBot-sandbox.postman_environment.json"),
            "--env-var", $"base_url={server.Address}api/v1",
            "--env-var", $"server_url={server.Address.ToString().TrimEnd('/')}",
            "--env-var", $"api_key={apiKey}",
            "--env-var", $"admin_key={AdminKey}",
            "--iteration-count", "3",
            "--reporters", "cli", "--color", "off", "--disable-unicode",
        ], TimeSpan.FromMinutes(3));

        Assert.True(exitCode == 0, $"newman failed ({exitCode}):\n{output}\n--- server output ---\n{server.Output}");
        Assert.Contains("assertions", output, StringComparison.Ordinal);
    }
}
