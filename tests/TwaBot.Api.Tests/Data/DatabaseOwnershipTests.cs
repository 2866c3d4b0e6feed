using System.Net;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// One server per database: a second one on the same files would count limits, daily caps and
/// Idempotency-Keys apart from the first, so it stops at start naming the files; the first keeps serving,
/// and once it has stopped, by a stop or a crash, the next server starts.
/// </summary>
public class DatabaseOwnershipTests
{
    [Fact]
    public async Task ASecondServerOnTheSameDatabaseDoesNotStartAndTheFirstKeepsServing()
    {
        // The refusal's one line, as an operator sees it: ConfigurationValidationTests (a real process).
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        await using var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path);
        var tenant = await first.CreateSendingTenantAsync();

        await using (var second = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            Assert.ThrowsAny<Exception>(() => second.Server);
        }

        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/health")).StatusCode);
    }

    [Fact]
    public async Task AServerStoppedOrCrashedLeavesNoClaimOnItsDatabase()
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        await using (var stopped = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path) { DeleteDatabaseOnDispose = false })
        {
            _ = stopped.Server;
        }

        await using var crashed = await ServerProcess.StartAsync(databasePath: path);
        await crashed.KillAsync(); // no chance to let anything go: the kernel releases the lock with the process

        await using var next = await ServerProcess.StartAsync(databasePath: path);
        using var client = next.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}
