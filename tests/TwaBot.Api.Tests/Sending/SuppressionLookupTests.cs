using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;
using TwaBot.Api.Sending;

namespace TwaBot.Api.Tests.Sending;

/// <summary>Sends ask at once; each must get its own number's answer, and a prepared statement is never shared by two reads.</summary>
public sealed class SuppressionLookupTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"twabot-suppressions-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task ConcurrentLookupsEachGetTheirOwnNumbersState()
    {
        var connections = await SuppressionsTableAsync(string.Concat(Enumerable.Range(0, 100).Where(i => i % 2 == 0)
            .Select(i => $"INSERT INTO suppressions VALUES (1, '91980000{i:D4}', '{(i % 4 == 0 ? "blocked" : "opted_out")}');")));

        using var lookup = new SuppressionLookup(connections);
        var answers = new string?[50_000];
        await Parallel.ForAsync(0, answers.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
        {
            answers[i] = lookup.StateOf(i % 3 == 0 ? 2 : 1, $"91980000{i % 100:D4}");
            return ValueTask.CompletedTask;
        });

        for (var i = 0; i < answers.Length; i++)
        {
            var number = i % 100;
            var expected = i % 3 == 0 || number % 2 != 0 ? null : number % 4 == 0 ? "blocked" : "opted_out";
            Assert.True(expected == answers[i], $"lookup {i} (number {number}) gave {answers[i] ?? "null"}, expected {expected ?? "null"}");
        }
    }

    [Fact]
    public async Task ALookupDisposedAtShutdownDoesNotOpenItsConnectionAgain()
    {
        var connections = await SuppressionsTableAsync(rows: "");

        var lookup = new SuppressionLookup(connections);
        Assert.Null(lookup.StateOf(1, "919800000001"));
        lookup.Dispose();

        Assert.Throws<ObjectDisposedException>(() => lookup.StateOf(1, "919800000001"));
    }

    [Fact]
    public async Task ANumberWhoseWaIdIsSuppressedIsSuppressedAndItsOwnRowComesFirst()
    {
        var connections = await SuppressionsTableAsync("""
            INSERT INTO suppressions VALUES (1, '551187654321', 'opted_out');
            INSERT INTO recipient_wa_ids VALUES (1, '5511987654321', '551187654321');
            INSERT INTO suppressions VALUES (1, '551187650000', 'opted_out');
            INSERT INTO suppressions VALUES (1, '5511987650000', 'blocked');
            INSERT INTO recipient_wa_ids VALUES (1, '5511987650000', '551187650000');
            """);

        using var lookup = new SuppressionLookup(connections);

        Assert.Equal("opted_out", lookup.StateOf(1, "5511987654321"));
        Assert.Equal("blocked", lookup.StateOf(1, "5511987650000"));
        Assert.Null(lookup.StateOf(2, "5511987654321")); // another business's pair is not this one's
    }

    [Fact]
    public async Task ANumbersWaIdIsTheOneItsOwnBusinessHeardFromMeta()
    {
        // Another business's pair for the same number (an older wa_id) must not hide this business's opt-out.
        var connections = await SuppressionsTableAsync("""
            INSERT INTO recipient_wa_ids VALUES (1, '5511987654321', '551187650000');
            INSERT INTO recipient_wa_ids VALUES (2, '5511987654321', '551187654321');
            INSERT INTO suppressions VALUES (2, '551187654321', 'opted_out');
            """);

        using var lookup = new SuppressionLookup(connections);

        Assert.Equal("opted_out", lookup.StateOf(2, "5511987654321"));
    }

    /// <summary>A database file holding only the tables the lookup reads, with these INSERT statements run.</summary>
    private async Task<SqliteConnections> SuppressionsTableAsync(string rows)
    {
        var connections = new SqliteConnections($"Data Source={_path}");
        await using var setup = await connections.OpenAsync(CancellationToken.None);
        await using var command = setup.CreateCommand();
        command.CommandText = """
            CREATE TABLE suppressions (business_id INTEGER, phone TEXT, state TEXT, UNIQUE (business_id, phone));
            CREATE TABLE recipient_wa_ids (business_id INTEGER, phone TEXT, wa_id TEXT, UNIQUE (business_id, phone));
            """ + rows;
        await command.ExecuteNonQueryAsync();
        return connections;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        File.Delete(_path);
    }
}
