using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// The SQL docs/operations.md hands operators, run as written on a database the server filled through its API: the support
/// queries (Answering a business's questions) must say what their sentences say, and the erasure (Personal data) must leave
/// what it says it leaves.
/// </summary>
public sealed partial class OperationsSqlTests
{
    [Fact]
    public async Task TheSupportHistoryOfASendListsItsStatusesInTheOrderTheyHappened()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var sent = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = OrdinaryNumbers.Any(), template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });
        var wamid = (await sent.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString();
        await server.SettleStatusesAsync();
        long id = 0;
        await server.WithDbAsync(async db => id = await db.Messages.Where(m => m.Wamid == wamid).Select(m => m.Id).SingleAsync());

        var history = await ReadAsync(server.DatabasePath, SupportQuery("FROM message_status_events").Replace("<id>", $"{id}", StringComparison.Ordinal));

        Assert.Equal(["sent", "delivered", "read"], history.Select(row => row[0]));
    }

    [Fact]
    public async Task TheSupportWindowQueryFindsTheWindowOfACustomerWhoWritesFromTheWaIdOfTheNumberAsWritten()
    {
        // A Brazilian mobile as the business writes it; the customer writes from the wa_id Meta gives it, without the ninth digit.
        const string Number = "5511987654321";
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.CustomerWritesAsync(tenant.BusinessId, "551187654321");

        // The server counts the window for the number as written...
        (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Number, message = "Hello" })).EnsureSuccessStatusCode();
        // ...and the query the docs give for "WINDOW_CLOSED, but the customer wrote an hour ago" must show it.
        var window = await ReadAsync(server.DatabasePath, SupportQuery("FROM contacts")
            .Replace("business_id = 2", $"business_id = {tenant.BusinessId}", StringComparison.Ordinal)
            .Replace("'919876543210'", $"'{Number}'", StringComparison.Ordinal));

        var row = Assert.Single(window);
        Assert.NotNull(row[1]); // last_inbound_at
    }

    [Theory]
    [InlineData(true)]  // the operator is given the customer's current number
    [InlineData(false)] // their former one
    public async Task TheErasureLeavesNoTraceOfTheNumberButItsOwnOptOutRowsAfterANumberChange(bool eraseCurrent)
    {
        using var database = new TemporaryDatabase();
        var (former, current) = (OrdinaryNumbers.Any(), OrdinaryNumbers.Any());
        long businessId;
        await using (var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            // The customer says STOP, changes their number (Meta's notice, from the old one), and writes from the new one.
            var tenant = await server.CreateSendingTenantAsync();
            businessId = tenant.BusinessId;
            await server.CustomerWritesAsync(businessId, former, "STOP");
            var phoneNumberId = "";
            await server.WithDbAsync(async db => phoneNumberId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).PhoneNumberId);
            var notice = MetaPayloads.SystemMessage($"wamid.changed-{Guid.NewGuid():N}", former,
                new JsonObject { ["body"] = $"User changed from {former} to {current}", ["wa_id"] = current, ["type"] = "user_changed_number" },
                server.Clock.GetUtcNow());
            (await server.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(phoneNumberId, messages: [notice])))))
                .EnsureSuccessStatusCode();
            await server.ApplyWebhooksAsync();
            await server.CustomerWritesAsync(businessId, current, "Hello again");
        }

        // As the docs say: the server stopped, the script run on the file.
        var erased = eraseCurrent ? current : former;
        await database.ExecuteAsync(ErasureScript()
            .Replace("(2, '919876543210')", $"({businessId}, '{erased}')", StringComparison.Ordinal));

        // What stays on purpose: the number's suppression row and its contact row recording the STOP.
        Assert.Empty(await TracesAsync(database.Path, erased));
    }

    /// <summary>Every column value holding <paramref name="number"/>, but in the number's own suppression and contact rows.</summary>
    private static async Task<List<string>> TracesAsync(string databasePath, string number)
    {
        var traces = new List<string>();
        var tables = await ReadAsync(databasePath, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
        foreach (var table in tables.Select(row => (string)row[0]!))
        {
            var ownRow = table is "suppressions" or "contacts" ? $" AND phone <> '{number}'" : "";
            foreach (var column in (await ReadAsync(databasePath, $"SELECT name FROM pragma_table_info('{table}')")).Select(row => (string)row[0]!))
            {
                var found = await ReadAsync(databasePath,
                    $"SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), '{number}') > 0{ownRow}");
                traces.AddRange(found.Select(row => $"{table}.{column}: {row[0]}"));
            }
        }

        return traces;
    }

    /// <summary>The one support query of operations.md that reads <paramref name="from"/>, as a shell would pass it.</summary>
    private static string SupportQuery(string from)
    {
        var queries = SupportCommand().Matches(Operations())
            .Select(match => Regex.Replace(match.Groups[1].Value.Replace("\\\"", "\"", StringComparison.Ordinal), @"\s+", " "))
            .Where(sql => sql.Contains(from, StringComparison.Ordinal))
            .ToList();
        return Assert.Single(queries);
    }

    /// <summary>The erasure script of operations.md (Personal data) without the sqlite3 shell's dot-commands.</summary>
    private static string ErasureScript()
    {
        var script = ErasureBlock().Match(Operations());
        Assert.True(script.Success, "docs/operations.md has no erasure script");
        return string.Join('\n', script.Groups[1].Value.Split('\n').Where(line => !line.StartsWith('.')));
    }

    private static string Operations() => File.ReadAllText(Repository.PathOf("docs/operations.md"));

    private static async Task<List<object?[]>> ReadAsync(string databasePath, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    [GeneratedRegex(@"sqlite3 -readonly /data/twabot\.db ""((?:[^""\\]|\\.)*)""")]
    private static partial Regex SupportCommand();

    [GeneratedRegex(@"```sql\n(\.bail on\n.*?CREATE TEMP TABLE target.*?)```", RegexOptions.Singleline)]
    private static partial Regex ErasureBlock();
}
