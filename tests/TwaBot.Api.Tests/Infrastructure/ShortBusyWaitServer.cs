using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// A server whose database connections wait 2 s for another process's lock, not the 30 s it insists on: EF's
/// and the plain ones of the hot paths (a send's message row is written through those).
/// </summary>
public sealed class ShortBusyWaitServer : TwaBotApiFactory
{
    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
        {
            var configured = services.Last(d => d.ServiceType == typeof(SqliteConnections));
            services.AddSingleton(provider => new SqliteConnections(new SqliteConnectionStringBuilder(
                ((SqliteConnections)configured.ImplementationFactory!(provider)).ConnectionString) { DefaultTimeout = 2 }.ToString()));
            services.ConfigureDbContext<TwaBotDbContext>(options => options.AddInterceptors(new ShortBusyWait()));
        });
    }

    private sealed class ShortBusyWait : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
    {
        public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData) =>
            ((SqliteConnection)connection).DefaultTimeout = 2;

        public override Task ConnectionOpenedAsync(
            System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            ConnectionOpened(connection, eventData);
            return Task.CompletedTask;
        }
    }
}
