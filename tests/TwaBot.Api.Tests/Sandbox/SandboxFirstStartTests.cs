using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

public sealed class SandboxFirstStartTests : IDisposable
{
    private readonly TemporaryDatabase _database = new();

    [Fact]
    public async Task AFirstStartStoppedHalfWaySeedsNothingAndTheNextStartSeedsItAll()
    {
        await using (var db = new TwaBotDbContext(_database.ContextOptions()))
        {
            await db.GetService<IMigrator>().MigrateAsync();
        }

        // The key's insert fails, as if the server had stopped after the business was written.
        await _database.ExecuteAsync("CREATE TRIGGER refuse_key BEFORE INSERT ON api_keys BEGIN SELECT RAISE(ABORT, 'stopped'); END;");
        await using (var interrupted = Server())
        {
            Assert.ThrowsAny<Exception>(() => interrupted.Server);
        }

        Assert.Equal(0L, await _database.ScalarAsync("SELECT count(*) FROM businesses"));
        await _database.ExecuteAsync("DROP TRIGGER refuse_key;");

        await using var restarted = Server();
        _ = restarted.Server;
        await restarted.WithDbAsync(async db =>
        {
            Assert.Equal(1, await db.Businesses.CountAsync());
            Assert.Equal(1, await db.ApiKeys.CountAsync());
            Assert.Equal(2, await db.Templates.CountAsync());
        });
    }

    public void Dispose() => _database.Dispose();

    private TwaBotApiFactory Server() =>
        new(new Dictionary<string, string?>(), databasePath: _database.Path) { DeleteDatabaseOnDispose = false };
}
