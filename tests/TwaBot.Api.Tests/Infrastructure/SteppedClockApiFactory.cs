using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// A server whose wall clock can be stepped back as well as forward, as NTP or an operator may
/// (<see cref="TwaBotApiFactory.Clock"/>, a FakeTimeProvider, refuses to go back): it reads that clock plus
/// <see cref="Step"/>. Timers still run on the fake clock.
/// </summary>
public sealed class SteppedClockApiFactory(IDictionary<string, string?> settings) : TwaBotApiFactory(settings)
{
    /// <summary>How far the server's clock is set from <see cref="TwaBotApiFactory.Clock"/> (negative: back).</summary>
    public TimeSpan Step { get; set; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(new SteppedClock(this));
        });
    }

    private sealed class SteppedClock(SteppedClockApiFactory server) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => server.Clock.GetUtcNow() + server.Step;

        public override long GetTimestamp() => server.Clock.GetTimestamp();

        public override long TimestampFrequency => server.Clock.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            server.Clock.CreateTimer(callback, state, dueTime, period);
    }
}
