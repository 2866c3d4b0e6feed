using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// Sends the server's own HTTP clients (the Meta client and the emulator's webhook sender, which call the server
/// itself in the sandbox) through the in-memory test server, which has no socket. A server on Kestrel keeps real
/// sockets, and so do the metrics exporter's clients (named Otlp…), whose calls leave the process.
/// </summary>
internal sealed class InMemoryServerHandlers : IConfigureNamedOptions<HttpClientFactoryOptions>
{
    public void Configure(string? name, HttpClientFactoryOptions options)
    {
        if (name?.StartsWith("Otlp", StringComparison.Ordinal) == true)
        {
            return;
        }

        options.HttpMessageHandlerBuilderActions.Add(builder =>
        {
            if (builder.Services.GetRequiredService<IServer>() is TestServer inMemory)
            {
                builder.PrimaryHandler = inMemory.CreateHandler();
            }

            // On Kestrel, the server's own handlers, as configured (the Meta client's redirects and trace headers).
        });
    }

    public void Configure(HttpClientFactoryOptions options) => Configure(Options.DefaultName, options);
}
