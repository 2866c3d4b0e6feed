using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// A client that stops sending its body half way (a dropped mobile link, a proxy buffering badly) is cut off by
/// Kestrel's minimum body rate, which only a real socket shows: it is told what happened and that nothing was done.
/// </summary>
public class StalledBodyTests
{
    [Fact]
    public async Task ABodyThatStopsArrivingIsToldSo()
    {
        await using var server = await ServerProcess.StartAsync();
        var body = """{"phone": "919876543210", "template_name": "order_confirmation", "body_params": ["Rahul", "ORD-1", "x"]}""";
        using var client = new TcpClient();
        await client.ConnectAsync(server.Address.Host, server.Address.Port);
        var stream = client.GetStream();

        var head = $"POST /api/v1/send-template HTTP/1.1\r\nHost: {server.Address.Authority}\r\nX-API-Key: {server.SeededApiKey()}\r\n"
            + $"Content-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head + body[..20])); // and no more
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        var json = JsonDocument.Parse(answer[answer.IndexOf('{', StringComparison.Ordinal)..(answer.LastIndexOf('}') + 1)]).RootElement; // in one chunk
        Assert.Equal("VALIDATION_FAILED", json.GetProperty("error_code").GetString());
        Assert.StartsWith("The request body stopped arriving before its end", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
