using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// Scopes on the test server's database whose first read of the messages table fails as a busy database does, for
/// the counts loaded from message rows (the daily cap, the OTP cap): a failed load must not stick.
/// </summary>
public sealed class FirstMessagesReadFails : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    public FirstMessagesReadFails(TwaBotApiFactory server) => _provider = ServerDatabaseScopes.With(server, new FailOnce());

    public IServiceScopeFactory Scopes => _provider.GetRequiredService<IServiceScopeFactory>();

    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    private sealed class FailOnce : DbCommandInterceptor
    {
        private int _failed;

        public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("FROM \"messages\"", StringComparison.Ordinal) && Interlocked.Exchange(ref _failed, 1) == 0)
            {
                throw new SqliteException("database is locked", 5); // SQLITE_BUSY
            }

            return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }
}
