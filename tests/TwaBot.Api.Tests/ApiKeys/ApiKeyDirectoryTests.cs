using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.ApiKeys;

public class ApiKeyDirectoryTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task AKeyRevokedWhileItWasBeingReadIsNotKeptInTheCache()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, keyId) = await factory.CreateApiKeyAsync(businessId);
        var connectionString = factory.Services.GetRequiredService<SqliteConnections>().ConnectionString;
        ApiKeyDirectory? directory = null;
        var services = new ServiceCollection().AddDbContext<TwaBotDbContext>(options =>
        {
            DataExtensions.Configure(options, connectionString);
            options.AddInterceptors(new RevokeOnceRead(connectionString, keyId, () => directory!.Invalidate()));
        });
        await using var provider = services.BuildServiceProvider();
        directory = new ApiKeyDirectory(provider.GetRequiredService<IServiceScopeFactory>(), factory.Clock);

        var readBeforeTheRevoke = await directory.FindAsync(ApiKeyFormat.Hash(key), default);
        var next = await directory.FindAsync(ApiKeyFormat.Hash(key), default);

        Assert.Null(readBeforeTheRevoke!.RevokedAt);
        Assert.NotNull(next!.RevokedAt); // not the cached copy of what the first read found
    }

    [Fact]
    public async Task WrongKeysAreNotKeptSoGuessesCannotGrowTheCache()
    {
        var directory = new ApiKeyDirectory(factory.Services.GetRequiredService<IServiceScopeFactory>(), factory.Clock);
        for (var i = 0; i < 2_000; i++)
        {
            Assert.Null(await directory.FindAsync(ApiKeyFormat.Hash(ApiKeyFormat.Generate(ApiKeyFormat.TestPrefix)), default));
        }

        Assert.Equal(0, directory.Count);
    }

    [Fact]
    public async Task AKeyIsReadFromTheDatabaseOnceIn30Seconds()
    {
        // A busy key is not a database read per request; after 30 s a change made outside the admin API shows too.
        var businessId = await factory.CreateBusinessAsync();
        var (key, _) = await factory.CreateApiKeyAsync(businessId);
        var connectionString = factory.Services.GetRequiredService<SqliteConnections>().ConnectionString;
        var reads = new KeyReads();
        var services = new ServiceCollection().AddDbContext<TwaBotDbContext>(options =>
        {
            DataExtensions.Configure(options, connectionString);
            options.AddInterceptors(reads);
        });
        await using var provider = services.BuildServiceProvider();
        var directory = new ApiKeyDirectory(provider.GetRequiredService<IServiceScopeFactory>(), factory.Clock);

        await directory.FindAsync(ApiKeyFormat.Hash(key), default);
        factory.Clock.Advance(TimeSpan.FromSeconds(29));
        await directory.FindAsync(ApiKeyFormat.Hash(key), default);
        var readsWithin30Seconds = reads.Count;
        factory.Clock.Advance(TimeSpan.FromSeconds(1));
        await directory.FindAsync(ApiKeyFormat.Hash(key), default);

        Assert.Equal(1, readsWithin30Seconds);
        Assert.Equal(2, reads.Count);
    }

    /// <summary>Counts the reads of the api_keys table.</summary>
    private sealed class KeyReads : DbCommandInterceptor
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("FROM \"api_keys\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _count);
            }

            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }

    /// <summary>Once a key's row has been read, revokes it from another connection and invalidates, as the admin API does.</summary>
    private sealed class RevokeOnceRead(string connectionString, long keyId, Action invalidate) : DbCommandInterceptor
    {
        private bool _done;

        public override async ValueTask<InterceptionResult> DataReaderClosingAsync(
            DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
        {
            if (!_done && command.CommandText.Contains("FROM \"api_keys\"", StringComparison.Ordinal))
            {
                _done = true;
                await using var other = new SqliteConnection(connectionString);
                await other.OpenAsync();
                await using var revoke = other.CreateCommand();
                revoke.CommandText = $"UPDATE api_keys SET revoked_at = '2026-04-14 10:30:45' WHERE id = {keyId}";
                await revoke.ExecuteNonQueryAsync();
                invalidate();
            }

            return result;
        }
    }
}
