using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// The README's first-message walkthrough, run as written with curl against the real server in
/// sandbox mode; only the placeholders a reader fills in (the printed key, the returned message id)
/// and the port are substituted.
/// </summary>
public class ReadmeQuickstartTests(ReadmeQuickstartTests.SandboxServer sandbox) : IClassFixture<ReadmeQuickstartTests.SandboxServer>
{
    /// <summary>
    /// One server for the walkthrough's examples, as a reader runs them one after another on theirs: each sends as the
    /// seeded business, none stops the server or needs it new, and the one that needs the customer's window closed
    /// checks that it is.
    /// </summary>
    public sealed class SandboxServer : IAsyncLifetime
    {
        public ServerProcess Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await ServerProcess.StartAsync();

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    [Fact]
    public async Task TheSandboxCurlExampleSendsAMessageThatIsRead()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var server = sandbox.Server;
        var url = server.Address.ToString().TrimEnd('/');
        string Fill(string block) => block.Replace("twb_test_…", server.SeededApiKey(), StringComparison.Ordinal)
            .Replace("http://localhost:5080", url, StringComparison.Ordinal);

        var sent = await BashAsync(Fill(Block(readme, "quickstart:send")));

        using var answer = JsonDocument.Parse(sent);
        Assert.True(answer.RootElement.GetProperty("success").GetBoolean(), sent);
        Assert.Equal("919876543210", answer.RootElement.GetProperty("phone").GetString());
        Assert.Equal("queued", answer.RootElement.GetProperty("delivery_status").GetString());
        var messageId = answer.RootElement.GetProperty("message_id").GetString()!;
        Assert.StartsWith("wamid.", messageId, StringComparison.Ordinal);

        var statusScript = Fill(Block(readme, "quickstart:send").Split('\n')[0] + "\n" + Block(readme, "quickstart:status"))
            .Replace("wamid.HBgM…", messageId, StringComparison.Ordinal);
        // The emulator reports sent, delivered and read one after another; each poll runs the block through bash and curl,
        // so every 250 ms rather than Poll's 20 ms.
        await Poll.UntilAsync(async () =>
        {
            using var status = JsonDocument.Parse(await BashAsync(statusScript));
            return status.RootElement.GetProperty("delivery_status").GetString() == "read";
        }, "the quickstart's status block to answer delivery_status \"read\"", Poll.SlowWorkLimit, TimeSpan.FromMilliseconds(250));
    }

    [Fact]
    public async Task TheReadmeOpensWithTheRunAndTestCommands()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));

        var firstBlock = Regex.Match(readme, "```bash\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;

        Assert.StartsWith("dotnet run --project src/TwaBot.Api ", firstBlock, StringComparison.Ordinal);
        Assert.Contains("\ndotnet test ", firstBlock, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSandboxInboundExampleOpensTheWindowForTheNextSendText()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var server = sandbox.Server;
        var script = Block(readme, "sandbox:inbound")
            .Replace("twb_admin_…", server.PrintedAdminKey(), StringComparison.Ordinal)
            .Replace("http://localhost:5080", server.Address.ToString().TrimEnd('/'), StringComparison.Ordinal);

        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", server.SeededApiKey());
        var refused = await client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Hello" });
        await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED"); // closed until the customer writes

        var arrived = await BashAsync(script);

        using var answer = JsonDocument.Parse(arrived);
        Assert.True(answer.RootElement.GetProperty("delivered").GetBoolean(), arrived);
        var sent = await client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Hello" });
        Assert.True(sent.StatusCode == HttpStatusCode.OK, await sent.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheIdempotencyExampleRunTwiceSendsOnce()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var server = sandbox.Server;
        var script = $"KEY={server.SeededApiKey()}\n"
            + Block(readme, "idempotency:send").Replace("http://localhost:5080", server.Address.ToString().TrimEnd('/'), StringComparison.Ordinal);

        var first = await BashAsync(script);
        var again = await BashAsync(script);

        using var answer = JsonDocument.Parse(first);
        Assert.StartsWith("wamid.", answer.RootElement.GetProperty("message_id").GetString(), StringComparison.Ordinal);
        Assert.Equal(first, again);
    }

    /// <summary>The bash block that follows the <c>&lt;!-- marker --&gt;</c> comment.</summary>
    internal static string Block(string readme, string marker)
    {
        var match = Regex.Match(readme, $"<!-- {Regex.Escape(marker)} -->\\s*```bash\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, $"README.md has no bash block after <!-- {marker} -->");
        return match.Groups[1].Value;
    }

    internal static async Task<string> BashAsync(string script)
    {
        // The commands' answer is what they print; standard error only explains a failure.
        var (exitCode, output, error) = await Repository.RunApartAsync("bash", ["-euc", script], TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"bash failed ({exitCode}):\n{script}\n{output}{error}");
        return output;
    }
}
