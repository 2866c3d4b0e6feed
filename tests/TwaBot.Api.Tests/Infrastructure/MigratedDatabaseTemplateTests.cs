using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>What a server started on a copy of the migrated template finds: the file a first start migrates, as yet without rows.</summary>
public class MigratedDatabaseTemplateTests
{
    [Fact]
    public async Task ANewFactorysFileHasEveryMigrationNoRowsAndItsOwnersModeAndTheFirstStartStillSeeds()
    {
        await using var server = new TwaBotApiFactory(); // not started yet: its file is the copy as made

        await using (var db = new TwaBotDbContext(MigratedDatabaseTemplate.UnpooledOptions(server.DatabasePath)))
        {
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            Assert.Equal((0, 0, 0), (await db.Businesses.CountAsync(), await db.ApiKeys.CountAsync(), await db.Templates.CountAsync()));
        }

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(server.DatabasePath));
        }

        await server.WithDbAsync(async db => Assert.Equal(["Sandbox Business"], await db.Businesses.Select(b => b.Name).ToListAsync()));
    }

    [Fact]
    public async Task AFactoryThatMigratesItselfStartsOnNoFileAtAll()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(), migrateItself: true);

        Assert.False(File.Exists(server.DatabasePath));
    }
}
