using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using System.Text.Json.Nodes;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Meta;

/// <summary>
/// A live-mode server in front of a scripted Meta: what a client sees (status, error, the message row,
/// message-status, the log) for each kind of answer Meta, or something at its address, gives.
/// </summary>
public partial class LiveMetaAnswersTests
{
    private const string Token = "EAAGliveAnswersToken0123456789";
    private const string PhoneNumberId = "106540352242922";

    public static TheoryData<string, int, string, string> MetaRefusals => new()
    {
        // PRODUCT §5, as Meta sends each: the HTTP status Meta's table gives, its code in the body.
        { """{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"details":"More than 24 hours"},"fbtrace_id":"A1"}}""", 400, "WINDOW_CLOSED", "failed" },
        { """{"error":{"message":"(#132001) Template name does not exist in the translation","type":"OAuthException","code":132001,"fbtrace_id":"A1"}}""", 404, "TEMPLATE_NOT_FOUND", "failed" },
        { """{"error":{"message":"(#132000) Number of parameters does not match","type":"OAuthException","code":132000,"error_data":{"details":"body: localizable_params (1) != 2"},"fbtrace_id":"A1"}}""", 400, "TEMPLATE_PARAMS_INVALID", "failed" },
        { """{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026,"fbtrace_id":"A1"}}""", 400, "RECIPIENT_UNDELIVERABLE", "failed" },
        { """{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1"}}""", 401, "WHATSAPP_NOT_CONNECTED", "failed" },
        { """{"error":{"message":"(#131056) (Business Account, Consumer Account) pair rate limit hit","type":"OAuthException","code":131056,"error_subcode":2494055,"fbtrace_id":"A1"}}""", 400, "PAIR_RATE_LIMITED", "failed" },
        { """{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2494010,"error_data":{"details":"Parameter 'to' is not valid"},"fbtrace_id":"A1"}}""", 400, "META_REJECTED", "failed" },
        { """{"error":{"message":"(#131000) Something went wrong","type":"OAuthException","code":131000,"fbtrace_id":"A1"}}""", 500, "META_UNAVAILABLE", "pending" },
        { "<html><body>502 Bad Gateway</body></html>", 502, "META_UNAVAILABLE", "pending" },
    };

