using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using TwaBot.Api.Sandbox;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>The address the sandbox calls itself at (Meta client → emulator, emulator → webhook receiver), from the server's bindings.</summary>
public class SelfAddressTests
{
    [Theory]
    [InlineData("http://localhost:5000", "http://localhost:5000/")]
    [InlineData("https://localhost:5001 http://localhost:5000", "http://localhost:5000/")] // plain http first: no certificate involved
    [InlineData("http://[::]:8080", "http://127.0.0.1:8080/")]                            // a wildcard binding is reached on loopback
    [InlineData("http://0.0.0.0:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://+:8080", "http://localhost:8080/")]
    [InlineData("http://*:8080", "http://localhost:8080/")]
    [InlineData("https://[::]:8443", "https://127.0.0.1:8443/")]                          // only https: then https
    [InlineData("", "http://localhost/")]                                                  // the in-memory test server has none
    public void TheServersOwnAddressIsItsPlainHttpBindingOnLoopback(string bindings, string expected)
    {
        var server = new BoundServer(bindings.Split(' ', StringSplitOptions.RemoveEmptyEntries));

        Assert.Equal(new Uri(expected), new SelfAddress(server).BaseAddress);
    }

    private sealed class BoundServer : IServer
    {
        public BoundServer(IEnumerable<string> addresses)
        {
            var feature = new ServerAddressesFeature();
            foreach (var address in addresses)
            {
                feature.Addresses.Add(address);
            }

            Features.Set<IServerAddressesFeature>(feature);
        }

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
            where TContext : notnull => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public void Dispose()
        {
        }
    }
}
