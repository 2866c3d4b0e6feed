using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Data;

public class DatabaseTests(DatabaseTests.EmptyFileServer factory) : IClassFixture<DatabaseTests.EmptyFileServer>
{
    /// <summary>A server that migrates its new file itself, from nothing (not a copy of the migrated template).</summary>
    public sealed class EmptyFileServer() : TwaBotApiFactory(new Dictionary<string, string?>(), migrateItself: true);

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
    public async Task AContextBackFromAnAllOrNothingTransactionTakesSavepointsAgain()
    {
        // BeginAllOrNothingAsync turns EF's savepoints off on a pooled context (the server's are: AddDbContextPool); the
        // pool turns them on again for its next user. A pool of one gives the same instance back.
        using var database = new TemporaryDatabase();
        var pool = new PooledDbContextFactory<TwaBotDbContext>(database.ContextOptions(), poolSize: 1);
        var used = await pool.CreateDbContextAsync();
        await using (used)
        {
            await using var transaction = await used.Database.BeginAllOrNothingAsync(CancellationToken.None);
            Assert.False(used.Database.AutoSavepointsEnabled);
        }

        await using var again = await pool.CreateDbContextAsync();

        Assert.Same(used, again);
        Assert.True(again.Database.AutoSavepointsEnabled);
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
    public async Task EveryOpeningOfAPooledConnectionSetsFullSynchronousWritesAgain()
    {
        // The pragma is the interceptor's, not SQLite's default (which a build may set to NORMAL in WAL mode): a pooled
        // connection left at NORMAL is FULL again at its next opening, synchronous or not.
        _ = factory.Server;

        await factory.WithDbAsync(async db =>
        {
            foreach (var openAsync in new[] { false, true })
            {
                await db.Database.OpenConnectionAsync();
                await using (var relax = db.Database.GetDbConnection().CreateCommand())
                {
                    relax.CommandText = "PRAGMA synchronous = NORMAL;";
                    await relax.ExecuteNonQueryAsync();
                }

                await db.Database.CloseConnectionAsync();
                if (openAsync)
                {
                    await db.Database.OpenConnectionAsync();
                }
                else
                {
                    db.Database.OpenConnection();
                }

                try
                {
                    await using var command = db.Database.GetDbConnection().CreateCommand();
                    command.CommandText = "PRAGMA synchronous;";
                    Assert.Equal((openAsync, 2L), (openAsync, await command.ExecuteScalarAsync())); // 2 = FULL
                }
                finally
                {
                    await db.Database.CloseConnectionAsync();
                }
            }
        });
    }

    [Fact]
    public async Task TimesAreReadBackAsUtc()
    {
        // SQLite keeps no kind; a time read back without one would be taken for local time by ToUniversalTime or
        // DateTimeOffset on a server not set to UTC.
        var at = new DateTime(2026, 4, 14, 10, 30, 45, DateTimeKind.Utc);
        await factory.WithDbAsync(async db =>
        {
            db.SweepMarks.Add(new SweepMark { Name = "times-read-back", DoneBefore = at });
            await db.SaveChangesAsync();
        });

        await factory.WithDbAsync(async db =>
        {
            var read = (await db.SweepMarks.AsNoTracking().SingleAsync(m => m.Name == "times-read-back")).DoneBefore;
            Assert.Equal((at, DateTimeKind.Utc), (read, read.Kind));
        });
    }

    [Theory]
    [InlineData(0L)] // a whole second: no fraction at all
    [InlineData(1_200_000L)] // trailing zeros dropped
    [InlineData(1_234_567L)] // all seven digits
    public async Task RawStatementsWriteTimesInEfsTextForm(long ticksPastTheSecond)
    {
        // Raw and EF writes meet in unique indexes and in text comparisons: the same time must be the same text.
        var at = new DateTime(2026, 4, 14, 10, 30, 45, DateTimeKind.Utc).AddTicks(ticksPastTheSecond);
        var name = $"text-form-{ticksPastTheSecond}";
        await factory.WithDbAsync(async db =>
        {
            db.SweepMarks.Add(new SweepMark { Name = name, DoneBefore = at });
            await db.SaveChangesAsync();
            var stored = Assert.Single(await db.Database.SqlQuery<string>($"SELECT done_before AS \"Value\" FROM sweep_marks WHERE name = {name}").ToListAsync());
            Assert.Equal(stored, PreparedCommands.Text(at));
        });
    }

    [Theory]
    [InlineData("SELECT 'a' REGEXP 'a';", "no such function: REGEXP")]
    [InlineData("SELECT ef_add(1, 2);", "no such function: ef_add")]
    [InlineData("SELECT ef_sum(1);", "no such function: ef_sum")]
    [InlineData("SELECT 1 ORDER BY 1 COLLATE EF_DECIMAL;", "no such collation sequence: EF_DECIMAL")]
    public async Task EfConnectionsCarryNoneOfEfsSqliteFunctions(string sql, string error)
    {
        // Registered at every open of the pooled connection and removed at every close, they cost each query or save
        // 24 native calls and 24 hook handles, half of them left to the finalizer (PlainEfConnections).
        _ = factory.Server;

        await factory.WithDbAsync(async db =>
        {
            await db.Database.OpenConnectionAsync();
            try
            {
                await using var command = db.Database.GetDbConnection().CreateCommand();
                command.CommandText = sql;
                var refused = await Assert.ThrowsAsync<SqliteException>(() => command.ExecuteScalarAsync());
                Assert.Contains(error, refused.Message, StringComparison.Ordinal);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        });
    }

    [Fact]
    public async Task NoColumnIsADecimalWhichWouldNeedEfsSqliteFunctions()
    {
        // EF turns decimal comparisons, arithmetic and sums into ef_* functions, which PlainEfConnections leaves out.
        await factory.WithDbAsync(db =>
        {
            var decimals = db.Model.GetEntityTypes()
                .SelectMany(entity => entity.GetProperties())
                .Where(property => (Nullable.GetUnderlyingType(property.ClrType) ?? property.ClrType) == typeof(decimal))
                .Select(property => $"{property.DeclaringType.DisplayName()}.{property.Name}");
            Assert.Empty(decimals);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task TheWebhookInboxFileIsInWalModeWithFullSynchronousWrites()
    {
        // The inbox's commit is what a webhook's 200 promises: Meta does not send that delivery again.
        _ = factory.Server;

        await using var connection = await factory.Services.GetRequiredService<WebhookInboxFile>().Connections.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA synchronous;";
        Assert.Equal(2L, await command.ExecuteScalarAsync()); // 2 = FULL
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are Unix's
    public async Task ANewDatabaseFileIsTheServersUsersOnlyAndAnOperatorsModeIsKept()
    {
        // They hold customers' numbers and what they wrote; SQLite gives -wal and -shm the database file's mode. The
        // server-lock file beside them too (whoever can open it can hold the lock). A real process: the start's checks
        // make the files (the test host skips them).
        var folder = Directory.CreateTempSubdirectory("twabot-modes-").FullName;
        var database = Path.Combine(folder, "twabot.db");
        var inbox = WebhookInboxFile.PathBeside(database);
        var operatorsMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead;
        File.WriteAllBytes(inbox, []);
        File.SetUnixFileMode(inbox, operatorsMode);
        try
        {
            await using var server = await ServerProcess.StartAsync(databasePath: database);
            _ = server.SeededApiKey(); // the seed is written

            var files = Directory.GetFiles(folder);
            Assert.Contains(DatabaseOwnership.LockPathOf(database), files);
            Assert.Contains(database + "-wal", files);
            Assert.Contains(inbox + "-wal", files);
            Assert.All(files, file => Assert.Equal(
                (file, file.StartsWith(inbox, StringComparison.Ordinal) ? operatorsMode : UnixFileMode.UserRead | UnixFileMode.UserWrite),
                (file, File.GetUnixFileMode(file))));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ADatabaseSqliteWillNotPutInWalModeStopsTheStartSayingWhy()
    {
        // An in-memory database stays "memory", as a file on a file system without shared memory stays "delete".
        await using var connection = new SqliteConnection("Data Source=:memory:");
        await connection.OpenAsync();

        var error = await Assert.ThrowsAsync<DatabaseUnusableException>(() => SqliteDurability.UseWalAsync(connection, CancellationToken.None));

        Assert.Contains("in WAL journal mode (it stays 'memory')", error.Message, StringComparison.Ordinal);
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

    [Fact]
    public Task UpgradingMakesTemplatesThatEarlierVersionsLeftWithAnEventsNameSendableAgain() =>
        UpgradeAsync("20261201192956_OutOfOrderPreferences", // the last one before template events were read as they are now
            """
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old', 'Pro', 'Asia/Kolkata', '2026-11-01 00:00:00');
            INSERT INTO templates (business_id, name, language, content, category, status, variables, updated_at) VALUES
                (1, 'reinstated', 'en', 'Hi', 'UTILITY', 'REINSTATED', '[]', '2026-11-20 00:00:00'),
                (1, 'unarchived', 'en', 'Hi', 'UTILITY', 'UNARCHIVED', '[]', '2026-11-20 00:00:00'),
                (1, 'flagged', 'en', 'Hi', 'MARKETING', 'FLAGGED', '[]', '2026-11-20 00:00:00'),
                (1, 'paused', 'en', 'Hi', 'MARKETING', 'PAUSED', '[]', '2026-11-20 00:00:00'),
                (1, 'locked', 'en', 'Hi', 'UTILITY', 'LOCKED', '[]', '2026-11-20 00:00:00');
            """,
            async db =>
            {
                var statuses = await db.Templates.AsNoTracking().OrderBy(t => t.Name).Select(t => t.Name + "=" + t.Status).ToListAsync();
                // LOCKED hid the status it replaced: a template sync tells it, not a guess.
                Assert.Equal(["flagged=APPROVED", "locked=LOCKED", "paused=PAUSED", "reinstated=APPROVED", "unarchived=APPROVED"], statuses);
            });

    [Fact]
    public Task UpgradingRecordsTheWaIdsThatStoredStatusReportsNamedForEarlierSends() =>
        UpgradeAsync("20261201201054_TemplateStatusEventTime", // the last one before sends recorded wa_ids
            """
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old', 'Pro', 'America/Sao_Paulo', '2026-11-01 00:00:00');
            INSERT INTO messages (id, business_id, api_key_id, wamid, "to", kind, api_status, status_rank, created_at, updated_at) VALUES
                (1, 1, 1, 'wamid.br', '5511987654321', 'text', 'success', 3, '2026-11-20 10:00:00', '2026-11-20 10:00:00'),
                (2, 1, 1, 'wamid.in', '919876543210', 'text', 'success', 3, '2026-11-20 10:00:00', '2026-11-20 10:00:00');
            INSERT INTO webhook_events (received_at, event_time, body_sha256, body, applied_at, attempts) VALUES
                ('2026-11-20 10:00:02', 1, x'01', CAST('{"entry":[{"changes":[{"field":"messages","value":{"statuses":[
                    {"id":"wamid.br","status":"sent","recipient_id":"551187654321"},{"id":"wamid.in","status":"sent","recipient_id":"919876543210"}]}}]}]}' AS BLOB),
                 '2026-11-20 10:00:02', 1),
                ('2026-11-20 10:00:05', 2, x'02', CAST('{"entry":[{"changes":[{"field":"messages","value":{"statuses":[
                    {"id":"wamid.br","status":"delivered","recipient_id":"551187654321"}]}}]}]}' AS BLOB), '2026-11-20 10:00:05', 1),
                ('2026-11-20 10:00:06', 3, x'03', CAST('not json' AS BLOB), NULL, 5),
                ('2026-11-20 10:00:07', 4, x'04', x'', '2026-11-20 10:00:07', 1),
                ('2026-11-20 10:00:08', 5, x'05', CAST('{"entry":["x",{"changes":"y"},{"changes":[{"value":{"statuses":["z",{"id":7}]}}]}]}' AS BLOB), NULL, 5);
            """,
            async db =>
            {
                var pair = Assert.Single(await db.RecipientWaIds.AsNoTracking().ToListAsync());
                Assert.Equal((1L, "5511987654321", "551187654321"), (pair.BusinessId, pair.Phone, pair.WaId));
                Assert.Equal(new DateTime(2026, 11, 20, 10, 0, 5, DateTimeKind.Utc), pair.UpdatedAt);
            });

    [Fact]
    public Task UpgradingPairsTheWaIdsOfEarlierMexicanArgentineAndBrazilianCustomersWithTheirNumbers() =>
        UpgradeAsync("20261203151517_HeldUserEvents", // the last one before Mexican and Argentine wa_ids were paired
            """
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old', 'Pro', 'America/Mexico_City', '2026-11-01 00:00:00');
            INSERT INTO contacts (business_id, phone, last_inbound_at) VALUES
                (1, '5215512345678', '2026-12-01 10:00:00'), (1, '5491158749895', '2026-12-01 10:00:00'),
                (1, '551187654321', '2026-12-01 10:00:00'), (1, '919876543210', '2026-12-01 10:00:00'),
                (1, '525512345678', '2026-12-01 10:00:00'), (1, '5211012345678', '2026-12-01 10:00:00'),
                (1, '552161234567', '2026-12-01 10:00:00'), (1, '5493514567890', '2026-12-01 10:00:00'),
                -- none of these is the wa_id of a written number: a Brazilian fixed line (eight digits starting 5), no area code
                -- starting 0 or 4, the Brazilian number itself, fourteen digits, and an old row kept with a dash
                (1, '551158765432', '2026-12-01 10:00:00'), (1, '550187654321', '2026-12-01 10:00:00'),
                (1, '5494158749895', '2026-12-01 10:00:00'), (1, '5511987654321', '2026-12-01 10:00:00'),
                (1, '52155123456789', '2026-12-01 10:00:00'), (1, '551187-54321', '2026-12-01 10:00:00');
            INSERT INTO suppressions (business_id, phone, state, reason, created_at) VALUES
                (1, '5213312345678', 'opted_out', 'Customer sent STOP', '2026-12-01 10:00:00'),
                (1, '5215512345678', 'opted_out', 'Customer sent STOP', '2026-12-01 10:00:00'),
                (1, '5491158749896', 'opted_out', 'Customer sent STOP', '2026-12-01 10:00:00');
            INSERT INTO recipient_wa_ids (business_id, phone, wa_id, updated_at) VALUES
                (1, '541158749895', '5491158749895', '2026-11-30 09:00:00');
            """,
            async db =>
            {
                var pairs = await db.RecipientWaIds.AsNoTracking().OrderBy(r => r.Phone).Select(r => new { r.Phone, r.WaId }).ToListAsync();
                Assert.Equal(
                    [
                        new { Phone = "523312345678", WaId = "5213312345678" },
                        new { Phone = "525512345678", WaId = "5215512345678" },
                        new { Phone = "541158749895", WaId = "5491158749895" }, // the send's pair, kept
                        new { Phone = "541158749896", WaId = "5491158749896" },
                        new { Phone = "543514567890", WaId = "5493514567890" },
                        new { Phone = "5511987654321", WaId = "551187654321" },
                        new { Phone = "5521961234567", WaId = "552161234567" },
                    ],
                    pairs);
                Assert.Equal(new DateTime(2026, 11, 30, 9, 0, 0, DateTimeKind.Utc),
                    (await db.RecipientWaIds.AsNoTracking().SingleAsync(r => r.Phone == "541158749895")).UpdatedAt);
            });

    [Fact]
    public Task UpgradingLeavesStoredTemplatesWithoutButtonLinksUntilTheirNextSync() =>
        UpgradeAsync("20261204134939_TemplateButtonTexts", // the last one before links were kept
            """
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old', 'Pro', 'Asia/Kolkata', '2026-11-01 00:00:00');
            INSERT INTO templates (business_id, name, language, content, category, status, variables, buttons, button_texts, updated_at) VALUES
                (1, 'track_order', 'en', 'Shipped', 'UTILITY', 'APPROVED', '[]', '["none","url_suffix"]', '["Call us","Track order"]', '2026-12-04 00:00:00');
            """,
            async db =>
            {
                var template = await db.Templates.AsNoTracking().SingleAsync();
                Assert.Equal(["none", "url_suffix"], template.Buttons);
                Assert.Equal(["Call us", "Track order"], template.ButtonTexts);
                Assert.Empty(template.ButtonUrls); // not known: /templates says null, not a guess
                Assert.Null(template.ButtonUrl(1));
            });

    [Fact]
    public async Task AServerStartedOnADatabaseOfTheFirstVersionsServesItsOldRows()
    {
        // As the first versions (before the daily cap) left a business: its key, a plain-text token, templates (one a
        // REINSTATED event had left with that status), customers' STOPs, sends of today and before with their statuses.
        var key = ApiKeyFormat.Generate(ApiKeyFormat.TestPrefix);
        // A delivery the old version stored and had not applied yet when it stopped: yesterday's send was delivered.
        var unapplied = System.Text.Encoding.UTF8.GetBytes(Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry("200000000000001",
            Webhooks.MetaPayloads.MessagesChange("100000000000001", statuses: [Webhooks.MetaPayloads.Status("wamid.old2", "delivered", TwaBotApiFactory.Start.AddHours(-1))]))).ToJsonString());
        using var database = await OldDatabaseAsync("20261125003003_SandboxEmulator", $$$"""
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old Shop', 'Pro', 'Asia/Kolkata', '2026-04-01 00:00:00');
            INSERT INTO api_keys (id, business_id, name, prefix, key_hash, permissions, daily_limit, created_at)
            VALUES (1, 1, 'CRM', '{{{ApiKeyFormat.DisplayPrefix(key)}}}', x'{{{Convert.ToHexString(ApiKeyFormat.Hash(key))}}}', '["*"]', 2, '2026-04-01 00:00:00');
            INSERT INTO whatsapp_connections (business_id, phone_number_id, waba_id, access_token, display_phone_number, is_sandbox, connected_at)
            VALUES (1, '100000000000001', '200000000000001', 'sandbox_0123456789abcdef0123456789abcdef', '15550000000', 1, '2026-04-01 00:00:00');
            INSERT INTO templates (business_id, name, language, display_name, content, category, status, footer_text, variables, meta_template_id, updated_at) VALUES
                (1, 'order_confirmation', 'en', 'Order Confirmation', 'Hi {{1}}, your order {{2}} of {{3}} has been confirmed!', 'UTILITY', 'APPROVED',
                 'TwaBot - WhatsApp Business', '["customer_name","order_id","amount"]', '1000000000000001', '2026-04-01 00:00:00'),
                (1, 'back_in_stock', 'en', NULL, 'Hi {{1}}, it is back in stock!', 'UTILITY', 'REINSTATED', NULL, '["name"]', '1000000000000003', '2026-04-02 00:00:00');
            INSERT INTO sandbox_templates (waba_id, meta_id, name, language, category, status, body, footer_text) VALUES
                ('200000000000001', '1000000000000001', 'order_confirmation', 'en', 'UTILITY', 'APPROVED',
                 'Hi {{1}}, your order {{2}} of {{3}} has been confirmed!', 'TwaBot - WhatsApp Business'),
                ('200000000000001', '1000000000000003', 'back_in_stock', 'en', 'UTILITY', 'APPROVED', 'Hi {{1}}, it is back in stock!', NULL);
            INSERT INTO contacts (business_id, phone, name, last_inbound_at) VALUES (1, '919800000001', 'Ravi', '2026-04-10 00:00:00');
            INSERT INTO inbound_messages (business_id, wamid, "from", type, text, sent_at) VALUES (1, 'wamid.in1', '919800000001', 'text', 'STOP', '2026-04-10 00:00:00');
            INSERT INTO suppressions (business_id, phone, state, reason, created_at) VALUES (1, '919800000001', 'opted_out', 'Replied STOP', '2026-04-10 00:00:00');
            INSERT INTO messages (id, business_id, api_key_id, wamid, "to", kind, template_name, api_status, delivery_status, status_rank, created_at, sent_at, updated_at)
            VALUES (1, 1, 1, 'wamid.old1', '919876543210', 'template', 'order_confirmation', 'success', 'delivered', 3,
                    '2026-04-14 05:00:00', '2026-04-14 05:00:01', '2026-04-14 05:00:09');
            INSERT INTO message_status_events (message_id, status, occurred_at, received_at) VALUES
                (1, 'sent', '2026-04-14 05:00:02', '2026-04-14 05:00:03'), (1, 'delivered', '2026-04-14 05:00:08', '2026-04-14 05:00:09');
            INSERT INTO messages (id, business_id, api_key_id, wamid, "to", kind, template_name, api_status, delivery_status, status_rank, created_at, sent_at, updated_at)
            VALUES (2, 1, 1, 'wamid.old2', '919876543213', 'template', 'order_confirmation', 'success', 'sent', 1,
                    '2026-04-13 05:00:00', '2026-04-13 05:00:01', '2026-04-13 05:00:02');
            INSERT INTO messages (id, business_id, api_key_id, wamid, "to", kind, api_status, delivery_status, status_rank, created_at, sent_at, updated_at)
            VALUES (3, 1, 1, 'wamid.br', '5511987654321', 'text', 'success', 'read', 4, '2026-04-12 05:00:00', '2026-04-12 05:00:01', '2026-04-12 05:00:09');
            INSERT INTO suppressions (business_id, phone, state, reason, created_at) VALUES (1, '551187654321', 'opted_out', 'Replied STOP', '2026-04-12 06:00:00');
            INSERT INTO webhook_events (received_at, body_sha256, body, applied_at, attempts) VALUES
                ('2026-04-12 05:00:09', x'0a0b', CAST('{"entry":[{"changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.br","status":"read","recipient_id":"551187654321"}]}}]}]}' AS BLOB),
                 '2026-04-12 05:00:09', 1),
                ('2026-04-14 05:00:09', x'0102', x'7b7d', '2026-04-14 05:00:09', 1),
                ('2026-04-14 09:30:00', x'{{{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(unapplied))}}}', x'{{{Convert.ToHexString(unapplied)}}}', NULL, 0);
            """);

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var client = server.CreateApiClient(key);

        var old = await (await client.GetAsync("/api/v1/message-status/wamid.old1")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("delivered", old.GetProperty("delivery_status").GetString());
        var read = Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry("200000000000001", Webhooks.MetaPayloads.MessagesChange("100000000000001",
            statuses: [Webhooks.MetaPayloads.Status("wamid.old1", "read", server.Clock.GetUtcNow())])));
        Assert.Equal(HttpStatusCode.OK, (await server.PostWebhookAsync(read)).StatusCode);
        await server.ApplyWebhooksAsync();
        old = await (await client.GetAsync("/api/v1/message-status/wamid.old1")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("read", old.GetProperty("delivery_status").GetString());
        var yesterdays = await (await client.GetAsync("/api/v1/message-status/wamid.old2")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("delivered", yesterdays.GetProperty("delivery_status").GetString());

        var suppressed = await client.PostAsJsonAsync("/api/v1/send-template", Order("919800000001"));
        Assert.Equal("opted_out", (await suppressed.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
        // A customer whose wa_id drops the ninth digit sent STOP from it: the number dialled is refused too.
        await (await client.PostAsJsonAsync("/api/v1/send-template", Order("5511987654321"))).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        var sent = await (await client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543211", template_name = "back_in_stock", body_params = new[] { "Rahul" } })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.StartsWith("wamid.", sent.GetProperty("message_id").GetString(), StringComparison.Ordinal);
        // The key's cap is 2 a day and the old send was today's (16:00 in Kolkata): the new one was the second.
        var capped = await (await client.PostAsJsonAsync("/api/v1/send-template", Order("919876543212")))
            .AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        Assert.Equal(2, capped.GetProperty("daily_used").GetInt32());

        await server.WithDbAsync(async db =>
        {
            Assert.Equal(new[] { "delivered", "read", "sent" }, await db.MessageStatusEvents.Where(e => e.MessageId == 1).Select(e => e.Status).OrderBy(s => s).ToListAsync());
            Assert.Equal(3, await db.WebhookEvents.CountAsync(e => e.EventTime == 0 && e.AppliedAt != null));
            Assert.Equal(1, await db.InboundMessages.CountAsync());
            Assert.Equal(2, await db.Templates.CountAsync(t => t.Status == "APPROVED"));
        });

        static object Order(string phone) => new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } };
    }

    [Fact]
    public async Task SendsFromBeforeReferencesWereRandomKeepTheIdsTheirCallersAndMetasReportsHold()
    {
        // A send whose outcome was unknown answered "twb:" + its row number, which its caller polls and Meta's reports
        // carry as callback data for days: after the upgrade both still find it.
        var key = ApiKeyFormat.Generate(ApiKeyFormat.TestPrefix);
        using var database = await OldDatabaseAsync("20261205160947_ContactNumberChange", $$$"""
            INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Old Shop', 'Pro', 'Asia/Kolkata', '2026-04-01 00:00:00');
            INSERT INTO api_keys (id, business_id, name, prefix, key_hash, permissions, daily_limit, created_at)
            VALUES (1, 1, 'CRM', '{{{ApiKeyFormat.DisplayPrefix(key)}}}', x'{{{Convert.ToHexString(ApiKeyFormat.Hash(key))}}}', '["*"]', 100, '2026-04-01 00:00:00');
            INSERT INTO messages (id, business_id, api_key_id, wamid, "to", kind, template_name, api_status, status_rank, created_at, updated_at)
            VALUES (41, 1, 1, NULL, '919876543210', 'template', 'order_confirmation', 'pending', 0, '2026-04-14 05:00:00', '2026-04-14 05:00:00'),
                   (42, 1, 1, 'wamid.old42', '919876543211', 'template', 'order_confirmation', 'success', 1, '2026-04-14 05:00:00', '2026-04-14 05:00:00');
            """);

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var client = server.CreateApiClient(key);
        var phoneNumberId = await server.ConnectWhatsAppAsync(1);

        Assert.Equal("twb:41", (await (await client.GetAsync("/api/v1/message-status/twb:41")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
        var report = Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry(Webhooks.MetaPayloads.MessagesChange(phoneNumberId,
            statuses: [Webhooks.MetaPayloads.Status("wamid.late41", "delivered", server.Clock.GetUtcNow(), "919876543210", "twb:41")])));
        Assert.Equal(HttpStatusCode.OK, (await server.PostWebhookAsync(report)).StatusCode);
        await server.ApplyWebhooksAsync();

        var settled = await (await client.GetAsync("/api/v1/message-status/twb:41")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("wamid.late41", "success", "delivered"),
            (settled.GetProperty("message_id").GetString(), settled.GetProperty("api_status").GetString(), settled.GetProperty("delivery_status").GetString()));
        Assert.Equal("wamid.old42", (await (await client.GetAsync("/api/v1/message-status/twb:42")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
    }

    [Theory]
    [InlineData("Data Source=twabot.db", "/srv/app/twabot.db")]
    [InlineData("Data Source=/data/twabot.db", "/data/twabot.db")]
    [InlineData(null, "/srv/app/twabot.db")]
    [InlineData("Data Source=twabot.db;Default Timeout=10", "/srv/app/twabot.db")] // a shorter busy timeout is raised to 30 s
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
        using var database = await OldDatabaseAsync(before, oldRows);
        await using var db = new TwaBotDbContext(database.ContextOptions());

        await db.GetService<IMigrator>().MigrateAsync();

        await check(db);
    }

    /// <summary>A database file as a version whose last migration was <paramref name="before"/> left it, with <paramref name="oldRows"/>.</summary>
    private static async Task<TemporaryDatabase> OldDatabaseAsync(string before, string oldRows)
    {
        var database = new TemporaryDatabase();
        await using (var db = new TwaBotDbContext(database.ContextOptions()))
        {
            await db.GetService<IMigrator>().MigrateAsync(before);
        }

        await database.ExecuteAsync(oldRows); // as written, braces and all (EF's raw SQL would read {{1}} as a format's {1})
        return database;
    }
}
