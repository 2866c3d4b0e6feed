using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>An OTLP/HTTP receiver on a loopback port that keeps the bodies posted to <c>/v1/metrics</c> and <c>/v1/traces</c>.</summary>
public sealed class OtlpCollector(WebApplication app, ConcurrentQueue<(string Signal, byte[] Body)> bodies) : IAsyncDisposable
{
    public string Address => app.Urls.Single();

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var bodies = new ConcurrentQueue<(string, byte[])>();
        app.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            bodies.Enqueue((signal, body.ToArray()));
            return Results.Ok();
        });
        await app.StartAsync();
        return new OtlpCollector(app, bodies);
    }

    /// <summary>
    /// Everything exported for <paramref name="signal"/> once all of <paramref name="names"/> are named in it (protobuf
    /// keeps names as UTF-8): the first export naming one need not name the others (one failure seen in a full run).
    /// </summary>
    public async Task<string> WaitForAsync(string[] names, TimeSpan timeout, string signal = "metrics")
    {
        var exported = "";
        await Poll.UntilAsync(() =>
        {
            exported = string.Join('\n', bodies.Where(b => b.Signal == signal).Select(b => Encoding.UTF8.GetString(b.Body)));
            return names.All(name => exported.Contains(name, StringComparison.Ordinal));
        }, $"{signal} naming {string.Join(", ", names)}", timeout);
        return exported;
    }

    public ValueTask DisposeAsync() => app.DisposeAsync();
}
