using System.Net;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.ApiKeys;

/// <summary>
/// docs/operations.md: while another process holds the database's write lock, "Reads, message-status included, go on".
/// A key's last use is a write, but one no caller waits for: a read must not wait SQLite's busy timeout for it, nor fail.
/// </summary>
public sealed class ReadsWhileTheDatabaseIsLockedTests
{
    [Theory]
    [InlineData("/api/v1/health", HttpStatusCode.OK)]
    [InlineData("/api/v1/templates", HttpStatusCode.OK)]
    [InlineData("/api/v1/message-status/wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", HttpStatusCode.NotFound)]
    public async Task AKeyNotUsedThisMinuteReadsWhileAnotherProcessHoldsTheWriteLock(string path, HttpStatusCode expected)
    {
        await using var server = new ShortBusyWaitServer();
        var tenant = await server.CreateSendingTenantAsync(); // its key never used: its first request writes last_used_at

        var (read, _) = await ReadWhileLockedAsync(server, tenant.Client, path);

        Assert.Equal(expected, read.StatusCode);
    }

    [Fact]
    public async Task ItWaitsForTheLastUseWriteAboutASecondNotSqlitesBusyTimeout()
    {
        await using var server = new TwaBotApiFactory(); // SQLite's own busy timeout: 30 s
        var tenant = await server.CreateSendingTenantAsync();

        var (read, waited) = await ReadWhileLockedAsync(server, tenant.Client, "/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.True(waited < TimeSpan.FromSeconds(15), $"{waited}"); // a bound on the wait, with room for a loaded machine
    }

    private static async Task<(HttpResponseMessage Read, TimeSpan Waited)> ReadWhileLockedAsync(TwaBotApiFactory server, HttpClient client, string path)
    {
        await using var held = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var read = await client.GetAsync(path);
        var waited = clock.Elapsed;
        await held.ReleaseAsync();

        return (read, waited);
    }
}
