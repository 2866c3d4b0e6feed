using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// EF's "Failed executing DbCommand" is left out only while the server starts, where the start's one line says what failed
/// (ConfigurationValidationTests, the damaged file); once it runs, the failed statement is in the log for whoever looks.
/// </summary>
public sealed class FailedStatementLogTests
{
    [Fact]
    public async Task AStatementThatFailsOnceTheServerRunsIsLogged()
    {
        await using var server = new ShortBusyWaitServer();
        using var admin = server.CreateAdminClient();
        await using var held = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        var refused = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Locked out", plan = "Pro" });

        await refused.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
        Assert.Contains("Failed executing DbCommand", server.Logs.AllText(), StringComparison.Ordinal);
    }
}
