using System.Net;
using System.Net.Sockets;
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

    [Theory]
    [InlineData("/admin/v1/businesses", false)]
    [InlineData("/admin/v1/businesses", true)]
    [InlineData("/api/v1/send-template", true)]
    public async Task ABodyOfACallerWithoutAKeyIsReadNoFurtherThanTheRoutesLimit(string path, bool chunked)
    {
        // The 401 comes before the body is read (the key first); then Kestrel reads the body on to keep the connection.
        // It stops at the route's limit (64 KB) and closes the connection, rather than reading up to its own 30 MB.
        await using var factory = new TwaBotApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var socket = await factory.ConnectRawAsync();
        var stream = socket.GetStream();
        var body = new string('7', 200 * 1024);
        var framing = chunked ? "Transfer-Encoding: chunked" : $"Content-Length: {body.Length}";

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"));
        var refusal = await ReadOneAnswerAsync(stream);
        var rest = (chunked ? $"{body.Length:x}\r\n{body}\r\n0\r\n\r\n" : body) + "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        var after = await WriteThenReadWhatComesAsync(stream, Encoding.ASCII.GetBytes(rest));

        Assert.StartsWith("HTTP/1.1 401", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1", after, StringComparison.Ordinal); // the next request on it is never answered
    }

    [Fact]
    public async Task AChunkedBodyIsCappedAtItsOwnRoutesLimitNotTheApis()
    {
        // The cap is set before anything reads the body, per route: a webhook sent chunked (no length to refuse up front)
        // is read up to Meta's 3 MB, not cut at the API's 64 KB.
        await using var factory = new TwaBotApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        using var client = factory.CreateClient();
        var body = Encoding.UTF8.GetBytes("{\"object\":\"whatsapp_business_account\",\"entry\":[]" + new string(' ', 200 * 1024) + "}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/meta") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Content.Headers.Add(Api.Webhooks.WebhookSignature.HeaderName, Api.Webhooks.WebhookSignature.Sign(body, factory.AppSecret));
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory] // Kestrel counts a chunk's framing against its cap; the limit is the body's own bytes on every route (the webhook's: WebhookReceiverTests)
    [InlineData("send")]
    [InlineData("import")]
    public async Task AChunkedBodyOfExactlyItsRoutesLimitIsRead(string route)
    {
        await using var factory = new TwaBotApiFactory();
        factory.UseKestrel(0);
        factory.StartServer();
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var (client, path, json, limit) = route == "send"
            ? (tenant.Client, "/api/v1/send-template",
                """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","1,499"]}""", Api.Errors.RequestBodyLimits.ApiBytes)
            : (admin, $"/admin/v1/businesses/{tenant.BusinessId}/suppressions/import",
                """{"suppressions":[{"phone":"919876500061","state":"blocked"}]}""", Api.Errors.RequestBodyLimits.SuppressionImportBytes);
        var body = Encoding.UTF8.GetBytes(json + new string(' ', (int)limit - json.Length)); // JSON allows trailing spaces
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>One answer's head and body (by Content-Length or to its last chunk), read without waiting for more.</summary>
    private static async Task<string> ReadOneAnswerAsync(NetworkStream stream)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (!IsWhole(text.ToString()))
        {
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Poll.SlowWorkLimit);
            Assert.True(read > 0, $"The connection ended inside the answer: {text}");
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return text.ToString();

        static bool IsWhole(string answer)
        {
            var end = answer.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                return false;
            }

            var head = answer[..end];
            var length = head.Split("\r\n").FirstOrDefault(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
            return length is null
                ? answer.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal)
                : answer.Length - end - 4 >= int.Parse(length["Content-Length:".Length..], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Writes, then reads until the server closes the connection; a reset while writing or reading ends it too.</summary>
    private static async Task<string> WriteThenReadWhatComesAsync(NetworkStream stream, byte[] bytes)
    {
        var text = new StringBuilder();
        try
        {
            await stream.WriteAsync(bytes);
            var buffer = new byte[4096];
            int read;
            while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Poll.SlowWorkLimit)) > 0)
            {
                text.Append(Encoding.UTF8.GetString(buffer, 0, read));
            }
        }
        catch (IOException)
        {
        }

        return text.ToString();
    }
}
