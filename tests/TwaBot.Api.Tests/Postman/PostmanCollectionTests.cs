using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Postman;

/// <summary>Runs the Postman collection with newman against the real server in sandbox mode.</summary>
public class PostmanCollectionTests
{
    private const string AdminKey = "postman-admin-key-0123456789";

    [Fact]
    public async Task TheCollectionPassesAgainstASandboxServer()
    {
        var newman = await Repository.NewmanAsync();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["TwaBot__AdminKey"] = AdminKey });
        var apiKey = await CreateKeyAsync(server);

        var (exitCode, output) = await Repository.RunAsync(newman,
        [
            "run", Repository.PathOf("postman/TwaBot.postman_collection.json"),
            "--environment", Repository.PathOf("postman/TwaBot-sandbox.postman_environment.json"),
            "--env-var", $"base_url={server.Address}api/v1",
            "--env-var", $"server_url={server.Address.ToString().TrimEnd('/')}",
            "--env-var", $"api_key={apiKey}",
            "--env-var", $"admin_key={AdminKey}",
            "--reporters", "cli", "--color", "off", "--disable-unicode",
        ], TimeSpan.FromMinutes(3));

        Assert.True(exitCode == 0, $"newman failed ({exitCode}):\n{output}\n--- server output ---\n{server.Output}");
        Assert.Contains("assertions", output, StringComparison.Ordinal);
    }

    /// <summary>A business with a sandbox connection and a key, made through the admin API.</summary>
    private static async Task<string> CreateKeyAsync(ServerProcess server)
    {
        using var admin = server.CreateClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        var business = await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Newman Business", plan = "Pro" }))
            .ReadJsonAsync(HttpStatusCode.Created);
        var id = business.GetProperty("business").GetProperty("id").GetInt64();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
        var key = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{id}/api-keys", new { name = "Newman", permissions = new[] { "*" } }))
            .ReadJsonAsync(HttpStatusCode.Created);
        return key.GetProperty("api_key").GetProperty("key").GetString()!;
    }
}
