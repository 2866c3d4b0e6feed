using System.Net;
using System.Net.Http.Json;
using Serilog.Events;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// What the log says of a write refused for storage (another process's lock here; a full disk is the same fault).
/// </summary>
public sealed class StorageFaultLogTests
{
    /// <summary>
    /// A send refused for storage writes one Error with the exception (docs/operations.md, Logs), not one more from the group
    /// commit that handed it the fault: on a full disk every refused send and every retried webhook would log two stack traces.
    /// </summary>
    [Fact]
    public async Task ASendRefusedForStorageLogsItsFaultOnce()
    {
        await using var server = new ShortBusyWaitServer();
        var tenant = await server.CreateSendingTenantAsync();
        (await tenant.Client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode(); // the key's last use written, not due again this minute
        await using var held = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        var refused = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        await held.ReleaseAsync();

        await refused.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
        await server.Logs.AllTextOnceItHoldsAsync("responded 503");
        var withTheFault = server.Logs.Events.Where(e => e.Level == LogEventLevel.Error && e.Exception is not null).ToList();
        Assert.Equal(["The database could not be written on {Method} {Path}; answered 503 (docs/operations.md: another process's lock, a full disk)"],
            withTheFault.Select(e => e.MessageTemplate.Text));
    }

    /// <summary>
    /// EF's "Failed executing DbCommand" is left out only while the server starts, where the start's one line says what failed
    /// (ConfigurationValidationTests, the damaged file); once it runs, the failed statement is in the log for whoever looks.
    /// </summary>
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
