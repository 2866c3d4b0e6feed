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
        var newman = await Repository.NodeToolAsync("newman");
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["TwaBot__AdminKey"] = AdminKey,
            ["TwaBot__RateLimits__PerKeyPerMinute"] = "1000",
            ["TwaBot__RateLimits__GlobalPerMinute"] = "1000",
            // The 0000 and 0050 requests poll message-status until the emulator's failed status arrives: shorter pauses
            // between its status webhooks (500 ms by default) keep that wait short.
            ["TwaBot__Sandbox__StatusDelayMilliseconds"] = "100",
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
        // The polls' tests are registered in callbacks: had the script ended before them, newman would pass without them.
        Assert.Equal(3, Occurrences(output, "Pass  then failed on message-status, with the reason"));
        Assert.Equal(3, Occurrences(output, "Pass  then failed on message-status: the customer stopped marketing messages"));
    }

    private static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var at = text.IndexOf(value, StringComparison.Ordinal); at >= 0; at = text.IndexOf(value, at + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
