using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// A send whose row waits for the database (another program holds its write lock) while its caller times out
/// is not passed to Meta once the lock goes: the caller saw no answer and sends again, so the customer would get it twice.
/// </summary>
public class CallerLeftTests
{
    [Fact]
    public async Task ASendWhoseCallerLeftWhileItsRowWaitedForTheDatabaseIsNotSent()
    {
        await using var server = new CallerWatchingServer();
        var (tenant, before) = await OneSentAsync(server);

        await SecondSendGivenUpWhileTheDatabaseIsLockedAsync(server, tenant);

        Message? row = null;
        await Poll.UntilAsync(async () =>
        {
            await server.WithDbAsync(async db => row = await db.Messages.AsNoTracking().OrderBy(m => m.Id).Skip(1).SingleOrDefaultAsync());
            return row is { ApiStatus: not ApiStatuses.Pending };
        }, "the second send's row to leave pending");

        Assert.Equal(ApiStatuses.Failed, row!.ApiStatus);
        Assert.Null(row.Wamid);
        Assert.StartsWith("Not sent: the caller disconnected", row.FailureReason, StringComparison.Ordinal);
        // Its unit is given back just after the row is written: awaited, not read once (a failure under load).
        await Poll.UntilAsync(async () => DayRemaining(await tenant.Client.GetAsync("/api/v1/health")) == before, $"the day's remaining units to be {before} again");

        // Once the abandoned request has ended, nothing more can come of it: Meta heard only of the first send, and
        // the row was not turned into a success by an answer to a call that should not have been made.
        await Poll.UntilAsync(() => server.SendsEnded == 2, "the abandoned send's request to end");
        Assert.Equal(1, server.SendsAtMeta);
        var id = row.Id;
        await server.WithDbAsync(async db => row = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == id));
        Assert.Equal(ApiStatuses.Failed, row!.ApiStatus);
        Assert.Null(row.Wamid);
    }

    [Fact]
    public async Task ASendWhoseCallerLeftIsNotSentEvenWhenThatCannotBeWrittenDownAndTheFailureIsLogged()
    {
        // Writing "not sent" fails (a full disk): the row stays pending, so it keeps its unit and the sweep marks it
        // unknown later, and support learns of it from the error log line, which names the row.
        await using var server = new CallerWatchingServer();
        var (tenant, before) = await OneSentAsync(server);
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("""
            CREATE TRIGGER no_room BEFORE UPDATE OF failure_reason ON messages WHEN NEW.failure_reason LIKE 'Not sent: the caller%'
            BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
            """));

        await SecondSendGivenUpWhileTheDatabaseIsLockedAsync(server, tenant);
        await Poll.UntilAsync(() => server.SendsEnded == 2, "the abandoned send's request to end");

        Message? row = null;
        await server.WithDbAsync(async db => row = await db.Messages.AsNoTracking().OrderBy(m => m.Id).Skip(1).SingleAsync());
        Assert.Equal(ApiStatuses.Pending, row!.ApiStatus);
        Assert.Equal(1, server.SendsAtMeta);
        Assert.Equal(int.Parse(before, System.Globalization.CultureInfo.InvariantCulture) - 1,
            int.Parse(DayRemaining(await tenant.Client.GetAsync("/api/v1/health")), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(server.Logs.Events, e => e.Level == Serilog.Events.LogEventLevel.Error && e.Exception is not null
            && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).StartsWith($"Message {row.Id} was not sent, since its caller disconnected first", StringComparison.Ordinal));
    }

    private static readonly object Order = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    /// <summary>Starts the server on a real socket (the in-memory server answers a cancelled call only once the request ends)
    /// with a key that sent once (its use written, its day loaded); returns the key and its day's units left.</summary>
    private static async Task<(SendingTenant Tenant, string DayRemaining)> OneSentAsync(CallerWatchingServer server)
    {
        server.UseKestrel(0);
        server.StartServer();
        var tenant = await server.CreateSendingTenantAsync();
        (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order)).EnsureSuccessStatusCode();
        return (tenant, DayRemaining(await tenant.Client.GetAsync("/api/v1/health")));
    }

    /// <summary>
    /// A second send whose row waits for another program's write lock (a sqlite3 shell left inside a transaction) until its
    /// caller's own timeout; the lock goes once the server has seen the caller leave: it learns of the closed connection on
    /// its own thread, and a lock gone before then is a caller still there (a row sent to Meta under load).
    /// </summary>
    private static async Task SecondSendGivenUpWhileTheDatabaseIsLockedAsync(CallerWatchingServer server, SendingTenant tenant)
    {
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);
        using (var gaveUp = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order, gaveUp.Token));
        }

        await Poll.UntilAsync(() => server.CallersGone > 0, "the server to see the caller leave");
        await otherProcess.ReleaseAsync();
    }

    private static string DayRemaining(HttpResponseMessage answer) =>
        System.Text.RegularExpressions.Regex.Match(string.Join(",", answer.Headers.GetValues("RateLimit")), "\"day\";r=(\\d+)").Groups[1].Value;

    /// <summary>
    /// A server that counts the requests whose caller it saw leave (their RequestAborted), the sends whose request
    /// has ended, and the messages passed to Meta.
    /// </summary>
    private sealed class CallerWatchingServer : TwaBotApiFactory
    {
        private int _callersGone;
        private int _sendsEnded;
        private int _sendsAtMeta;

        public int CallersGone => Volatile.Read(ref _callersGone);

        public int SendsEnded => Volatile.Read(ref _sendsEnded);

        public int SendsAtMeta => Volatile.Read(ref _sendsAtMeta);

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
            {
                services.AddSingleton<IStartupFilter>(new WatchCallers(this));
                services.AddHttpClient<TwaBot.Api.Meta.MetaClient>().AddHttpMessageHandler(() => new CountSends(this));
            });
        }

        private sealed class CountSends(CallerWatchingServer server) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref server._sendsAtMeta);
                }

                return base.SendAsync(request, cancellationToken);
            }
        }

        private sealed class WatchCallers(CallerWatchingServer server) : IStartupFilter
        {
            public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
            {
                app.Use(async (context, following) =>
                {
                    using var watch = context.RequestAborted.Register(() => Interlocked.Increment(ref server._callersGone));
                    try
                    {
                        await following(context);
                    }
                    finally
                    {
                        if (context.Request.Path.StartsWithSegments("/api/v1/send-template", StringComparison.Ordinal))
                        {
                            Interlocked.Increment(ref server._sendsEnded);
                        }
                    }
                });
                next(app);
            };
        }
    }
}
