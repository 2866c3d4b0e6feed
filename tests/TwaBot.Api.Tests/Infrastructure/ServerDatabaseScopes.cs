using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>Database scopes of their own on the test server's file, whose commands pass through a test's interceptor.</summary>
public static class ServerDatabaseScopes
{
    public static ServiceProvider With(TwaBotApiFactory server, IInterceptor interceptor)
    {
        var connectionString = server.Services.GetRequiredService<SqliteConnections>().ConnectionString;
        return new ServiceCollection().AddDbContext<TwaBotDbContext>(options =>
        {
            DataExtensions.Configure(options, connectionString);
            options.AddInterceptors(interceptor);
        }).BuildServiceProvider();
    }
}
