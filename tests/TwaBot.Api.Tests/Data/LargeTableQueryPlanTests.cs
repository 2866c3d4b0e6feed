using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Admin;
using TwaBot.Api.Data;
using TwaBot.Api.RateLimiting;
using TwaBot.Api.Sending.Steps;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// Queries that must find their rows through an index however large the table (docs/performance.md, A year's database):
/// SQLite's plan for EF's SQL, on a database without ANALYZE statistics, as the server's own.
/// </summary>
public sealed class LargeTableQueryPlanTests
{
    [Fact]
    public async Task TheWindowCheckLooksUpTheNumberAndItsWaIdNotEveryContactOfTheBusiness()
    {
        var plan = await PlanAsync(db => SessionWindowIsOpen.ContactsOf(db, 1, "919876543210"));

        Assert.Contains(plan, step => step.Contains("ix_contacts_business_id_phone (business_id=? AND phone=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("(business_id=?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheAdminApisSuppressionLookupProbesTheNumberAndItsWaIdNotEverySuppressionOfTheBusiness()
    {
        var plan = await PlanAsync(db => SuppressionsAdmin.SeenBySends(db, 1, "919876543210"));

        Assert.Contains(plan, step => step.Contains("ix_suppressions_business_id_phone (business_id=? AND phone=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.Contains("(business_id=?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACustomersStartFindsTheNumbersOfItsWaIdAndTheirSuppressionsThroughIndexes()
    {
        var numbers = await PlanAsync(db => WebhookApplier.NumbersWithWaId(db, 1, "551187654321"));
        var suppressions = await PlanAsync(db => WebhookApplier.OptedOutAmong(db, 1, ["551187654321", "5511987654321"]));

        Assert.Contains(numbers, step => step.Contains("ix_recipient_wa_ids_business_id_wa_id (business_id=? AND wa_id=?)", StringComparison.Ordinal));
        Assert.Contains(suppressions, step => step.Contains("ix_suppressions_business_id_phone (business_id=? AND phone=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(suppressions, step => step.Contains("(business_id=?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AMessageNamingOnlyABsuidFindsItsNumberThroughTheIndex()
    {
        var plan = await PlanAsync(db => WebhookApplier.LinkOf(db, 1, "US.13491208655302741918"));

        Assert.Contains(plan, step => step.Contains("ix_user_id_links_business_id_user_id (business_id=? AND user_id=?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheProcessorsReTryOfParkedStatusesReadsOnlyThoseWhoseMessageAppearedNotEveryParkedOne()
    {
        // 100,000 reports parked for a number shared with another system cost every pass up to half a second.
        var plan = await PlanAsync(WebhookProcessor.ParkedWithTheirMessage);

        // The partial index holds only the rows the triggers on messages marked; the message is then one probe.
        Assert.Contains("SCAN p USING INDEX ix_parked_statuses_message_found", plan);
        Assert.Contains("SEARCH m USING INDEX ix_messages_wamid (wamid=?)", plan);
    }

    [Fact]
    public async Task TheExpiryOfHeldEventsReadsOnlyTheExpiredOnesThroughTheReceivedAtIndex()
    {
        // It runs every pass while anything is held, and a business may hold up to 100,000 BSUIDs.
        var plan = await PlanAsync(db => WebhookProcessor.ExpiredHeldBusinesses(db, DateTime.UtcNow));

        Assert.Contains(plan, step => step.Contains("ix_held_user_events_received_at (received_at<?)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATimeZoneChangeReadsTheBusinesssRecentSendsThroughTheQuotaDayIndex()
    {
        // A year of a busy key's sends is millions of rows; the change reads only the last days' of its keys.
        var (sql, parameters) = DailyQuota.RetagStatement(1, "America/New_York", DateTimeOffset.UtcNow);

        var plan = await PlanAsync(db =>
        {
            var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddRange(parameters.ToArray());
            return command;
        });

        Assert.Contains(plan, step => step.Contains("ix_messages_api_key_id_quota_day (api_key_id=? AND quota_day>?)", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.Contains("ix_api_keys_business_id (business_id=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(WebhookBacklog.InboxWaitingSql)]
    [InlineData(WebhookBacklog.InboxOldestSql)]
    public async Task TheWebhookBacklogGaugesReadAFewPagesOfTheInboxNotEveryDeliveryWaiting(string gauge)
    {
        // Read at every export while a redelivery of hundreds of thousands waits there: a scan read the whole file each
        // time. SQLite's plan does not tell (count(*) and min() over a column without an index read as cheap), so the test
        // counts the pages the statement fetches.
        await using var server = new TwaBotApiFactory();
        await using var connection = await server.Services.GetRequiredService<WebhookInboxFile>().Connections.OpenAsync(CancellationToken.None);
        await InsertInboxRowsAsync(connection, 2_000); // about 300 pages

        Assert.InRange(PagesFetched(connection, gauge), 1, 10);
    }

    private static async Task InsertInboxRowsAsync(Microsoft.Data.Sqlite.SqliteConnection connection, int rows)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
            INSERT INTO webhook_inbox (received_at, body_sha256, body) SELECT '2026-11-26 10:00:00', randomblob(32), randomblob(500) FROM n
            """;
        command.Parameters.AddWithValue("$rows", rows);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The database pages SQLite fetches (from its cache or the file) to run <paramref name="sql"/> to its end.</summary>
    private static int PagesFetched(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        int Fetched(int reset) =>
            (SQLitePCL.raw.sqlite3_db_status(connection.Handle, SQLitePCL.raw.SQLITE_DBSTATUS_CACHE_HIT, out var hits, out _, reset) == SQLitePCL.raw.SQLITE_OK ? hits : -1)
            + (SQLitePCL.raw.sqlite3_db_status(connection.Handle, SQLitePCL.raw.SQLITE_DBSTATUS_CACHE_MISS, out var misses, out _, reset) == SQLitePCL.raw.SQLITE_OK ? misses : -1);

        Assert.Equal(SQLitePCL.raw.SQLITE_OK, SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement));
        using (statement)
        {
            Fetched(reset: 1);
            while (SQLitePCL.raw.sqlite3_step(statement) == SQLitePCL.raw.SQLITE_ROW)
            {
            }

            return Fetched(reset: 0);
        }
    }

    private static Task<List<string>> PlanAsync<T>(Func<TwaBotDbContext, IQueryable<T>> query) =>
        PlanAsync(db => query(db).CreateDbCommand());

    private static async Task<List<string>> PlanAsync(Func<TwaBotDbContext, System.Data.Common.DbCommand> statement)
    {
        await using var server = new TwaBotApiFactory();
        var plan = new List<string>();
        await server.WithDbAsync(async db =>
        {
            await using var command = statement(db);
            command.CommandText = "EXPLAIN QUERY PLAN " + command.CommandText;
            await db.Database.OpenConnectionAsync();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(reader.GetOrdinal("detail")));
            }
        });
        return plan;
    }
}
