using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// A send whose row waits for the database (another program holds its write lock) while its caller times out
/// is not passed to Meta once the lock goes: the caller saw no answer and sends again, so the customer would get it twice.
/// </summary>
public class CallerLeftTests
{
    [Fact]
    public async Task ASendWhoseCallerLeftWhileItsRowWaitedForTheDatabaseIsNotSent()
    {
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0); // a real socket: the in-memory server answers a cancelled call only once the request ends
        server.StartServer();
        var tenant = await server.CreateSendingTenantAsync();
        var order = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };
        (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", order)).EnsureSuccessStatusCode(); // the key's use written, the day loaded
        var before = DayRemaining(await tenant.Client.GetAsync("/api/v1/health"));
        await using var shell = new SqliteConnection($"Data Source={server.DatabasePath};Pooling=False");
        await shell.OpenAsync();
        await ExecuteAsync(shell, "BEGIN IMMEDIATE;"); // a sqlite3 shell left inside a transaction

        using (var gaveUp = new CancellationTokenSource(TimeSpan.FromSeconds(5))) // the caller's own timeout
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tenant.Client.PostAsJsonAsync("/api/v1/send-template", order, gaveUp.Token));
        }

        await ExecuteAsync(shell, "ROLLBACK;");

        Message? row = null;
        for (var waited = 0; waited < 100 && row is not { ApiStatus: not ApiStatuses.Pending }; waited++)
        {
            await Task.Delay(100);
            await server.WithDbAsync(async db => row = await db.Messages.AsNoTracking().OrderBy(m => m.Id).Skip(1).SingleOrDefaultAsync());
        }

        Assert.NotNull(row);
        Assert.Equal(ApiStatuses.Failed, row.ApiStatus);
        Assert.Null(row.Wamid);
        Assert.StartsWith("Not sent: the caller disconnected", row.FailureReason, StringComparison.Ordinal);
        Assert.Equal(before, DayRemaining(await tenant.Client.GetAsync("/api/v1/health"))); // its unit given back
    }

    private static string DayRemaining(HttpResponseMessage answer) =>
        System.Text.RegularExpressions.Regex.Match(string.Join(",", answer.Headers.GetValues("RateLimit")), "\"day\";r=(\\d+)").Groups[1].Value;

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
