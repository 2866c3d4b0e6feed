using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// A server that runs <see cref="WhileTheReadEnds"/> once, as the next read whose SQL <paramref name="isTheRead"/> picks
/// ends: a change made after a check-then-act read its rows and before it acted on them.
/// </summary>
public sealed class ReadInterrupted(Func<string, bool> isTheRead) : TwaBotApiFactory
{
    private readonly Func<string, bool> _isTheRead = isTheRead;
    private Func<Task>? _whileTheReadEnds;

    /// <summary>Set to the change; null again once it has run.</summary>
    public Func<Task>? WhileTheReadEnds
    {
        get => Volatile.Read(ref _whileTheReadEnds);
        set => Volatile.Write(ref _whileTheReadEnds, value);
    }

    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
            services.ConfigureDbContext<TwaBot.Api.Data.TwaBotDbContext>(options => options.AddInterceptors(new Interrupt(this))));
    }

    private sealed class Interrupt(ReadInterrupted server) : DbCommandInterceptor
    {
        public override async ValueTask<InterceptionResult> DataReaderClosingAsync(
            DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
        {
            if (server._isTheRead(command.CommandText) && Interlocked.Exchange(ref server._whileTheReadEnds, null) is { } change)
            {
                await change();
            }

            return result;
        }
    }
}
