using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// A live server's connect asks Meta for the WABA's numbers with the given token before it stores anything: each of
/// Meta's answers, what the admin hears, and that a connect Meta's check refused leaves the business as it was.
/// </summary>
public class WhatsAppConnectCheckTests
{
    private const string Token = "EAAGconnectCheckToken0123456789";
    private const string OtherNumber = "106540352249999";
    private static readonly string PhoneNumberId = FakeMetaUpstream.Connection.PhoneNumberId;
    private static readonly string WabaId = FakeMetaUpstream.Connection.WabaId;

    [Fact]
    public async Task AConnectAsksMetaForTheWabasNumbersWithTheGivenTokenAndStoresMetasDisplayNumber()
    {
        await using var live = await Live.StartAsync();

        var connected = await (await live.ConnectAsync(PhoneNumberId)).ReadJsonAsync(HttpStatusCode.OK);

        var call = Assert.Single(live.Meta.NumberListCalls);
        Assert.Equal(("GET", $"/v23.0/{WabaId}/phone_numbers?fields=id,display_phone_number,verified_name&limit=100", "Bearer " + Token),
            (call.Method, call.PathAndQuery, call.Authorization));
        Assert.Empty(live.Meta.Calls); // no send reply taken
        Assert.Equal(FakeMetaUpstream.DisplayPhoneNumber, connected.GetProperty("business").GetProperty("whatsapp").GetProperty("display_phone_number").GetString());
        var stored = await live.WhatsAppAsync();
        Assert.Equal((PhoneNumberId, WabaId, FakeMetaUpstream.DisplayPhoneNumber),
            (stored.GetProperty("phone_number_id").GetString(), stored.GetProperty("waba_id").GetString(), stored.GetProperty("display_phone_number").GetString()));
    }

