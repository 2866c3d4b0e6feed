using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

public class DatabaseTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task StartingOnAnEmptyFileAppliesEveryMigrationInWalMode()
    {
        _ = factory.Server; // start the server: migrations run before it accepts requests

        await factory.WithDbAsync(async db =>
        {
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.Equal("wal", await Pragma(db, "journal_mode"));
        });
    }

    [Fact]
    public async Task ConnectionsUseFullSynchronousWritesAndForeignKeys()
    {
        _ = factory.Server;

        await factory.WithDbAsync(async db =>
        {
            Assert.Equal(2L, await Pragma(db, "synchronous")); // 2 = FULL
            Assert.Equal(1L, await Pragma(db, "foreign_keys"));
        });
    }

    [Fact]
    public async Task TheModelMatchesTheCheckedInMigrations()
    {
        _ = factory.Server;

        await factory.WithDbAsync(db =>
        {
            // Fails when an entity changed without `dotnet ef migrations add`.
            Assert.False(db.Database.HasPendingModelChanges());
            return Task.CompletedTask;
        });
    }

    [Fact]
    public Task UpgradingKeepsStoredWebhookEventsUnderTheTimeOrderedKey() =>
        UpgradeAsync("20261125200425_DailyQuota", // the last one before the key changed
            """
            INSERT INTO webhook_events (received_at, body_sha256, body, applied_at, attempts)
            VALUES ('2026-11-25 10:00:00', x'0102', x'7b7d', '2026-11-25 10:00:01', 1)
            """,
            async db =>
            {
                var stored = await db.WebhookEvents.AsNoTracking().SingleAsync();
                Assert.Equal(0, stored.EventTime);
                Assert.Equal([1, 2], stored.BodySha256);
                Assert.Equal("{}"u8.ToArray(), stored.Body);
                // The key is the pair: the same hash with another time is another delivery, the same pair is refused.
                Assert.Equal(1, await db.Database.ExecuteSqlRawAsync(
                    "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts) VALUES ('2026-11-26', 7, x'0102', x'7b7d', 0)"));
                await Assert.ThrowsAsync<SqliteException>(() => db.Database.ExecuteSqlRawAsync(
                    "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts) VALUES ('2026-11-26', 0, x'0102', x'7b7d', 0)"));
            });

    [Fact]
    public Task UpgradingGivesContactsTheTimesOfTheirLatestKeywordAndPreference() =>
        UpgradeAsync("20261126045008_TimeOrderedWebhookKey", // the last one before these times
            """
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old', 'Pro', 'Asia/Kolkata', '2026-11-01 00:00:00');
            INSERT INTO contacts (business_id, phone, marketing_opt_out_at) VALUES (1, '919811110000', '2026-11-20 09:00:00');
            INSERT INTO contacts (business_id, phone) VALUES (1, '919822220000');
            INSERT INTO inbound_messages (business_id, wamid, "from", type, text, sent_at) VALUES
                (1, 'wamid.a', '919822220000', 'text', ' stop ', '2026-11-20 10:00:00'),
                (1, 'wamid.b', '919822220000', 'text', 'Start', '2026-11-21 10:00:00'),
                (1, 'wamid.c', '919822220000', 'text', 'start now', '2026-11-22 10:00:00'),
                (1, 'wamid.d', '919811110000', 'text', 'Hello', '2026-11-22 10:00:00');
            """,
            async db =>
            {
                var contacts = await db.Contacts.AsNoTracking().OrderBy(c => c.Phone).ToListAsync();
                Assert.Equal(new DateTime(2026, 11, 20, 9, 0, 0, DateTimeKind.Utc), contacts[0].MarketingPreferenceAt);
                Assert.Null(contacts[0].OptKeywordAt); // "Hello" is no keyword
                Assert.Null(contacts[1].MarketingPreferenceAt);
                Assert.Equal(new DateTime(2026, 11, 21, 10, 0, 0, DateTimeKind.Utc), contacts[1].OptKeywordAt); // "start now" is a conversation
            });

    [Theory]
    [InlineData("Data Source=twabot.db", "/srv/app/twabot.db")]
    [InlineData("Data Source=/data/twabot.db", "/data/twabot.db")]
    [InlineData(null, "/srv/app/twabot.db")]
    public void RelativeDatabaseFilesAreUnderTheContentRoot(string? configured, string expectedFile)
    {
        var connectionString = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(
            DataExtensions.BuildConnectionString(configured, "/srv/app"));

        Assert.Equal(expectedFile, connectionString.DataSource);
        Assert.True(connectionString.ForeignKeys);
        Assert.True(connectionString.DefaultTimeout >= 30);
    }

    private static async Task<object?> Pragma(TwaBotDbContext db, string name)
    {
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA {name};";
            return await command.ExecuteScalarAsync();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// A database file migrated up to <paramref name="before"/>, given rows of that time by
    /// <paramref name="oldRows"/>, then migrated to the end and checked by <paramref name="check"/>.
    /// </summary>
    private static async Task UpgradeAsync(string before, string oldRows, Func<TwaBotDbContext, Task> check)
    {
        using var database = new TemporaryDatabase();
        await using var db = new TwaBotDbContext(database.ContextOptions());
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(before);
        await db.Database.ExecuteSqlRawAsync(oldRows);

        await migrator.MigrateAsync();

        await check(db);
    }
}
