using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// What the processor reads from the inbox file in one pass: the deliveries after the last one it moved, oldest
/// first, no more than it asks for in number or in bytes of bodies (but always one), each with its receipt time in UTC.
/// </summary>
public sealed class WebhookInboxFileTests : IDisposable
{
    private const int BodyBytes = 100; // each delivery stored below

    private readonly TemporaryDatabase _database = new();

    [Theory]
    [InlineData(0, 10, 1000, new long[] { 1, 2, 3 })]
    [InlineData(1, 10, 1000, new long[] { 2, 3 })] // after the last one moved
    [InlineData(3, 10, 1000, new long[0])]
    [InlineData(0, 2, 1000, new long[] { 1, 2 })] // the count
    [InlineData(0, 10, BodyBytes, new long[] { 1 })] // the first body reaches the size
    [InlineData(0, 10, BodyBytes + 1, new long[] { 1, 2 })] // the second goes past it, and is the last
    [InlineData(0, 10, 1, new long[] { 1 })] // a body larger than the size is still read, alone
    public async Task APassReadsTheDeliveriesAfterTheLastMovedUpToACountAndASizeOfBodies(long afterId, int limit, int maxBytes, long[] ids)
    {
        var inbox = await InboxWithThreeDeliveriesAsync();

        var entries = await inbox.ReadAsync(afterId, limit, maxBytes, CancellationToken.None);

        Assert.Equal(ids, entries.Select(e => e.Id));
    }

    [Fact]
    public async Task AReceiptTimeIsReadBackAsTheUtcTimeStored()
    {
        var inbox = await InboxWithThreeDeliveriesAsync();

        var first = (await inbox.ReadAsync(0, 1, 1000, CancellationToken.None)).Single();

        Assert.Equal(DateTimeKind.Utc, first.ReceivedAt.Kind); // never taken for the machine's local time downstream
        Assert.Equal(new DateTime(2026, 4, 14, 10, 30, 45, DateTimeKind.Utc), first.ReceivedAt);
        Assert.Equal(BodyBytes, first.Body.Length);
    }

    public void Dispose() => _database.Dispose();

    private async Task<WebhookInboxFile> InboxWithThreeDeliveriesAsync()
    {
        var inbox = new WebhookInboxFile(new SqliteConnections($"Data Source={_database.Path};Pooling=False"));
        await inbox.EnsureCreatedAsync(CancellationToken.None);
        await using var connection = await inbox.Connections.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES
                ('2026-04-14 10:30:45', x'01', zeroblob({BodyBytes})),
                ('2026-04-14 10:30:46', x'02', zeroblob({BodyBytes})),
                ('2026-04-14 10:30:47', x'03', zeroblob({BodyBytes}));
            """;
        await command.ExecuteNonQueryAsync();
        return inbox;
    }
}
