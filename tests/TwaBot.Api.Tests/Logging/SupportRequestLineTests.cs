using System.Net;
using System.Net.Http.Json;
using Serilog.Events;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// What a support engineer reads in a request's log line, with no database shell: which refusal a client got (a 401 or a
/// 429 has several), which minute limit refused it, and which message a send wrote, by the ids the client can quote.
/// </summary>
public class SupportRequestLineTests
{
    private static object Order(string phone) => new { phone, template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    [Fact]
    public async Task AnErrorsRequestLineNamesItsErrorCode()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        using var noKey = server.CreateClient();
        using var wrongKey = server.CreateApiClient(tenant.Key[..^1] + (tenant.Key[^1] == 'a' ? 'b' : 'a'));

        await (await noKey.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
        await (await wrongKey.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876540047")))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        (await tenant.Client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        // The two 401s are told apart (no header, or a key that is not one), and the 400 says which refusal it was.
        Assert.Equal(["MISSING_API_KEY", "INVALID_API_KEY"], (await RequestLinesAsync(server, 401, 2)).Select(ErrorCodeOf));
        Assert.Equal("WINDOW_CLOSED", ErrorCodeOf(Assert.Single(await RequestLinesAsync(server, 400, 1))));
        Assert.DoesNotContain(await RequestLinesAsync(server, 200, 1), line => line.Properties.ContainsKey("ErrorCode"));
    }

    [Fact]
    public async Task AMinuteLimitsRefusalSaysWhetherTheKeysOwnLimitOrTheServersSharedOneRefusedIt()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:RateLimits:PerKeyPerMinute"] = "2",
            ["TwaBot:RateLimits:GlobalPerMinute"] = "3",
            ["TwaBot:RateLimits:FailedAuthPerMinute"] = "1",
        });
        var (_, busy, _) = await server.CreateTenantAsync(plan: "Starter", name: "Busy");
        var (_, quiet, _) = await server.CreateTenantAsync(plan: "Starter", name: "Quiet");
        (await busy.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        (await busy.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        await (await busy.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED"); // its own 2
        (await quiet.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        // The quiet business's first refusal: the server's 3 are spent, mostly by another business's key.
        await (await quiet.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");

        // And a client whose address sent a wrong key: its right key is refused too, for the address, not for the key.
        using var mistyped = server.CreateApiClient("twb_test_" + new string('x', 49));
        await (await mistyped.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
        await (await busy.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, "RATE_LIMITED");

        var refusals = await RequestLinesAsync(server, 429, 3);
        Assert.Equal(["key", "global", "wrong_keys"], refusals.Select(line => line.Properties["RateLimit"].ToString().Trim('"')));
    }

    [Fact]
    public async Task ASendsRequestLineNamesItsMessageByTheIdsMessageStatusTakes()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();

        var accepted = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).ReadJsonAsync(HttpStatusCode.OK);
        var unknown = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876540500")))
            .AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876540047")))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");

        var ok = Assert.Single(await RequestLinesAsync(server, 200, 1, "/api/v1/send-template"));
        Assert.Equal(accepted.GetProperty("message_id").GetString(), ok.Properties["Wamid"].ToString().Trim('"')); // what the CRM quotes
        var outcomeUnknown = Assert.Single(await RequestLinesAsync(server, 502, 1));
        Assert.Equal(unknown.GetProperty("message_id").GetString(), outcomeUnknown.Properties["MessageId"].ToString().Trim('"'));
        Assert.False(outcomeUnknown.Properties.ContainsKey("Wamid")); // Meta never said it took it

        // Meta refused this one: the client got no id, but the line names the row, which message-status finds.
        var refused = Assert.Single(await RequestLinesAsync(server, 400, 1));
        Assert.False(refused.Properties.ContainsKey("Wamid"));
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{refused.Properties["MessageId"].ToString().Trim('"')}"))
            .ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("failed", status.GetProperty("api_status").GetString());
        Assert.Equal("919876540047", status.GetProperty("to").GetString());
        foreach (var id in new[] { ok.Properties["MessageId"], ok.Properties["Wamid"] })
        {
            // Either id of the accepted send leads to it.
            Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync($"/api/v1/message-status/{id.ToString().Trim('"')}")).StatusCode);
        }
    }

    [Fact]
    public async Task ARevokedKeysRequestLineNamesTheKeySoTheClientStillSendingItIsFound()
    {
        // docs/operations.md, key rotation: after the revoke, the request line tells which client still sends the old key.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        using var admin = server.CreateAdminClient();
        (await admin.DeleteAsync($"/admin/v1/api-keys/{tenant.KeyId}")).EnsureSuccessStatusCode();

        await (await tenant.Client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");

        var line = Assert.Single(await RequestLinesAsync(server, 401, 1));
        Assert.Equal((tenant.KeyId.ToString(System.Globalization.CultureInfo.InvariantCulture), tenant.BusinessId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            (line.Properties["ApiKeyId"].ToString(), line.Properties["BusinessId"].ToString()));
    }

    private static string ErrorCodeOf(LogEvent line) => line.Properties["ErrorCode"].ToString().Trim('"');

    /// <summary>The public API's request lines with that status (on paths starting with <paramref name="path"/>, when given), once there are <paramref name="count"/>: each is written after its answer.</summary>
    private static async Task<LogEvent[]> RequestLinesAsync(TwaBotApiFactory server, int status, int count, string? path = null)
    {
        LogEvent[] Lines() => [.. server.Logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["StatusCode"].ToString() == status.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && e.Properties["RequestPath"].ToString().StartsWith($"\"{path ?? "/api/v1/"}", StringComparison.Ordinal))]; // not the emulator's
        await Poll.UntilAsync(() => Lines().Length >= count, $"{count} request lines answered {status}");
        return Lines();
    }
}