    [Fact]
    public async Task ADisplayNumberTheAdminGivesIsKeptAsGiven()
    {
        await using var live = await Live.StartAsync();

        (await live.ConnectAsync(PhoneNumberId, display: "+1 (631) 555 0100 Sales")).EnsureSuccessStatusCode();

        Assert.Equal("+1 (631) 555 0100 Sales", (await live.WhatsAppAsync()).GetProperty("display_phone_number").GetString());
        Assert.Single(live.Meta.NumberListCalls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task ABlankDisplayNumberIsNoneGivenSoMetasIsStored(string blank)
    {
        // A dashboard form sends its empty field as "": stored, the dashboard showed no number where Meta had given one.
        await using var live = await Live.StartAsync();

        var connected = await (await live.ConnectAsync(PhoneNumberId, display: blank)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(FakeMetaUpstream.DisplayPhoneNumber, connected.GetProperty("business").GetProperty("whatsapp").GetProperty("display_phone_number").GetString());
        Assert.Equal(FakeMetaUpstream.DisplayPhoneNumber, (await live.WhatsAppAsync()).GetProperty("display_phone_number").GetString());
    }

    [Theory]
    [InlineData("+1 631-555-0100\nSales")]
    [InlineData("+1 631-555-0100 Sales and Support Desk")] // over the field's 32 characters
    public async Task ADisplayNumberOfMetasThatTheFieldWouldRefuseIsNotStored(string metas)
    {
        await using var live = await Live.StartAsync();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.NumberList([(PhoneNumberId, metas)]));

        var connected = await (await live.ConnectAsync(PhoneNumberId)).ReadJsonAsync(HttpStatusCode.OK);

        // Connected all the same: the number is Meta's; only the text the admin could not have given is left out.
        Assert.Equal(JsonValueKind.Null, connected.GetProperty("business").GetProperty("whatsapp").GetProperty("display_phone_number").ValueKind);
        Assert.Equal(JsonValueKind.Null, (await live.WhatsAppAsync()).GetProperty("display_phone_number").ValueKind);
    }

    [Fact]
    public async Task TheCheckFollowsMetasPagesToTheNumber()
    {
        await using var live = await Live.StartAsync();
        live.Meta.ReplyToNumberList(
            FakeMetaUpstream.NumberList([(OtherNumber, "+1 631-555-0199")], after: "QVFIUaNext"),
            FakeMetaUpstream.NumberList([(PhoneNumberId, "+1 631-555-0100")]));

        (await live.ConnectAsync(PhoneNumberId)).EnsureSuccessStatusCode();

        Assert.Equal(2, live.Meta.NumberListCalls.Count);
        Assert.EndsWith("&limit=100&after=QVFIUaNext", live.Meta.NumberListCalls.Last().PathAndQuery, StringComparison.Ordinal);
        Assert.Equal("+1 631-555-0100", (await live.WhatsAppAsync()).GetProperty("display_phone_number").GetString());
    }

    [Fact]
    public async Task ATokenMetaRefusesIsRefusedOnItsFieldAndTheConnectionStaysAsItWas()
    {
        await using var live = await Live.StartAsync();
        (await live.ConnectAsync(PhoneNumberId, display: "+1 631-555-0100 Main")).EnsureSuccessStatusCode();
        var before = await live.StoredAsync();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.Json(401,
            """{"error":{"message":"Error validating access token: Session has expired on Friday.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1"}}"""));

        var response = await live.ConnectAsync(PhoneNumberId, token: Token + "Expired");

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("access_token", error.GetProperty("field").GetString());
        var message = error.GetProperty("error").GetString()!;
        Assert.Contains("Meta refused this access token (code 190: Error validating access token: Session has expired on Friday)", message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", message, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, message, StringComparison.Ordinal);
        Assert.Equal(before, await live.StoredAsync());
        Assert.Equal("+1 631-555-0100 Main", (await live.WhatsAppAsync()).GetProperty("display_phone_number").GetString());
        Assert.Equal(JsonValueKind.Null, (await live.WhatsAppAsync()).GetProperty("token_refused_at").ValueKind); // the stored token was not refused
        // The operator reads that this connect was refused, not that the connected business must connect again.
        var logs = await live.Server.Logs.AllTextOnceItHoldsAsync("Meta's check failed");
        Assert.DoesNotContain("must connect WhatsApp again", logs, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(401, 190, "access_token")]
    [InlineData(400, 100, "waba_id")]
    public async Task MetasRefusalQuotingTheTokenIsAnsweredWithoutIt(int status, int code, string field)
    {
        // Not shaped like Meta's tokens (EAA…), which the log's redaction would catch anyway: only the connect's own token is taken out.
        const string token = "sys-user+token/0123456789abcdef";
        await using var live = await Live.StartAsync();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.Json(status, $$$"""
            {"error":{"message":"Token {{{token}}} cannot read this object","type":"OAuthException","code":{{{code}}},
              "error_data":{"details":"given sys-user%2Btoken%2F0123456789abcdef, read as sys-user token/0123456789abcdef"},"fbtrace_id":"A4"}}
            """));

        var response = await live.ConnectAsync(PhoneNumberId, token: " " + token + " ");

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, error.GetProperty("field").GetString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("[redacted]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef", text, StringComparison.Ordinal);
        Assert.DoesNotContain("0123456789abcdef", await live.Server.Logs.AllTextOnceItHoldsAsync("Meta's check failed"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWabaMetaDoesNotKnowIsRefusedOnItsFieldWithMetasCodeAndMessage()
    {
        await using var live = await Live.StartAsync();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.Json(400,
            """{"error":{"message":"Unsupported get request. Object with ID '102290129340000' does not exist, cannot be loaded due to missing permissions, or does not support this operation.","type":"GraphMethodException","code":100,"error_subcode":33,"fbtrace_id":"A2"}}"""));

        var response = await live.ConnectAsync(PhoneNumberId, waba: "102290129340000");

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("waba_id", error.GetProperty("field").GetString());
        var message = error.GetProperty("error").GetString()!;
        Assert.StartsWith("Meta does not know WABA 102290129340000, or this token cannot read it (code 100: Unsupported get request. Object with ID", message, StringComparison.Ordinal);
        Assert.False((await live.WhatsAppAsync()).GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task ANumberTheWabaDoesNotHaveIsRefusedNamingTheNumbersItHasAndTheFormerNumberStays()
    {
        await using var live = await Live.StartAsync();
        live.Meta.PhoneNumbers[OtherNumber] = "+1 631-555-0199";
        (await live.ConnectAsync(OtherNumber)).EnsureSuccessStatusCode();
        (await live.ConnectAsync(PhoneNumberId)).EnsureSuccessStatusCode(); // lets OtherNumber go: the business's former number
        live.Meta.PhoneNumbers.TryRemove(OtherNumber, out _);
        var before = await live.StoredAsync();

        var response = await live.ConnectAsync("106540352240000");

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("phone_number_id", error.GetProperty("field").GetString());
        Assert.Equal($"Meta lists no phone number 106540352240000 in WABA {WabaId}; nothing was changed. Its numbers: {PhoneNumberId} (+1 631-555-0100).",
            error.GetProperty("error").GetString());
        Assert.Equal(before, await live.StoredAsync());
    }

    [Fact]
    public async Task AWabaWithManyNumbersHasTheFirstTwentyNamedAndTheRestCounted()
    {
        await using var live = await Live.StartAsync();
        var numbers = Enumerable.Range(10, 25).Select(i => ($"1065403522400{i}", $"+1 631-555-01{i}")).ToList();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.NumberList(numbers));

        var response = await live.ConnectAsync(PhoneNumberId);

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal($"Meta lists no phone number {PhoneNumberId} in WABA {WabaId}; nothing was changed. Its numbers: "
            + string.Join(", ", numbers.Take(20).Select(n => $"{n.Item1} ({n.Item2})")) + " and 5 more.", error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AWabaWithoutNumbersIsSaidSo()
    {
        await using var live = await Live.StartAsync();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.NumberList([]));

        var response = await live.ConnectAsync(PhoneNumberId);

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("phone_number_id", error.GetProperty("field").GetString());
        Assert.StartsWith($"Meta lists no phone number in WABA {WabaId}", error.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(503, "<html>Service Unavailable</html>")]
    [InlineData(200, """{"id":"102290129340398"}""")] // not the list: read as one, it would say Meta lists no number
    public async Task MetaFailingOrAnsweringSomethingElseIs502AndChangesNothing(int status, string body)
    {
        await using var live = await Live.StartAsync(new() { ["TwaBot:Meta:Resilience:MaxRetries"] = "0" });
        (await live.ConnectAsync(PhoneNumberId)).EnsureSuccessStatusCode();
        var before = await live.StoredAsync();
        live.Meta.ReplyToNumberList(FakeMetaUpstream.Json(status, body));

        var response = await live.ConnectAsync(PhoneNumberId, token: Token + "Renewed", display: "+1 000");

        var error = await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.Contains("the connection was not changed", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await live.StoredAsync());
    }

    [Fact]
    public async Task MetaUnreachableIs502AndConnectsNothing()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(listen: false);
        await using var live = await Live.StartAsync(meta: meta);

        var response = await live.ConnectAsync(PhoneNumberId);

        var error = await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.Contains("the connection was not changed", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False((await live.WhatsAppAsync()).GetProperty("connected").GetBoolean());
    }

    [Theory]
    [InlineData("7", 7)]
    [InlineData(null, 60)] // Meta named no wait: its business account's limit is backed off from for minutes
    [InlineData("0", 1)]   // "now" is still a second, never "retry in 0 s"
    public async Task MetaThrottlingIs429WithItsWait(string? metasWait, int wait)
    {
        // Without retries: the pipeline waits out a Retry-After that fits its time, and the next answer is the default list.
        await using var live = await Live.StartAsync(new() { ["TwaBot:Meta:Resilience:MaxRetries"] = "0" });
        live.Meta.ReplyToNumberList(FakeMetaUpstream.Json(400,
            """{"error":{"message":"(#80007) Rate limit issues","type":"OAuthException","code":80007,"fbtrace_id":"A3"}}""", retryAfter: metasWait));

        var response = await live.ConnectAsync(PhoneNumberId);

        var error = await response.AssertErrorAsync(HttpStatusCode.TooManyRequests, "UPSTREAM_RATE_LIMITED");
        Assert.Equal(wait, error.GetProperty("retry_after_seconds").GetInt32());
        Assert.Equal(wait.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.RetryAfter?.ToString());
        Assert.Contains("the connection was not changed", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False((await live.WhatsAppAsync()).GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task WhileCallsToMetaArePausedTheConnectIs503()
    {
        await using var live = await Live.StartAsync(new()
        {
            ["TwaBot:Meta:Resilience:MaxRetries"] = "0", ["TwaBot:Meta:Resilience:BreakerMinimumThroughput"] = "2",
            ["TwaBot:Meta:Resilience:BreakerBreakSeconds"] = "600",
        });
        var failing = FakeMetaUpstream.Json(500, "<html>Internal Server Error</html>");
        live.Meta.ReplyToNumberList(failing, failing);
        await (await live.ConnectAsync(PhoneNumberId)).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        await (await live.ConnectAsync(PhoneNumberId)).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");

        var response = await live.ConnectAsync(PhoneNumberId);

        var error = await response.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "META_UNAVAILABLE");
        Assert.Contains("the connection was not changed", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        // The rest of the pause (600 s from the second failure), not the one-second floor.
        Assert.InRange(error.GetProperty("retry_after_seconds").GetInt32(), 2, 600);
        Assert.Equal(error.GetProperty("retry_after_seconds").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.RetryAfter?.ToString());
        Assert.Equal(2, live.Meta.NumberListCalls.Count); // the third was not made
    }

    [Fact]
    public async Task AChangeToTheBusinessWhileMetaIsAskedIsInTheConnectsAnswer()
    {
        await using var live = await Live.StartAsync();
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        live.Meta.ReplyToNumberList(async context =>
        {
            asked.SetResult();
            await answer.Task;
            await FakeMetaUpstream.NumberList([(PhoneNumberId, FakeMetaUpstream.DisplayPhoneNumber)])(context);
        });

        var connecting = live.ConnectAsync(PhoneNumberId);
        await asked.Task;
        (await live.Admin.PatchAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}", new { name = "Renamed Stores" })).EnsureSuccessStatusCode();
        answer.SetResult();

        // The business as it is when the connect writes, not as its check before Meta's call read it.
        var business = (await (await connecting).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("Renamed Stores", business.GetProperty("name").GetString());
        Assert.Equal(PhoneNumberId, business.GetProperty("whatsapp").GetProperty("phone_number_id").GetString());
    }

    [Fact]
    public async Task RequestsRefusedHereCostNoCallToMeta()
    {
        await using var live = await Live.StartAsync();
        var other = await live.Server.CreateBusinessAsync(name: "Other Stores");
        (await live.ConnectAsync(PhoneNumberId, business: other)).EnsureSuccessStatusCode();
        live.Meta.NumberListCalls.Clear();

        await (await live.ConnectAsync("12ab")).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await (await live.ConnectAsync(PhoneNumberId, token: "EAAG token with spaces")).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await (await live.ConnectAsync(PhoneNumberId, business: 999999)).AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        await (await live.ConnectAsync(PhoneNumberId)).AssertErrorAsync(HttpStatusCode.Conflict, "CONFLICT");

        Assert.Empty(live.Meta.NumberListCalls);
    }

    /// <summary>A live-mode server in front of a <see cref="FakeMetaUpstream"/>, with a business to connect.</summary>
    private sealed class Live : IAsyncDisposable
    {
        private readonly FakeMetaUpstream? _ownMeta;

        private Live(FakeMetaUpstream meta, FakeMetaUpstream? ownMeta, TwaBotApiFactory server, long businessId)
        {
            Meta = meta;
            _ownMeta = ownMeta;
            Server = server;
            BusinessId = businessId;
            Admin = server.CreateAdminClient();
        }

        public FakeMetaUpstream Meta { get; }

        public TwaBotApiFactory Server { get; }

        public long BusinessId { get; }

        public HttpClient Admin { get; }

        public static async Task<Live> StartAsync(Dictionary<string, string?>? settings = null, FakeMetaUpstream? meta = null)
        {
            var own = meta is null ? await FakeMetaUpstream.StartAsync() : null;
            var server = LiveMode.Against(meta ?? own!, settings);
            return new Live(meta ?? own!, own, server, await server.CreateBusinessAsync());
        }

        public Task<HttpResponseMessage> ConnectAsync(
            string phoneNumberId, string token = Token, string? waba = null, string? display = null, long? business = null) =>
            Admin.PutAsJsonAsync($"/admin/v1/businesses/{business ?? BusinessId}/whatsapp", display is null
                ? new { phone_number_id = phoneNumberId, waba_id = waba ?? WabaId, access_token = token }
                : (object)new { phone_number_id = phoneNumberId, waba_id = waba ?? WabaId, access_token = token, display_phone_number = display });

        public async Task<JsonElement> WhatsAppAsync() =>
            (await (await Admin.GetAsync($"/admin/v1/businesses/{BusinessId}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");

        /// <summary>The business's stored connection and former number, as the database holds them.</summary>
        public async Task<string> StoredAsync()
        {
            var stored = "";
            await Server.WithDbAsync(async db =>
            {
                var business = await db.Businesses.AsNoTracking().Include(b => b.WhatsApp).SingleAsync(b => b.Id == BusinessId);
                var w = business.WhatsApp;
                stored = $"{w?.PhoneNumberId} {w?.WabaId} {w?.ProtectedAccessToken} {w?.DisplayPhoneNumber} {w?.ConnectedAt:O} {w?.TokenRefusedAt:O} "
                    + $"former {business.FormerPhoneNumberId} {business.DisconnectedAt:O}";
            });
            return stored;
        }

        public async ValueTask DisposeAsync()
        {
            Admin.Dispose();
            await Server.DisposeAsync();
            if (_ownMeta is not null)
            {
                await _ownMeta.DisposeAsync();
            }
        }
    }
}
