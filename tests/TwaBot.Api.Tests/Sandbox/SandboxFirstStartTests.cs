using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

public sealed class SandboxFirstStartTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"twabot-seed-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task AFirstStartStoppedHalfWaySeedsNothingAndTheNextStartSeedsItAll()
    {
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, DataExtensions.BuildConnectionString($"Data Source={_path}", Path.GetTempPath()));
        await using (var db = new TwaBotDbContext(options.Options))
        {
            await db.GetService<IMigrator>().MigrateAsync();
            // The key's insert fails, as if the server had stopped after the business was written.
            await db.Database.ExecuteSqlRawAsync("CREATE TRIGGER refuse_key BEFORE INSERT ON api_keys BEGIN SELECT RAISE(ABORT, 'stopped'); END;");
        }

        await using (var interrupted = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: _path) { DeleteDatabaseOnDispose = false })
        {
            Assert.ThrowsAny<Exception>(() => interrupted.Server);
        }

        await using (var db = new TwaBotDbContext(options.Options))
        {
            Assert.False(await db.Businesses.AnyAsync());
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_key;");
        }

        await using var restarted = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: _path) { DeleteDatabaseOnDispose = false };
        _ = restarted.Server;
        await restarted.WithDbAsync(async db =>
        {
            Assert.Equal(1, await db.Businesses.CountAsync());
            Assert.Equal(1, await db.ApiKeys.CountAsync());
            Assert.Equal(2, await db.Templates.CountAsync());
        });
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _path, Api.Webhooks.WebhookInboxFile.PathBeside(_path) })
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(file + suffix);
            }
        }
    }
}
