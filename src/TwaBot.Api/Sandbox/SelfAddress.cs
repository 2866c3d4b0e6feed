using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// The server's own base address, for the sandbox's calls to itself (Meta client → emulator,
/// emulator → webhook receiver) over real HTTP. A wildcard binding (<c>http://[::]:8080</c>) is
/// reached on loopback; plain http is preferred so no certificate is involved.
/// </summary>
public sealed class SelfAddress(IServer server)
{
    private Uri? _address;

    public Uri BaseAddress => _address ??= Resolve();

    private Uri Resolve()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var chosen = addresses.OrderBy(a => a.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? 1 : 0).FirstOrDefault();
        if (chosen is null)
        {
            return new Uri("http://localhost/"); // in-memory test server: the host is not used
        }

        var uri = new UriBuilder(chosen.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        if (uri.Host is "[::]" or "::" or "0.0.0.0")
        {
            uri.Host = "127.0.0.1";
        }

        uri.Path = "/";
        return uri.Uri;
    }
}

/// <summary>Sandbox mode: the Meta client talks to the emulator mounted in this process.</summary>
public sealed class SandboxMetaGraphAddress(SelfAddress self, IOptions<TwaBotOptions> options) : IMetaGraphAddress
{
    public Uri BaseAddress => new(self.BaseAddress, $"sandbox/graph/{options.Value.Meta.GraphVersion}/");
}
