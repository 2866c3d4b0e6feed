using System.IO.Pipelines;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// Which bodies are kept to be read again (for a malformed one's position in characters): the admin API's and the
/// sandbox's inbound, in memory; never a hot path's (no HTTP answer shows this: a kept body reads the same).
/// </summary>
public class RewindableBodiesTests
{
    [Theory]
    [InlineData("/admin/v1/businesses", true)]
    [InlineData("/sandbox/v1/inbound", true)]
    [InlineData("/sandbox/v1/reference/send", false)] // the benchmark's pass-through pays nothing the send path does not
    [InlineData("/api/v1/send-template", false)]
    [InlineData("/webhooks/meta", false)]
    public async Task OnlyAdminAndInboundBodiesAreKeptAndInMemory(string path, bool kept)
    {
        var body = new byte[60_000]; // under the admin limit (64 KB): a temporary file cannot be written in a read-only container
        var (seekable, inMemory) = (false, false);
        var app = new ApplicationBuilder(new ServiceCollection().BuildServiceProvider());
        app.UseRewindableBodies();
        app.Run(async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null);
            seekable = context.Request.Body.CanSeek;
            inMemory = context.Request.Body is FileBufferingReadStream { InMemory: true };
        });
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(body);
        await pipe.Writer.CompleteAsync();
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.Body = pipe.Reader.AsStream();

        await app.Build()(context);

        Assert.Equal(kept, seekable);
        Assert.Equal(kept, inMemory);
    }
}
