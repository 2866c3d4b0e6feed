using System.Net;
using System.Text;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>Limits that only the real server (Kestrel) applies, so these run over a real socket.</summary>
public class KestrelLimitsTests
{
    [Fact]
    public async Task AQuickSendUrlWithTheLongestMessageReachesTheApi()
    {
        await using var factory = new TwaBotApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.CreateClient();
        // 4,096 characters that take 4 bytes in UTF-8: 12 bytes each once percent-encoded, 48 KB in all.
        var message = Uri.EscapeDataString(string.Concat(Enumerable.Repeat("\U0001D11E", 4096)));

        var response = await client.GetAsync($"/api/v1/quick-send?phone=919876543210&message={message}");

        // No key: the API's own answer, in the envelope, not Kestrel's empty 414 URI Too Long.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
        Assert.False(json.GetProperty("success").GetBoolean());
    }

    [Fact]
    public async Task AnAsteriskFormRequestIsNamedAsSentInTheEnvelope()
    {
        // `OPTIONS *` asks about the server, not a path; the request has no path, so the answer names the asterisk.
        await using var factory = new TwaBotApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var socket = await factory.ConnectRawAsync();
        var stream = socket.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes("OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync().WaitAsync(Poll.SlowWorkLimit);

        Assert.StartsWith("HTTP/1.1 404", text, StringComparison.Ordinal);
        Assert.Contains("\"error\":\"No endpoint matches OPTIONS *.\"", text, StringComparison.Ordinal);
    }
}
