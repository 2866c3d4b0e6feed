using Microsoft.Extensions.Logging.Abstractions;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// The inbox writer wakes the processor once deliveries are committed (it would otherwise find them only at its idle
/// poll, seconds later), and forgets exactly what the processor says it has moved, with a commit of its own when no
/// delivery comes to share one.
/// </summary>
public sealed class WebhookInboxTests : IAsyncLifetime
{
    private readonly TemporaryDatabase _database = new();
    private WebhookInboxFile _file = null!;
    private WebhookInbox _inbox = null!;

    [Fact]
    public async Task ACommittedDeliveryWakesTheProcessor()
    {
        await _inbox.WriteAsync(Delivery(1)).WaitAsync(Poll.Limit);

        Assert.True(await _inbox.WaitForArrivalsAsync(CancellationToken.None).AsTask().WaitAsync(Poll.Limit));
    }

    [Fact]
    public async Task ForgettingDropsTheMovedDeliveriesAndNoOtherOnceItsCommitIsDone()
    {
        foreach (var n in new byte[] { 1, 2, 3 })
        {
            await _inbox.WriteAsync(Delivery(n)).WaitAsync(Poll.Limit);
        }

        await _inbox.ForgetThroughAsync(2).WaitAsync(Poll.Limit); // no delivery to share its commit with
        Assert.Equal([3L], (await _file.ReadAsync(0, 10, 1000, CancellationToken.None)).Select(e => e.Id));

        await _inbox.ForgetThroughAsync(1).WaitAsync(Poll.Limit); // a late call for less never brings anything back
        await _inbox.WriteAsync(Delivery(4)).WaitAsync(Poll.Limit);
        Assert.Equal([3L, 4L], (await _file.ReadAsync(0, 10, 1000, CancellationToken.None)).Select(e => e.Id));
    }

    public async Task InitializeAsync()
    {
        _file = new WebhookInboxFile(new SqliteConnections($"Data Source={_database.Path};Pooling=False"));
        _inbox = new WebhookInbox(_file, NullLogger<WebhookInbox>.Instance);
        await _inbox.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _inbox.StopAsync(CancellationToken.None);
        _inbox.Dispose();
        _database.Dispose();
    }

    private static InboxRow Delivery(byte n) => new([n], [n], new DateTime(2026, 4, 14, 10, 30, 45, DateTimeKind.Utc));
}
