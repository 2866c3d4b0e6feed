using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
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
            // README: a Pro business, and a key with every permission.
            Assert.Equal(Api.Businesses.Plan.Pro, await db.Businesses.Select(b => b.Plan).SingleAsync());
            Assert.Equal(new[] { Api.ApiKeys.ApiKeyPermissions.All }, (await db.ApiKeys.SingleAsync()).Permissions);
        });
    }

    [Fact]
    public async Task TheFirstStartSeedsInTurnWithTheDatabasesOtherWriters()
    {
        // Outside the write gate, the seeder's transaction took SQLite's lock from a sweep in its turn, which then failed.
        await using var server = new GateWatchingServer();
        _ = server.Server;

        Assert.Equal([true], server.GateHeldAtBusinessInserts);
    }

    [Fact]
    public async Task AStopWhileTheFirstStartSeedsLogsNoError()
    {
        // EF wrapped each of the seed's saves in a savepoint, and its roll-back to it, under the stop's cancelled token,
        // failed and was logged as an Error ("An error occurred using a transaction."): an alert for a clean stop.
        await using var server = new StoppedWhileSeeding(_database.Path);
        Assert.ThrowsAny<Exception>(() => server.Server); // stopped while starting

        Assert.DoesNotContain(server.Logs.Events, e => e.Level >= Serilog.Events.LogEventLevel.Error);
        Assert.Equal(0L, await _database.ScalarAsync("SELECT count(*) FROM businesses"));
    }

    public void Dispose() => _database.Dispose();

    /// <summary>A server that notes, at each insert into <c>businesses</c>, whether the write gate is held then.</summary>
    private sealed class GateWatchingServer : TwaBotApiFactory
    {
        public System.Collections.Concurrent.ConcurrentQueue<bool> GateHeldAtBusinessInserts { get; } = new();

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>((provider, options) =>
                options.AddInterceptors(new BusinessInsertWatch(provider.GetRequiredService<SqliteWriteGate>(), GateHeldAtBusinessInserts))));
        }
    }

    /// <summary>A server stopped (as by SIGTERM) while its first start writes the Sandbox Business.</summary>
    private sealed class StoppedWhileSeeding(string databasePath)
        : TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath)
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>((provider, options) =>
                options.AddInterceptors(new StopAtBusinessInsert(provider.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()))));
        }
    }

    private sealed class StopAtBusinessInsert(Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime) : DbCommandInterceptor
    {
        public override ValueTask<InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(System.Data.Common.DbCommand command,
            CommandEventData eventData, InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("INSERT INTO \"businesses\"", StringComparison.Ordinal))
            {
                lifetime.StopApplication();
            }

            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }

    private sealed class BusinessInsertWatch(SqliteWriteGate gate, System.Collections.Concurrent.ConcurrentQueue<bool> held) : DbCommandInterceptor
    {
        public override ValueTask<InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(System.Data.Common.DbCommand command,
            CommandEventData eventData, InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("INSERT INTO \"businesses\"", StringComparison.Ordinal))
            {
                // A free gate is entered at once; a held one makes this wait, until its holder leaves.
                var entering = gate.EnterAsync(CancellationToken.None);
                held.Enqueue(!entering.IsCompleted);
                _ = entering.ContinueWith(turn => turn.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }

    private TwaBotApiFactory Server() =>
        new(new Dictionary<string, string?>(), databasePath: _database.Path) { DeleteDatabaseOnDispose = false };
}
