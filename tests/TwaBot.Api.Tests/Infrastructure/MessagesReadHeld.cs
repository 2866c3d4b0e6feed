using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// Scopes on the test server's database whose next read of the messages table, once <see cref="HoldNextRead"/> is called,
/// runs (it has read its rows) and then waits for <see cref="Release"/>: a count loaded from message rows that finishes
/// after another change moved those rows.
/// </summary>
public sealed class MessagesReadHeld : IAsyncDisposable
{
    private readonly HoldOnce _hold = new();
    private readonly ServiceProvider _provider;

    public MessagesReadHeld(TwaBotApiFactory server) => _provider = ServerDatabaseScopes.With(server, _hold);

    public IServiceScopeFactory Scopes => _provider.GetRequiredService<IServiceScopeFactory>();

    public void HoldNextRead() => _hold.Arm();

    /// <summary>Completes once the held read has run and waits.</summary>
    public Task Held => _hold.Reached.Task.WaitAsync(Poll.SlowWorkLimit);

    public void Release() => _hold.Released.TrySetResult();

    public ValueTask DisposeAsync()
    {
        Release();
        return _provider.DisposeAsync();
    }

    private sealed class HoldOnce : DbCommandInterceptor
    {
        private int _armed;

        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arm() => Volatile.Write(ref _armed, 1);

        public override async ValueTask<DbDataReader> ReaderExecutedAsync(
            DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains("FROM \"messages\"", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
            {
                Reached.TrySetResult();
                await Released.Task;
            }

            return result;
        }
    }
}
