using System.Net;
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
}
