using Microsoft.EntityFrameworkCore;
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
}
