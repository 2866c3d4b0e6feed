using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;

namespace TwaBot.Api.Tests.Businesses;

/// <summary>Meta access tokens are stored encrypted, with a key ring kept outside the database.</summary>
public class AccessTokenEncryptionTests
{
    private const string Token = "EAAGsentinelTokenThatMustNeverBeInTheFile0123456789";

    [Fact]
    public async Task AConnectedTokenIsStoredEncryptedAndReachesMetaAsGiven()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(200, """{"data":[]}"""));
        await using var live = LiveMode.Against(meta);
        var businessId = await live.CreateBusinessAsync();
        using var admin = live.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = Token })).EnsureSuccessStatusCode();

        (await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null)).EnsureSuccessStatusCode();

        Assert.Equal("Bearer " + Token, Assert.Single(meta.Calls).Authorization);
        string stored = "";
        await live.WithDbAsync(async db => stored = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).ProtectedAccessToken);
        Assert.StartsWith("dp1:", stored, StringComparison.Ordinal);
        Assert.False(FilesHold(live.DatabasePath, Token));
        Assert.NotEmpty(Directory.GetFiles(KeyRing.FolderFor(null, live.DatabasePath, "/"), "key-*.xml"));
    }

    [Fact]
    public async Task TokensStoredInPlainTextByAnEarlierVersionAreEncryptedAtStartWithoutATraceInTheFile()
    {
        using var database = new TemporaryDatabase();
        await using (var db = new TwaBotDbContext(database.ContextOptions()))
        {
            await db.GetService<IMigrator>().MigrateAsync("20261202051121_IdempotentAnswers"); // the last one with plain tokens
            // Thirty connections of long tokens, one at a time, and one replaced, as an older server left them: the table
            // spans pages, and SQLite left copies of rows in page space it split, freed or never reused.
            for (var id = 1; id <= 30; id++)
            {
                await db.Database.ExecuteSqlAsync(
                    $"INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES ({id}, 'Old', 'Pro', 'Asia/Kolkata', '2026-11-01 00:00:00')");
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO whatsapp_connections (business_id, phone_number_id, waba_id, access_token, is_sandbox, connected_at)
                    VALUES ({id}, {"10654035" + id}, {"10229012" + id}, {OldToken(id)}, 0, '2026-11-01 00:00:00')
                    """);
            }

            await db.Database.ExecuteSqlRawAsync("DELETE FROM whatsapp_connections WHERE business_id = 7");
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO whatsapp_connections (business_id, phone_number_id, waba_id, access_token, is_sandbox, connected_at)
                VALUES (7, '1065403599', '1022901299', {OldToken(31)}, 0, '2026-11-02 00:00:00')
                """);
        }

        Assert.True(FilesHold(database.Path, Token)); // the check below can see a token in the file

        await using (var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            Assert.Equal(OldToken(1), await server.AccessTokenOfAsync(1));
            Assert.Equal(OldToken(31), await server.AccessTokenOfAsync(7));
            var logs = server.Logs.AllText();
            Assert.Contains("Encrypted 30 Meta access tokens stored in plain text", logs, StringComparison.Ordinal);
            Assert.Contains("Rewrote the database file", logs, StringComparison.Ordinal);
            Assert.False(FilesHold(database.Path, Token)); // while it runs
        }

        Assert.False(FilesHold(database.Path, Token));

        static string OldToken(int id) => Token + id.ToString("D3", System.Globalization.CultureInfo.InvariantCulture) + new string('x', 150);
    }

    [Fact]
    public async Task ARewriteThatAnUpgradeDidNotFinishIsDoneAtTheNextStart()
    {
        // The mark the upgrading start sets before its long rewrite stays when that start is stopped during it; old
        // text in the file's free space (here a deleted business's name) is what the rewrite must take away.
        using var database = new TemporaryDatabase();
        await using (var db = new TwaBotDbContext(database.ContextOptions()))
        {
            await db.Database.MigrateAsync();
            await db.Database.ExecuteSqlRawAsync($"""
                INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (1, 'Kept', 'Pro', 'Asia/Kolkata', '2026-11-01 00:00:00');
                INSERT INTO businesses (id, name, plan, time_zone, created_at) VALUES (2, '{Token}', 'Pro', 'Asia/Kolkata', '2026-11-01 00:00:00');
                DELETE FROM businesses WHERE id = 2;
                PRAGMA user_version = 1;
                """);
        }

        Assert.True(FilesHold(database.Path, Token));

        await using (var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            server.StartServer();
            Assert.Contains(Lines(server), line => line.StartsWith("Rewrote the database file", StringComparison.Ordinal));
            Assert.False(FilesHold(database.Path, Token));
            Assert.Equal(0L, await database.ScalarAsync("PRAGMA user_version;")); // done: later starts do not rewrite again
        }
    }

    [Fact]
    public async Task WithoutItsKeyRingATokenCannotBeReadAndTheBusinessIsToldToReconnect()
    {
        using var database = new TemporaryDatabase();
        SendingTenant tenant;
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            tenant = await first.CreateSendingTenantAsync();
        }

        Directory.Delete(KeyRing.FolderFor(null, database.Path, "/"), recursive: true); // a restore without the key ring

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var client = server.CreateApiClient(tenant.Key);
        using var admin = server.CreateAdminClient();

        var refused = await client.PostAsJsonAsync("/api/v1/send-template", Order);
        var sync = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);
        var health = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        var business = await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}")).ReadJsonAsync(HttpStatusCode.OK);

        foreach (var answer in new[] { refused, sync })
        {
            var json = await answer.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
            Assert.Equal("This business's WhatsApp access token cannot be read by the server. Reconnect WhatsApp to keep sending.",
                json.GetProperty("error").GetString());
        }

        Assert.False(health.GetProperty("whatsapp_connected").GetBoolean()); // as sends see it
        Assert.False(business.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean()); // and the operator
        var logs = server.Logs.AllText();
        Assert.Contains("2 of 2 Meta access tokens cannot be decrypted with the key ring in", logs, StringComparison.Ordinal); // and the seeded business's
        Assert.Contains($"The Meta access token of business {tenant.BusinessId} cannot be decrypted", logs, StringComparison.Ordinal);

        // Connecting again stores a token the new ring can read (the sandbox makes a new one, since the old is unreadable),
        // without logging once more the error it mends.
        var unreadableLines = UnreadableLines(server, tenant.BusinessId);
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
        Assert.Equal(unreadableLines, UnreadableLines(server, tenant.BusinessId));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
        Assert.True((await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("whatsapp_connected").GetBoolean());
    }

    [Fact]
    public async Task ATokenWrittenInPlainTextWhileTheServerRunsIsNotTakenForOne()
    {
        // Plain tokens are encrypted only at start: one written into the file since came from outside the server.
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        await server.ConnectWhatsAppAsync(businessId);
        await server.WithDbAsync(async db =>
        {
            (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).ProtectedAccessToken = Token;
            await db.SaveChangesAsync();
        });
        using var admin = server.CreateAdminClient();

        var business = await (await admin.GetAsync($"/admin/v1/businesses/{businessId}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.False(business.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
        Assert.Null(await server.AccessTokenOfAsync(businessId));
    }

    [Fact]
    public async Task ATokenEncryptedUnderAKeyTheRingHasSinceReplacedStillDecrypts()
    {
        // Data Protection's keys last 90 days; then a new one encrypts, and the old stays in the folder to decrypt what it
        // encrypted (tokens are not encrypted again). Here the first key is ended by hand, as docs/operations.md says to
        // after the folder leaked: its expirationDate set to the moment, as sed would write it.
        using var database = new TemporaryDatabase();
        var folder = KeyRing.FolderFor(null, database.Path, "/");
        SendingTenant before;
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            before = await first.CreateSendingTenantAsync();
        }

        var oldKey = Assert.Single(Directory.GetFiles(folder, "key-*.xml"));
        var now = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(oldKey, System.Text.RegularExpressions.Regex.Replace(
            File.ReadAllText(oldKey), "<expirationDate>[^<]*</expirationDate>", $"<expirationDate>{now}</expirationDate>"));

        SendingTenant after;
        await using (var second = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            using var client = second.CreateApiClient(before.Key);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
            after = await second.CreateSendingTenantAsync(); // its token is encrypted with a new key
        }

        Assert.Equal(2, Directory.GetFiles(folder, "key-*.xml").Length);
        await using var third = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        foreach (var tenant in new[] { before, after })
        {
            using var client = third.CreateApiClient(tenant.Key);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
        }

        Assert.DoesNotContain(Lines(third), line => line.Contains("cannot be decrypted", StringComparison.Ordinal));
    }

    [Fact]
    public void AKeyTheServerCannotReadStopsItAtStartNamingTheKey()
    {
        // As root restores it: root reads any file, so a dangling link stands in for a key the server's user cannot open.
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(folder.Path);
        var key = Path.Combine(folder.Path, "key-0f1e2d3c.xml");
        File.CreateSymbolicLink(key, Path.Combine(folder.Path, "gone"));

        Assert.StartsWith($"TwaBot:KeyRingFolder: the key {key} cannot be read", new KeyRing(folder.Path).Problem(), StringComparison.Ordinal);
        File.Delete(key);
        Assert.Null(new KeyRing(folder.Path).Problem());
    }

    [Fact]
    public async Task TheKeyRingFolderCanBeMovedOffTheDatabaseVolume()
    {
        using var folder = new TemporaryFolder();
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:KeyRingFolder"] = folder.Path });
        var tenant = await server.CreateSendingTenantAsync();

        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).StatusCode);
        Assert.NotEmpty(Directory.GetFiles(folder.Path, "key-*.xml"));
        Assert.Contains(Lines(server), line => line.StartsWith($"Meta access tokens are encrypted with the key ring in \"{folder.Path}\"", StringComparison.Ordinal));
        Assert.DoesNotContain(Lines(server), line => line.Contains("cannot be decrypted", StringComparison.Ordinal)); // no false alarm
        Assert.False(Directory.Exists(KeyRing.FolderFor(null, server.DatabasePath, "/")));
    }

    [Fact]
    public void TheStartCheckCreatesTheKeyRingFolderAndLeavesNothingBehindInIt()
    {
        // The folder holds the operator's keys (and goes into backups): the write check must not litter it.
        using var parent = new TemporaryFolder();
        var folder = Path.Combine(parent.Path, "ring");

        Assert.Null(new KeyRing(folder).Problem());
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes are Unix's
    public void TheKeyRingFolderIsMadeForTheServersUserAloneAndAnExistingOneKeepsItsMode()
    {
        // Under the usual umask (022) a plain CreateDirectory gives 0755: anyone could list the keys' names.
        using var parent = new TemporaryFolder();
        var made = Path.Combine(parent.Path, "data", "twabot.keys");
        var existing = Path.Combine(parent.Path, "kept.keys");
        var operatorsMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        Directory.CreateDirectory(parent.Path);
        Directory.CreateDirectory(existing, operatorsMode);

        Assert.Null(new KeyRing(made).Problem());
        Assert.Null(new KeyRing(existing).Problem());

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(made));
        Assert.Equal(File.GetUnixFileMode(parent.Path), File.GetUnixFileMode(Path.GetDirectoryName(made)!)); // the parent as usual
        Assert.Equal(operatorsMode, File.GetUnixFileMode(existing));
    }

    [Fact]
    public void AFolderThatExistsButTakesNoFilesIsAProblemAtStart() =>
        // /proc/self exists, so only writing a file in it shows that no key can be kept there (even as root).
        Assert.Contains("cannot be created or written", new KeyRing("/proc/self").Problem(), StringComparison.Ordinal);

    [Fact]
    public void TokensStayReadableWhenTheServerIsInstalledInAnotherFolder()
    {
        using var keys = new TemporaryFolder();
        var connection = new WhatsAppConnection { BusinessId = 1, PhoneNumberId = "1", WabaId = "2", ProtectedAccessToken = "" };
        connection.ProtectedAccessToken = ProtectorInstalledIn("/opt/twabot-1.0", keys.Path).Protect(Token);

        Assert.Equal(Token, ProtectorInstalledIn("/srv/twabot-2.0", keys.Path).Unprotect(connection));
    }

    [Fact]
    public void ATokenStoredByThisVersionStaysReadableByLaterOnes()
    {
        // KeyRingFixture/ holds a key ring and a token that this version stored (made once, at stop 21, and checked
        // in): a later change of the protector's purpose or application name would make every stored token unreadable.
        using var keys = new TemporaryFolder();
        Directory.CreateDirectory(keys.Path);
        var fixture = Repository.PathOf("tests/TwaBot.Api.Tests/Businesses/KeyRingFixture");
        foreach (var key in Directory.GetFiles(fixture, "key-*.xml"))
        {
            File.Copy(key, Path.Combine(keys.Path, Path.GetFileName(key))); // a copy: the ring may add keys to its folder
        }

        var stored = new WhatsAppConnection
        {
            BusinessId = 1, PhoneNumberId = "1", WabaId = "2", ProtectedAccessToken = File.ReadAllText(Path.Combine(fixture, "token.txt")).Trim(),
        };

        Assert.Equal("EAAGfixtureTokenEncryptedByStop21", ProtectorInstalledIn("/srv/twabot", keys.Path).Unprotect(stored));
    }

    [Theory]
    [InlineData(null, "/data/twabot.db", "/data/twabot.keys")]
    [InlineData("  ", "/data/twabot.db", "/data/twabot.keys")]
    [InlineData(null, "/data/twabot", "/data/twabot.keys")]
    [InlineData(null, "/data/my.store.sqlite", "/data/my.store.keys")]
    [InlineData("/secrets/twabot", "/data/twabot.db", "/secrets/twabot")]
    [InlineData("keys", "/data/twabot.db", "/app/keys")] // relative to the content root, as the database file is
    public void TheKeyRingIsBesideTheDatabaseUnlessConfigured(string? configured, string databaseFile, string expected) =>
        Assert.Equal(expected, KeyRing.FolderFor(configured, databaseFile, "/app"));

    private static readonly object Order = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    private static int UnreadableLines(TwaBotApiFactory server, long businessId) =>
        Lines(server).Count(line => line.StartsWith($"The Meta access token of business {businessId} cannot", StringComparison.Ordinal));

    private static IEnumerable<string> Lines(TwaBotApiFactory server) =>
        server.Logs.Events.Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Whether the database file or its write-ahead log holds the text, as a copy of the files would.</summary>
    private static bool FilesHold(string databasePath, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return new[] { databasePath, databasePath + "-wal" }.Where(File.Exists).Any(file =>
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray().AsSpan().IndexOf(needle) >= 0;
        });
    }

    /// <summary>The server's protector as a server installed in <paramref name="contentRoot"/> builds it.</summary>
    private static AccessTokenProtector ProtectorInstalledIn(string contentRoot, string keyRingFolder) => new ServiceCollection()
        .AddLogging()
        .AddSingleton<IHostEnvironment>(new HostingEnvironment { ContentRootPath = contentRoot, ApplicationName = "TwaBot.Api" })
        .AddSingleton(Options.Create(new TwaBotOptions { KeyRingFolder = keyRingFolder }))
        .AddSingleton(new SqliteConnections("Data Source=/data/twabot.db"))
        .AddAccessTokenProtection()
        .BuildServiceProvider()
        .GetRequiredService<AccessTokenProtector>();
}