    [Theory]
    [MemberData(nameof(MetaRefusals))]
    public async Task EachOfMetasAnswersReachesTheClientAndTheRowAsTheTableSays(string answer, int metaStatus, string errorCode, string row)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(metaStatus, answer));

        var response = await live.SendTemplateAsync();

        Assert.Equal(errorCode, (await response.ReadJsonAsync(response.StatusCode)).GetProperty("error_code").GetString());
        Assert.Equal(row, (await live.LastMessageAsync()).ApiStatus);
        Assert.Single(live.Meta.Calls);
        Assert.DoesNotContain(Token, live.Server.Logs.AllText(), StringComparison.Ordinal);
        // Only a refused token makes health say sends will fail: Meta refusing one message says nothing of the token.
        Assert.Equal(errorCode != "WHATSAPP_NOT_CONNECTED", await live.HealthSaysConnectedAsync());
    }

    [Theory]
    [InlineData("header: Format mismatch, expected IMAGE, received UNKNOWN")]
    [InlineData("Header: Format mismatch, expected IMAGE, received UNKNOWN")]
    public async Task MetasRefusalOfAHeaderNamesHeaderParamsWhateverTheCaseOfItsDetails(string details)
    {
        // Meta's details name the component first; the header is read as the button is, in either case, and pointed
        // at the values that fill it, not at the body's.
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(400, $$$"""{"error":{"message":"(#132012) Parameter format does not match format in the created template","type":"OAuthException","code":132012,"error_data":{"details":"{{{details}}}"},"fbtrace_id":"A1"}}"""));

        var refused = await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");

        Assert.Equal("header_params", refused.GetProperty("field").GetString());
    }

    [Fact]
    public async Task TheSandboxsMagicNumbersAreOrdinaryNumbersToALiveServer()
    {
        // README's magic numbers belong to the emulator: a live server sends to them as to any number, and takes Meta's answer.
        await using var live = await LiveMeta.StartAsync();
        string[] numbers = ["919876540000", "919876540047", "919876540050", "919876540429", "919876540500"];

        foreach (var number in numbers)
        {
            live.Meta.Reply(FakeMetaUpstream.Accepted("wamid.live" + number));
            var response = await live.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = number, template_name = "order_confirmation", body_params = new[] { "Rahul", "#1" } });

            Assert.Equal("wamid.live" + number, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
        }

        Assert.Equal(numbers, live.Meta.Calls.Select(call => JsonNode.Parse(call.Body)!["to"]!.GetValue<string>()));
    }

    [Fact]
    public async Task MetasSubcodeIsLoggedBesideItsCode()
    {
        // 100 alone is any invalid parameter; with subcode 33 it is a number id Meta does not know (or the token cannot reach).
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Error(400, 100, "Unsupported post request", subcode: 33));

        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");

        Assert.Contains("Meta refused a call: HTTP 400, code 100, subcode 33", live.Server.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A401WithOnlyMetasTokenChallengeIsATokenThatNoLongerWorks()
    {
        // Meta's challenge header without its error body: "try again shortly" would never succeed.
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(TokenChallengeOnly);

        var response = await live.SendTemplateAsync();

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        var message = await live.LastMessageAsync();
        Assert.Equal(("failed", 190), (message.ApiStatus, message.FailureCode));
        Assert.Single(live.Meta.Calls);
    }

    /// <summary>
    /// /health is how an integrator checks before going live: once Meta refuses the token, every send fails
    /// (WHATSAPP_NOT_CONNECTED), so health must not go on saying connected; a call with the token that succeeds ends it.
    /// </summary>
    [Fact]
    public async Task HealthSaysNotConnectedAfterMetaRefusesTheTokenUntilACallWithItSucceeds()
    {
        await using var live = await LiveMeta.StartAsync();
        Assert.True(await live.HealthSaysConnectedAsync());
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));
        var refusedAt = live.Server.Clock.GetUtcNow().UtcDateTime;

        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");

        Assert.False(await live.HealthSaysConnectedAsync());
        var whatsapp = await live.AdminWhatsAppAsync();
        Assert.True(whatsapp.GetProperty("connected").GetBoolean()); // the connection is kept: only its token is refused
        Assert.Equal(refusedAt, whatsapp.GetProperty("token_refused_at").GetDateTime().ToUniversalTime());

        live.Server.Clock.Advance(TimeSpan.FromMinutes(1));
        live.Meta.Reply(FakeMetaUpstream.Accepted());
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
    }

    /// <summary>
    /// The Error line an operator alerts on (operations.md, Logs) tells of the refused token once, not once per send that
    /// Meta refuses with it: a CRM sending on would otherwise write an Error a send. Each call keeps its Warning; a token
    /// refused again after a call with it went through is told again.
    /// </summary>
    [Fact]
    public async Task ARefusedTokenIsLoggedAtErrorOnceNotOncePerSend()
    {
        await using var live = await LiveMeta.StartAsync();
        var refusal = FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463);
        live.Meta.Reply(refusal, refusal, refusal, FakeMetaUpstream.Accepted(), refusal);
        int Logged(string start) => live.Server.Logs.Events.Count(e => e.MessageTemplate.Text.StartsWith(start, StringComparison.Ordinal));

        for (var i = 0; i < 3; i++)
        {
            await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        }

        Assert.Equal(1, Logged("Meta refused the access token of WhatsApp number"));
        Assert.Equal(3, Logged("Meta refused a call:"));
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        Assert.Equal(2, Logged("Meta refused the access token of WhatsApp number"));
    }

    [Fact]
    public async Task ConnectingWhatsAppWithANewTokenEndsTheRefusalOfTheOldOne()
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        Assert.False(await live.HealthSaysConnectedAsync());

        (await live.ConnectAsync(Token + "Renewed")).EnsureSuccessStatusCode();

        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
        Assert.Empty(live.Meta.Calls.Skip(1)); // told by the new token, which the connect's check used, not by a send
        Assert.Equal("Bearer " + Token + "Renewed", Assert.Single(live.Meta.NumberListCalls).Authorization);
    }

    /// <summary>A call that never reached Meta's verdict (an unavailable Meta) says nothing of the token: only a success ends its refusal.</summary>
    [Fact]
    public async Task ARefusedTokenStaysRefusedAfterASendMetaCouldNotAnswer()
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463),
            FakeMetaUpstream.Json(502, "<html><body>502 Bad Gateway</body></html>"));
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");

        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");

        Assert.False(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.String, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
    }

    /// <summary>
    /// A connect whose new token Meta accepts but whose WABA does not list the number changes nothing either: that token's
    /// success is not the stored token's, which stays refused.
    /// </summary>
    [Fact]
    public async Task AnotherTokenMetaAcceptsInAFailedConnectDoesNotEndTheStoredTokensRefusal()
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        live.Meta.ReplyToNumberList(FakeMetaUpstream.NumberList([("106540352299999", "+1 555-0199")]));

        var connect = await live.ConnectAsync(Token + "OfAnotherWaba");

        Assert.Equal("phone_number_id", (await connect.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        Assert.False(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.String, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
    }

    /// <summary>A connect whose new token Meta's check refuses changes nothing: the stored token's refusal stays as it was.</summary>
    [Fact]
    public async Task AConnectRefusedByMetasCheckLeavesTheStoredTokensRefusalAsItWas()
    {
        await using var live = await LiveMeta.StartAsync();
        var refusedAt = live.Server.Clock.GetUtcNow().UtcDateTime;
        var refusal = FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463);
        live.Meta.Reply(refusal);
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        live.Server.Clock.Advance(TimeSpan.FromMinutes(1));
        live.Meta.ReplyToNumberList(refusal);

        var connect = await live.ConnectAsync(Token + "AlsoRevoked");

        Assert.Equal("access_token", (await connect.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        Assert.False(await live.HealthSaysConnectedAsync());
        Assert.Equal(refusedAt, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").GetDateTime().ToUniversalTime());
    }

    /// <summary>The token Meta refused, connected again and accepted by the connect's check: no longer the token Meta refused.</summary>
    [Fact]
    public async Task TheRefusedTokenAcceptedByTheConnectsCheckIsNoLongerRefusedRestartsIncluded()
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        Assert.False(await live.HealthSaysConnectedAsync());

        (await live.ConnectAsync(Token)).EnsureSuccessStatusCode();

        Assert.Equal("Bearer " + Token, Assert.Single(live.Meta.NumberListCalls).Authorization);
        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
        await live.RestartAsync();
        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
    }

    /// <summary>
    /// Rotating a business's token (docs/operations.md, Rotating secrets): a send already at Meta with the old token ends
    /// as Meta answers it (a refusal only when the old token was revoked at Meta too early, which then marks nothing
    /// against the new one); every send after the PUT goes with the new token.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ReplacingTheTokenWhileASendIsAtMetaFailsNothingAndLaterSendsUseOnlyTheNewToken(bool oldTokenRevokedAtMeta)
    {
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20); // the held call must not time out on a loaded machine
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode(); // the connection is cached with the old token
        var held = new HeldAnswer(oldTokenRevokedAtMeta ? FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 460) : FakeMetaUpstream.Accepted());
        live.Meta.Reply(held.Reply);
        var underWay = live.SendTemplateAsync();
        await held.ReachedMetaAsync();

        var put = await live.ConnectAsync(Token + "Renewed");
        var answer = await put.Content.ReadAsStringAsync();
        put.EnsureSuccessStatusCode();
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        held.Release();
        var answered = await underWay;

        if (oldTokenRevokedAtMeta)
        {
            await answered.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        }
        else
        {
            answered.EnsureSuccessStatusCode();
        }

        Assert.Equal(["Bearer " + Token, "Bearer " + Token, "Bearer " + Token + "Renewed"], live.Meta.Calls.Select(c => c.Authorization));
        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
        Assert.DoesNotContain(Token, answer, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, live.Server.Logs.AllText(), StringComparison.Ordinal);
    }

    /// <summary>A restart must not turn health back to connected while every send still fails.</summary>
    [Fact]
    public async Task ARefusedTokenIsStillRefusedAfterARestartWithoutAnotherCallToMeta()
    {
        await using var live = await LiveMeta.StartAsync();
        var refusedAt = live.Server.Clock.GetUtcNow().UtcDateTime;
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");

        await live.RestartAsync();

        Assert.False(await live.HealthSaysConnectedAsync());
        Assert.Equal(refusedAt, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").GetDateTime().ToUniversalTime());
        Assert.Single(live.Meta.Calls); // told by what the server stored, not by another call
    }

    [Fact]
    public async Task ARefusalEndedByACallThatSucceedsStaysEndedAfterARestart()
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        await live.RestartAsync();
        Assert.False(await live.HealthSaysConnectedAsync());

        live.Meta.Reply(FakeMetaUpstream.Accepted());
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        Assert.True(await live.HealthSaysConnectedAsync());
        await live.RestartAsync();

        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
    }

    [Fact]
    public async Task ARefusalOfATokenReplacedWhileItsCallWasUnderWayIsNotStoredForTheNewOne()
    {
        await using var live = await LiveMeta.StartAsync();
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refusal = FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463);
        live.Meta.Reply(async context =>
        {
            asked.TrySetResult();
            await answer.Task;
            await refusal(context);
        });
        var send = live.SendTemplateAsync();
        await asked.Task.WaitAsync(TimeSpan.FromSeconds(10));

        (await live.ConnectAsync(Token + "Renewed")).EnsureSuccessStatusCode();
        answer.SetResult();
        await (await send).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        await live.RestartAsync();

        Assert.True(await live.HealthSaysConnectedAsync());
        Assert.Equal(JsonValueKind.Null, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AfterARestartOnlyTheRefusedTokenIsRefusedWhenWhatsAppWasConnectedAgain(bool newToken)
    {
        await using var live = await LiveMeta.StartAsync();
        var refusal = FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463);
        live.Meta.Reply(refusal);
        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        if (!newToken)
        {
            live.Meta.ReplyToNumberList(refusal); // the same token again: Meta's check refuses it too, and the connect changes nothing
        }

        var connect = await live.ConnectAsync(newToken ? Token + "Renewed" : Token);
        Assert.Equal(newToken ? HttpStatusCode.OK : HttpStatusCode.BadRequest, connect.StatusCode);

        await live.RestartAsync();

        Assert.Equal(newToken, await live.HealthSaysConnectedAsync());
        Assert.Equal(newToken ? JsonValueKind.Null : JsonValueKind.String, (await live.AdminWhatsAppAsync()).GetProperty("token_refused_at").ValueKind);
        Assert.Single(live.Meta.Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATokenMetaRefusesIsLoggedForTheOperatorByItsNumber(bool challengeOnly)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(challengeOnly ? TokenChallengeOnly : FakeMetaUpstream.Error(401, 190, "Error validating access token", subcode: 463));

        await live.SendTemplateAsync();

        var line = Assert.Single(live.Server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Meta refused the access token", StringComparison.Ordinal));
        Assert.Equal(Serilog.Events.LogEventLevel.Error, line.Level);
        Assert.Contains(PhoneNumberId, line.RenderMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.DoesNotContain(Token, live.Server.Logs.AllText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("reset", "The connection to Meta broke before its answer was read")]
    [InlineData("huge", "Meta's answer was larger than 4 MB")]
    public async Task AnAnswerLostAfterTheSendWentOutIsNotCalledUnreachable(string answer, string reason)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(answer == "reset"
            ? context => { context.Abort(); return Task.CompletedTask; }
            : FakeMetaUpstream.Json(200, "{\"x\":\"" + new string('a', 5 * 1024 * 1024) + "\"}"));

        var response = await live.SendTemplateAsync();

        var json = await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        var status = await (await live.Client.GetAsync($"/api/v1/message-status/{json.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("pending", status.GetProperty("api_status").GetString());
        var failureReason = status.GetProperty("failure_reason").GetString();
        Assert.StartsWith(reason, failureReason, StringComparison.Ordinal);
        Assert.DoesNotContain("could not be reached", failureReason, StringComparison.Ordinal);
        Assert.Single(live.Meta.Calls); // never sent twice
    }

    [Theory]
    [InlineData("\"+1 (631) 555-0199\"")] // a webhook's wa_id in this form is read as its digits, and so is the send answer's
    [InlineData("16315550199")]              // a JSON number
    public async Task TheWaIdASendsAnswerGivesIsPairedAsItsDigitsSoTheCustomersStopCounts(string waId)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(200,
            $$"""{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":{{waId}}}],"messages":[{"id":"wamid.first"}]}"""));
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        await live.CustomerWritesAsync("16315550199", "STOP");
        var response = await live.SendTemplateAsync();

        Assert.Equal("opted_out", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
        Assert.Single(live.Meta.Calls);
    }

    [Fact]
    public async Task ALaterSendsAnswerWithAnotherWaIdReplacesThePairSoTheNewWaIdsStopCounts()
    {
        // A later answer may name the number by another wa_id: the newest answer is the pair (its ON CONFLICT update).
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(
            FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":"16315550199"}],"messages":[{"id":"wamid.first"}]}"""),
            FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":"16315550100"}],"messages":[{"id":"wamid.second"}]}"""));
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        live.Server.Clock.Advance(TimeSpan.FromHours(1));
        var secondAnswerAt = live.Server.Clock.GetUtcNow().UtcDateTime;
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        await live.CustomerWritesAsync("16315550100", "STOP");
        var response = await live.SendTemplateAsync();

        Assert.Equal("opted_out", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
        Assert.Equal(2, live.Meta.Calls.Count);
        DateTime pairUpdatedAt = default;
        await live.Server.WithDbAsync(async db => pairUpdatedAt = await db.RecipientWaIds.Select(r => r.UpdatedAt).SingleAsync());
        Assert.Equal(secondAnswerAt, pairUpdatedAt); // the operator sees when Meta last named the pair
    }

    [Fact]
    public async Task AStartFromTheWaIdASendsAnswerGaveLiftsAnOptOutEnteredUnderTheNumber()
    {
        // A pair of no rule (WaIdForms) is known only from Meta's answer: the START from the wa_id still finds the number's opt-out.
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(
            FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":"16315550199"}],"messages":[{"id":"wamid.first"}]}"""),
            FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":"16315550199"}],"messages":[{"id":"wamid.second"}]}"""));
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        (await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/suppressions",
            new { phone = "919876543210", state = "opted_out" })).EnsureSuccessStatusCode();

        await live.CustomerWritesAsync("16315550199", "START");
        var response = await live.SendTemplateAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, live.Meta.Calls.Count);
    }

    [Theory] // Meta's latest answer says which account the number reaches: that account's STOP and START count for it
    [InlineData("the number", "former: STOP", true)]                  // the former wa_id is another account now
    [InlineData("the number", "former: STOP, number: START", true)]   // its STOP delivered late; the number's START is the latest
    [InlineData("the former wa_id", "former: STOP, number: START", false)] // the number's messages still reach the one who said STOP
    [InlineData("no wa_id", "former: STOP", false)]                    // an answer without contacts says nothing of the account
    public async Task TheWaIdWhoseStopCountsForTheNumberIsTheOneMetasLatestAnswerNamed(string laterAnswer, string messages, bool sent)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(
            AnsweredAs(FormerWaId, "wamid.first"),
            laterAnswer switch
            {
                "the number" => AnsweredAs(Dialled, "wamid.second"),
                "no wa_id" => FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","messages":[{"id":"wamid.second"}]}"""),
                _ => AnsweredAs(FormerWaId, "wamid.second"),
            },
            AnsweredAs(Dialled, "wamid.third"));
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        foreach (var message in messages.Split(", "))
        {
            var (from, text) = (message.Split(": ")[0], message.Split(": ")[1]);
            await live.CustomerWritesAsync(from == "former" ? FormerWaId : Dialled, text);
            live.Server.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        var response = await live.SendTemplateAsync();

        if (sent)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else
        {
            await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        }

        Assert.Equal(sent ? 3 : 2, live.Meta.Calls.Count);
    }

    [Fact]
    public async Task AMessageFromAWaIdMetaNoLongerAnswersForTheNumberOpensNoWindowForIt()
    {
        // Meta's window is the account's: once Meta answers the number as its own, a message from the former wa_id opens
        // none for it, and a text would be accepted only to fail with 131047.
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(AnsweredAs(FormerWaId, "wamid.first"), AnsweredAs(Dialled, "wamid.second"));
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        await live.CustomerWritesAsync(FormerWaId, "Hi");
        var response = await live.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "+" + Dialled, message = "Hello" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.Equal(2, live.Meta.Calls.Count);
    }

    /// <summary>The number every send here goes to, as Meta names it when it is its own account.</summary>
    private const string Dialled = "919876543210";

    /// <summary>The wa_id Meta's first answer gives the number (of no country rule: only the answer pairs them).</summary>
    private const string FormerWaId = "16315550199";

    private static Func<HttpContext, Task> AnsweredAs(string waId, string wamid) => FakeMetaUpstream.Json(200,
        $$"""{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":"{{waId}}"}],"messages":[{"id":"{{wamid}}"}]}""");

    [Theory]
    [InlineData("\"US.13491208655302741918\"")] // a business-scoped user id, not a number
    [InlineData("\"wa_id\"")]
    [InlineData("\"1234567\"")]                 // fewer digits than any phone number
    [InlineData("\"1234567890123456789012\"")]
    public async Task AWaIdInASendsAnswerThatIsNoPhoneNumberIsNotPaired(string waId)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(200,
            $$"""{"messaging_product":"whatsapp","contacts":[{"input":"+919876543210","wa_id":{{waId}}}],"messages":[{"id":"wamid.first"}]}"""));

        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        var pairs = -1;
        await live.Server.WithDbAsync(async db => pairs = await db.RecipientWaIds.CountAsync());
        Assert.Equal(0, pairs);
    }

    [Fact]
    public async Task AnOversizedRefusalReachesTheCallerTheRowAndTheLogCutShort()
    {
        // Meta's texts are a sentence and a 27-character trace id; whatever answers at its address may send 4 MB of each.
        await using var live = await LiveMeta.StartAsync();
        var huge = new string('x', 200_000);
        live.Meta.Reply(FakeMetaUpstream.Json(400, new JsonObject
        {
            ["error"] = new JsonObject
            {
                ["message"] = "<html>" + huge, ["type"] = "OAuthException" + huge, ["code"] = 100,
                ["error_data"] = new JsonObject { ["details"] = "<b>" + huge }, ["fbtrace_id"] = "AbC" + huge,
            },
        }.ToJsonString()));

        var response = await live.SendTemplateAsync();

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED")).GetProperty("error").GetString()!;
        Assert.StartsWith("WhatsApp (Meta) refused the message (code 100): <b>xxx", error, StringComparison.Ordinal);
        Assert.InRange(error.Length, 100, 2_000);
        var reason = (await live.LastMessageAsync()).FailureReason!;
        Assert.StartsWith("Meta reported '<html>xxx", reason, StringComparison.Ordinal);
        Assert.InRange(reason.Length, 100, 2_000);
        var refusal = Assert.Single(live.Server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Meta refused a call", StringComparison.Ordinal));
        Assert.InRange(refusal.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Length, 100, 2_000);
        Assert.InRange(live.Server.Logs.AllText().Length, 1, 100_000);
    }

    [Fact]
    public async Task ARefusalWithACodeWithoutItsOwnSentenceKeepsMetasDetailsInTheRowAsAFailedStatusDoes()
    {
        // "Invalid parameter" alone tells the operator reading failure_reason nothing; the details name what was wrong.
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(400, """{"error":{"message":"Invalid parameter","type":"OAuthException","code":100,"error_subcode":2494010,"error_data":{"details":"Parameter 'to' is not valid"},"fbtrace_id":"A1"}}"""));

        var response = await live.SendTemplateAsync();

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");
        var message = await live.LastMessageAsync();
        Assert.Equal(
            (TwaBot.Api.Messages.ApiStatuses.Failed, (int?)100, "Meta reported 'Invalid parameter' (code 100) and did not deliver the message: Parameter 'to' is not valid"),
            (message.ApiStatus, message.FailureCode, message.FailureReason));
    }

    [Fact]
    public async Task ASendMetaAnswersTooLateIsSentOnceAndSettledByItsStatusReport()
    {
        // The answer (2 s after the call arrives) always comes after the attempt's timeout (1.5 s after it left); the
        // timeout is no shorter so that even a loaded machine brings the call to the fake before it is cut off.
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 1.5);
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"messages":[{"id":"wamid.late"}]}""", delay: TimeSpan.FromSeconds(2)));

        var response = await live.SendTemplateAsync();

        var messageId = (await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("message_id").GetString();
        Assert.Matches("^twb:[a-z][0-9a-z]{19}$", messageId); // our reference, the callback data Meta was given
        Assert.Contains($"\"biz_opaque_callback_data\":\"{messageId}\"", Assert.Single(live.Meta.Calls).Body, StringComparison.Ordinal);
        await live.MetaReportsAsync(MetaPayloads.Status("wamid.late", "sent", live.Server.Clock.GetUtcNow(), callbackData: messageId));
        var status = await (await live.Client.GetAsync($"/api/v1/message-status/{messageId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("success", "sent", "wamid.late"),
            (status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString(), status.GetProperty("message_id").GetString()));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(200)] // an answer without the new template's id
    public async Task ATemplateSubmissionMetaMayHaveReceivedStaysPendingAndTheAnswerSaysToSync(int metaStatus)
    {
        await using var live = await LiveMeta.StartAsync();
        using var calls = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            live.Server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Api.Metrics.TwaBotMetrics.MeterName, "twabot.meta.calls");
        live.Meta.Reply(metaStatus == 200 ? FakeMetaUpstream.Json(200, """{"success":true}""") : FakeMetaUpstream.Error(500, 1, "An unknown error occurred"));
        var template = new { name = "order_update", language = "en_US", category = "UTILITY", body = "Hi {{1}}" };

        var first = await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", template);

        // The operator's alert on outcome unavailable sees either, and the log names the number whose business it was.
        Assert.Equal(["create_template unavailable"],
            calls.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.meta.operation"]} {m.Tags["twabot.meta.outcome"]}"));
        Assert.Contains(live.Server.Logs.Events, e => e.MessageTemplate.Text.StartsWith(metaStatus == 200 ? "Meta answered HTTP" : "Meta failed a call", StringComparison.Ordinal)
            && e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).Contains(PhoneNumberId, StringComparison.Ordinal));

        var error = (await first.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("error").GetString()!;
        Assert.Contains("PENDING", error, StringComparison.Ordinal);
        Assert.Contains("sync templates", error, StringComparison.Ordinal);
        Assert.DoesNotContain("nothing was changed", error, StringComparison.Ordinal);
        var stored = await live.TemplateStatusAsync("order_update");
        Assert.Equal("PENDING", stored);
        // As the answer says: the same submission is refused until a sync settles it.
        await (await live.Admin.PostAsJsonAsync($"/admin/v1/businesses/{live.BusinessId}/templates", template))
            .AssertErrorAsync(HttpStatusCode.Conflict, "CONFLICT");
    }

    [Fact]
    public async Task EachSendGoesToTheConfiguredVersionWithItsBusinesssOwnTokenInMetasShape()
    {
        await using var live = await LiveMeta.StartAsync(graphVersion: "v24.0");
        await live.CustomerWritesAsync("919876543210"); // opens the window for free-form messages
        var other = await live.Server.CreateBusinessAsync(name: "Other Stores");
        live.Meta.PhoneNumbers["106540352249999"] = "+1 631-555-0199";
        (await live.Admin.PutAsJsonAsync($"/admin/v1/businesses/{other}/whatsapp",
            new { phone_number_id = "106540352249999", waba_id = "102290129349999", access_token = "EAAGotherBusinessToken987" })).EnsureSuccessStatusCode();
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"data":[{"name":"otp_verification","language":"en","status":"APPROVED","category":"AUTHENTICATION","id":"222","components":[{"type":"BODY","text":"{{1}} is your verification code."}]}]}"""));
        (await live.Admin.PostAsync($"/admin/v1/businesses/{other}/templates/sync", null)).EnsureSuccessStatusCode();
        using var otherClient = live.Server.CreateApiClient((await live.Server.CreateApiKeyAsync(other)).Key);
        live.Meta.Calls.Clear();

        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        (await live.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "+919876543210", message = "Hello" })).EnsureSuccessStatusCode();
        (await live.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "+919876543210", media_type = "document", media_url = "https://cdn.example/i.pdf", caption = "Invoice", filename = "i.pdf" })).EnsureSuccessStatusCode();
        (await otherClient.PostAsJsonAsync("/api/v1/send-otp", new { phone = "+919876543210", template_name = "otp_verification", otp = "482913" })).EnsureSuccessStatusCode();

        var calls = live.Meta.Calls.ToArray();
        Assert.Equal(4, calls.Length);
        Assert.All(calls[..3], c => Assert.Equal(($"/v24.0/{PhoneNumberId}/messages", "Bearer " + Token), (c.PathAndQuery, c.Authorization)));
        Assert.Equal(("/v24.0/106540352249999/messages", "Bearer EAAGotherBusinessToken987"), (calls[3].PathAndQuery, calls[3].Authorization));
        string[] expected =
        [
            """{"messaging_product":"whatsapp","recipient_type":"individual","to":"919876543210","biz_opaque_callback_data":"{REF1}","type":"template","template":{"name":"order_confirmation","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"Rahul"},{"type":"text","text":"#1"}]}]}}""",
            """{"messaging_product":"whatsapp","recipient_type":"individual","to":"919876543210","biz_opaque_callback_data":"{REF2}","type":"text","text":{"preview_url":false,"body":"Hello"}}""",
            """{"messaging_product":"whatsapp","recipient_type":"individual","to":"919876543210","biz_opaque_callback_data":"{REF3}","type":"document","document":{"link":"https://cdn.example/i.pdf","caption":"Invoice","filename":"i.pdf"}}""",
            """{"messaging_product":"whatsapp","recipient_type":"individual","to":"919876543210","biz_opaque_callback_data":"{REF4}","type":"template","template":{"name":"otp_verification","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"482913"}]}]}}""",
        ];
        List<string> references = [];
        await live.Server.WithDbAsync(async db => references = await db.Messages.OrderBy(m => m.Id).Select(m => m.Reference).ToListAsync());
        Assert.Equal(4, references.Count);
        Assert.Equal(expected.Select(body => Enumerable.Range(1, 4).Aggregate(body, (b, i) => b.Replace($"{{REF{i}}}", references[i - 1], StringComparison.Ordinal))),
            calls.Select(c => c.Body));
    }

    [Fact]
    public async Task TextInAnyScriptReachesMetaAsWritten()
    {
        // No normalization (an NFD accent stays two code points), no trimming, marks and joiners kept: Meta and the phone render them.
        const string Text = "  Ol\u00e1 Jos\u0065\u0301 \u200f\u05e9\u05dc\u05d5\u05dd\u200f \u0BA4\u0BAE\u0BBF\u0BB4\u0BCD \u0E20\u0E32\u0E29\u0E32"
            + " \U0001F468\u200D\U0001F469\u200D\U0001F467 \U0001F1EE\U0001F1F3\n";
        const string Param = "\u0930\u093e\u0939\u0941\u0932 \U0001F600";
        await using var live = await LiveMeta.StartAsync();
        await live.CustomerWritesAsync("919876543210");
        live.Meta.Calls.Clear();

        // The text written as JSON \u escapes (surrogate pairs for the emoji), the parameter as a quick-send's percent-encoded UTF-8.
        var escaped = string.Concat(Text.Select(c => c < 0x80 && c != '\n' ? c.ToString() : $"\\u{(int)c:x4}"));
        (await live.Client.PostAsync("/api/v1/send-text", new StringContent($$"""{"phone":"919876543210","message":"{{escaped}}"}""",
            System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await live.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params={Uri.EscapeDataString(Param)},%231")).EnsureSuccessStatusCode();

        var calls = live.Meta.Calls.Select(c => JsonNode.Parse(c.Body)!).ToArray();
        Assert.Equal(2, calls.Length);
        Assert.Equal(Text, (string?)calls[0]["text"]!["body"]);
        Assert.Equal(new string?[] { Param, "#1" }, calls[1]["template"]!["components"]![0]!["parameters"]!.AsArray().Select(p => (string?)p!["text"]));
    }

    [Fact]
    public async Task ASyncReadsEveryPageByItsCursorOrChangesNothing()
    {
        await using var live = await LiveMeta.StartAsync();
        var firstPage = FakeMetaUpstream.Json(200, """
            {"data":[{"name":"promo","language":"en","status":"APPROVED","category":"MARKETING","id":"333","components":[{"type":"BODY","text":"Sale"}]}],
             "paging":{"cursors":{"before":"QVFI1","after":"QVFI2"},"next":"https://graph.facebook.com/v23.0/102290129340398/message_templates?after=QVFI2"}}
            """);
        live.Meta.Reply(firstPage, FakeMetaUpstream.Json(503, "<html>Service Unavailable</html>"));

        var broken = await live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null);

        await broken.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.Equal("APPROVED", await live.TemplateStatusAsync("order_confirmation")); // not taken as deleted
        live.Meta.Calls.Clear();
        live.Meta.Reply(firstPage, FakeMetaUpstream.Json(200, """
            {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} is confirmed."}]}],
             "paging":{"cursors":{"before":"QVFI3","after":"QVFI4"}}}
            """));

        var synced = await (await live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((2, 1, 0), (synced.GetProperty("total").GetInt32(), synced.GetProperty("created").GetInt32(), synced.GetProperty("removed").GetInt32()));
        Assert.EndsWith("&after=QVFI2", live.Meta.Calls.Last().PathAndQuery, StringComparison.Ordinal);
        Assert.All(live.Meta.Calls, c => Assert.Equal("Bearer " + Token, c.Authorization));
    }

    [Theory]
    [InlineData("""[7,{"type":"QUICK_REPLY","text":"Stop"}]""")]                                     // a button that is no object
    [InlineData("""[{"type":"URL","text":"Track","url":"https://x.example/{{1}}","example":["\ud800"]}]""")] // an example that is no text
    public async Task ASyncReadsATemplateWithOddButtonsInsteadOfFailing(string buttons)
    {
        await using var live = await LiveMeta.StartAsync();
        live.Meta.Reply(FakeMetaUpstream.Json(200, $$"""
            {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} is confirmed."}]},
             {"name":"promo","language":"en","status":"APPROVED","category":"MARKETING","id":"333",
              "components":[{"type":"BODY","text":"Sale"},{"type":"BUTTONS","buttons":{{buttons}}}]}]}
            """));

        var synced = await (await live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((2, 1), (synced.GetProperty("total").GetInt32(), synced.GetProperty("created").GetInt32()));
        Assert.Equal("APPROVED", await live.TemplateStatusAsync("promo"));
    }

    [Theory]
    [InlineData("name")]
    [InlineData("language")]
    public async Task AListedTemplateWithoutItsNameOrLanguageIsNotStored(string leftOut)
    {
        // Without both there is no template a send could name: it is left out, not stored under a made-up key.
        await using var live = await LiveMeta.StartAsync();
        var element = new Dictionary<string, string> { ["name"] = "spring_sale", ["language"] = "en", ["status"] = "APPROVED", ["category"] = "MARKETING", ["id"] = "222" };
        element.Remove(leftOut);
        var first = JsonSerializer.Deserialize<JsonElement>(LiveMeta.Templates).GetProperty("data")[0];
        live.Meta.Reply(FakeMetaUpstream.Json(200, JsonSerializer.Serialize(new { data = new object[] { first, element } })));

        var synced = await (await live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal((1, 0), (synced.GetProperty("total").GetInt32(), synced.GetProperty("created").GetInt32()));
        var listed = await (await live.Admin.GetAsync($"/admin/v1/businesses/{live.BusinessId}/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["order_confirmation/en"],
            listed.GetProperty("templates").EnumerateArray().Select(t => $"{t.GetProperty("name").GetString()}/{t.GetProperty("language").GetString()}"));
    }

    private static readonly Func<HttpContext, Task> TokenChallengeOnly = context =>
    {
        context.Response.StatusCode = 401;
        context.Response.Headers.WWWAuthenticate = "OAuth \"Facebook Platform\" \"invalid_token\" \"Error validating access token: Session has expired\"";
        return Task.CompletedTask;
    };

    /// <summary>A live-mode server whose Meta is a <see cref="FakeMetaUpstream"/>, with a business connected and its templates synced.</summary>
    [Fact]
    public async Task ASendGoesOnWhileAnotherBusinesssConnectWaitsForMetasCheck()
    {
        // The connect asks Meta outside the write gate that every send's commit takes: a slow Meta holds that connect only.
        // (Held until the send is answered, not delayed: a send slower than a fixed delay on a loaded machine failed the test.)
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        var other = await live.Server.CreateBusinessAsync();
        var held = new HeldAnswer(FakeMetaUpstream.NumberList([("106540352249999", "+1 631-555-0199")]));
        live.Meta.ReplyToNumberList(held.Reply);

        var connect = live.Admin.PutAsJsonAsync($"/admin/v1/businesses/{other}/whatsapp",
            new { phone_number_id = "106540352249999", waba_id = "102290129340398", access_token = "EAAGotherBusinessToken0123456789" });
        await held.ReachedMetaAsync();
        try
        {
            var send = await live.SendTemplateAsync()
                .WaitAsync(TimeSpan.FromSeconds(15)); // bounded below the held call's 20 s: behind the connect it would wait for that

            Assert.Equal(HttpStatusCode.OK, send.StatusCode);
            Assert.False(connect.IsCompleted); // the send did not wait for the connect's call to Meta
        }
        finally
        {
            held.Release();
        }

        (await connect).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task OfTwoConnectsOfOneBusinessAtOnceTheOneSentLastIsKept()
    {
        // The first connect's check at Meta is slow; the second, with the token meant to stay, was answered first and
        // written first, then the first overwrote it with the older token.
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        var (first, held) = await live.ConnectHeldAtMetaAsync("EAAGfirstTokenSentFirst0123456789");

        var second = live.ConnectAsync("EAAGsecondTokenSentLast0123456789");
        // Out of turn, the second is checked and written now; in turn, it waits for the first (here, the 2 s).
        await Task.WhenAny(second, Task.Delay(TimeSpan.FromSeconds(2)));
        held.Release();
        (await first).EnsureSuccessStatusCode();
        (await second).EnsureSuccessStatusCode();
        live.Meta.Calls.Clear();

        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();
        Assert.Equal("Bearer EAAGsecondTokenSentLast0123456789", Assert.Single(live.Meta.Calls).Authorization);
    }

    [Fact]
    public async Task ADisconnectSentWhileAConnectWaitsForMetaIsNotUndoneByIt()
    {
        // The disconnect was written at once and the connect, answered by Meta after it, wrote its connection over it:
        // the business the operator had disconnected went on sending.
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        var (connect, held) = await live.ConnectHeldAtMetaAsync("EAAGconnectSentFirst0123456789");

        var disconnect = live.Admin.DeleteAsync($"/admin/v1/businesses/{live.BusinessId}/whatsapp");
        // Out of turn, the disconnect is written now; in turn, it waits for the connect (here, the 2 s).
        await Task.WhenAny(disconnect, Task.Delay(TimeSpan.FromSeconds(2)));
        held.Release();
        (await connect).EnsureSuccessStatusCode();
        (await disconnect).EnsureSuccessStatusCode();

        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        var business = await live.Admin.GetFromJsonAsync<JsonElement>($"/admin/v1/businesses/{live.BusinessId}");
        Assert.False(business.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task AConnectWaitingForMetaTakesNoOtherBusinesssTurn()
    {
        // Connects take turns per business: another business's connect is checked and written while this one's is at Meta.
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        var other = await live.Server.CreateBusinessAsync();

        await live.AnsweredWhileAConnectIsHeldAsync("EAAGfirstBusinessToken0123456789", () => live.Admin.PutAsJsonAsync($"/admin/v1/businesses/{other}/whatsapp",
                new { phone_number_id = "106540352249999", waba_id = "102290129340398", access_token = "EAAGotherBusinessToken0123456789" }),
            FakeMetaUpstream.NumberList([("106540352249999", "+1 631-555-0199")]));
    }

    [Fact]
    public async Task AServersTurnsAreItsOwn()
    {
        // The turns were static: a second server in the process (each test's own) waited on the first's business of the same id.
        await using var first = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        await using var second = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        Assert.Equal(first.BusinessId, second.BusinessId); // both fresh databases

        await first.AnsweredWhileAConnectIsHeldAsync("EAAGfirstServersToken0123456789", () => second.ConnectAsync("EAAGsecondServersToken0123456789"));
    }

    /// <summary>
    /// Meta pauses a template while a send of it is at Meta, and refuses that send: the send gives its unit of the cap
    /// back, and the next send of the template is refused before Meta, naming the pause.
    /// </summary>
    [Fact]
    public async Task ATemplatePausedWhileItsSendIsAtMetaGivesItsUnitBackAndTheNextSendIsRefusedBeforeMeta()
    {
        await using var live = await LiveMeta.StartAsync(attemptTimeoutSeconds: 20);
        var held = new HeldAnswer(FakeMetaUpstream.Error(400, 132015, "Template is paused"));
        live.Meta.Reply(held.Reply);
        var underWay = live.SendTemplateAsync();
        await held.ReachedMetaAsync();

        (await live.Server.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry("102290129340398",
            MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", 111))))).EnsureSuccessStatusCode();
        await live.Server.ApplyWebhooksAsync();
        held.Release();
        await (await underWay).AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");

        var refused = await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Contains("PAUSED", refused.GetProperty("hint").GetString(), StringComparison.Ordinal);
        Assert.Single(live.Meta.Calls);
        var health = await live.Client.GetAsync("/api/v1/health");
        Assert.StartsWith("\"day\";r=5000;", Assert.Single(health.Headers.GetValues("RateLimit")).Split(", ")[1], StringComparison.Ordinal);
    }

    /// <summary>
    /// A 200 whose body is not the answer asked for (no message id, no template list) fails the send (502) or the sync as
    /// unavailable: twabot.meta.calls says the same, so an alert on outcome <c>unavailable</c> sees it (it said <c>ok</c>).
    /// </summary>
    [Fact]
    public async Task AnAnswerOf200ThatCannotBeReadIsCountedAsUnavailableNotAsOk()
    {
        await using var live = await LiveMeta.StartAsync();
        using var calls = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            live.Server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Api.Metrics.TwaBotMetrics.MeterName, "twabot.meta.calls");
        live.Meta.Reply(FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp"}"""), FakeMetaUpstream.Json(200, "{}"));

        await (await live.SendTemplateAsync()).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.False((await live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null)).IsSuccessStatusCode);

        Assert.Equal(["send_message unavailable", "list_templates unavailable"],
            calls.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.meta.operation"]} {m.Tags["twabot.meta.outcome"]}"));
    }

    /// <summary>
    /// Meta's throughput refusals are retried (MetaResilience): the call is counted once, by how it ended, and its
    /// attempts leave no refusal in the log (operations.md: retries included once).
    /// </summary>
    [Fact]
    public async Task ACallRetriedAfterThrottlingIsCountedOnceByHowItEnded()
    {
        await using var live = await LiveMeta.StartAsync();
        using var calls = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long>(
            live.Server.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), Api.Metrics.TwaBotMetrics.MeterName, "twabot.meta.calls");
        var throttled = FakeMetaUpstream.Error(400, 130429, "Rate limit hit");
        live.Meta.Reply(throttled, throttled, FakeMetaUpstream.Accepted());

        (await live.SendTemplateAsync()).EnsureSuccessStatusCode();

        Assert.Equal(3, live.Meta.Calls.Count);
        var call = Assert.Single(calls.GetMeasurementSnapshot());
        Assert.Equal("send_message ok 1", $"{call.Tags["twabot.meta.operation"]} {call.Tags["twabot.meta.outcome"]} {call.Value}");
        Assert.DoesNotContain("Meta refused a call", live.Server.Logs.AllText(), StringComparison.Ordinal);
    }

    private sealed class LiveMeta : IAsyncDisposable
    {
        public const string Templates = """
            {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} is confirmed."}]}],
             "paging":{"cursors":{"before":"MAZDZD","after":"MjQZD"}}}
            """;

        private readonly Dictionary<string, string?> _settings;
        private string _key = "";

        private LiveMeta(FakeMetaUpstream meta, Dictionary<string, string?> settings)
        {
            Meta = meta;
            _settings = settings;
            Server = LiveMode.Against(meta, settings);
            Admin = Server.CreateAdminClient();
        }

        public FakeMetaUpstream Meta { get; }

        public TwaBotApiFactory Server { get; private set; }

        public HttpClient Admin { get; private set; }

        public HttpClient Client { get; private set; } = null!;

        public long BusinessId { get; private set; }

        /// <summary>A live server on a fresh database, its business connected and its templates synced; <paramref name="settings"/> go over the live ones (say the breaker's).</summary>
        public static async Task<LiveMeta> StartAsync(
            string graphVersion = "v23.0", double attemptTimeoutSeconds = 8, IReadOnlyDictionary<string, string?>? settings = null)
        {
            var meta = await FakeMetaUpstream.StartAsync();
            var all = new Dictionary<string, string?>
            {
                ["TwaBot:Meta:GraphVersion"] = graphVersion,
                ["TwaBot:Meta:Resilience:AttemptTimeoutSeconds"] = attemptTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
            {
                all[name] = value;
            }

            var live = new LiveMeta(meta, all);
            var server = live.Server;
            live.BusinessId = await server.CreateBusinessAsync();
            (await live.ConnectAsync(Token)).EnsureSuccessStatusCode();
            meta.Reply(FakeMetaUpstream.Json(200, Templates));
            (await live.Admin.PostAsync($"/admin/v1/businesses/{live.BusinessId}/templates/sync", null)).EnsureSuccessStatusCode();
            live._key = (await server.CreateApiKeyAsync(live.BusinessId)).Key;
            live.Client = server.CreateApiClient(live._key);
            meta.Calls.Clear();
            meta.NumberListCalls.Clear();
            return live;
        }

        /// <summary>Stops the server and starts another on its database, as a restart does (its clock starts over).</summary>
        public async Task RestartAsync()
        {
            Client.Dispose();
            Admin.Dispose();
            Server.DeleteDatabaseOnDispose = false;
            var database = Server.DatabasePath;
            await Server.DisposeAsync();
            Server = LiveMode.Against(Meta, _settings, database);
            Admin = Server.CreateAdminClient();
            Client = Server.CreateApiClient(_key);
        }

        public async Task<bool> HealthSaysConnectedAsync() =>
            (await (await Client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("whatsapp_connected").GetBoolean();

        public async Task<JsonElement> AdminWhatsAppAsync() =>
            (await (await Admin.GetAsync($"/admin/v1/businesses/{BusinessId}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");

        public Task<HttpResponseMessage> SendTemplateAsync() => Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "+919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "#1" } });

        /// <summary>The admin connects the business's number with <paramref name="token"/> (checked with Meta first).</summary>
        public Task<HttpResponseMessage> ConnectAsync(string token) => Admin.PutAsJsonAsync($"/admin/v1/businesses/{BusinessId}/whatsapp",
            new { phone_number_id = PhoneNumberId, waba_id = "102290129340398", access_token = token });

        /// <summary>
        /// A connect with <paramref name="token"/> whose check Meta holds until <see cref="HeldAnswer.Release"/> (then lists the
        /// number), returned once the check is at Meta; <paramref name="laterReplies"/> answer the number lists after it.
        /// </summary>
        public async Task<(Task<HttpResponseMessage> Connect, HeldAnswer AtMeta)> ConnectHeldAtMetaAsync(string token, params Func<HttpContext, Task>[] laterReplies)
        {
            var held = new HeldAnswer(FakeMetaUpstream.NumberList([(PhoneNumberId, "+1 555-0100")]));
            Meta.ReplyToNumberList([held.Reply, .. laterReplies]);
            var connect = ConnectAsync(token);
            await held.ReachedMetaAsync();
            return (connect, held);
        }

        /// <summary>
        /// Checks that <paramref name="meanwhile"/> is answered, with success, while a connect with <paramref name="token"/> is held
        /// at Meta, within 15 s: below the held call's attempt timeout (start the server with 20 s), so a call waiting on the connect
        /// fails the check rather than outlasting it. Then Meta answers the connect.
        /// </summary>
        public async Task AnsweredWhileAConnectIsHeldAsync(string token, Func<Task<HttpResponseMessage>> meanwhile, params Func<HttpContext, Task>[] laterReplies)
        {
            var (connect, held) = await ConnectHeldAtMetaAsync(token, laterReplies);
            try
            {
                (await meanwhile().WaitAsync(TimeSpan.FromSeconds(15))).EnsureSuccessStatusCode();
                Assert.False(connect.IsCompleted);
            }
            finally
            {
                held.Release();
            }

            (await connect).EnsureSuccessStatusCode();
        }

        /// <summary>The customer writes to the business (Meta's signed inbound webhook), opening its 24-hour window.</summary>
        public async Task CustomerWritesAsync(string from, string text = "Hi")
        {
            // Each message its own wamid: a second one from the same customer is not Meta's redelivery of the first.
            (await Server.PostWebhookAsync(Delivery(MetaPayloads.Text($"wamid.inbound{from}.{text}", from, text, Server.Clock.GetUtcNow())))).EnsureSuccessStatusCode();
            await Server.ApplyWebhooksAsync();
        }

        /// <summary>A status report, as Meta delivers it (signed), applied.</summary>
        public async Task MetaReportsAsync(JsonObject status)
        {
            (await Server.PostWebhookAsync(Delivery(status))).EnsureSuccessStatusCode();
            await Server.ApplyWebhooksAsync();
        }

        private static JsonObject Delivery(JsonObject item) => MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
            statuses: item.ContainsKey("status") ? new JsonArray(item) : null, messages: item.ContainsKey("status") ? null : new JsonArray(item))));

        public async Task<TwaBot.Api.Messages.Message> LastMessageAsync()
        {
            TwaBot.Api.Messages.Message? message = null;
            await Server.WithDbAsync(async db => message = await db.Messages.AsNoTracking().OrderByDescending(m => m.Id).FirstAsync());
            return message!;
        }

        public async Task<string> TemplateStatusAsync(string name)
        {
            var status = "";
            await Server.WithDbAsync(async db => status = (await db.Templates.AsNoTracking().SingleAsync(t => t.BusinessId == BusinessId && t.Name == name)).Status);
            return status;
        }

        public async ValueTask DisposeAsync()
        {
            Client?.Dispose();
            Admin.Dispose();
            await Server.DisposeAsync();
            await Meta.DisposeAsync();
        }
    }
}
