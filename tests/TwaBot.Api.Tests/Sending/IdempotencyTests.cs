using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// An optional Idempotency-Key on sends: a retry of a send Meta accepted, or may have, gets the first answer
/// again and sends nothing; a key never hides a refusal, never stands for two different requests, and is
/// scoped to the API key.
/// </summary>
public class IdempotencyTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly object Order = new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } };

    [Fact]
    public async Task ASendRetriedWithItsKeyGetsTheSameAnswerAndSendsNothing()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();

        var first = await SendAsync(tenant.Client, Order, key);
        var retry = await SendAsync(tenant.Client, Order, key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/json; charset=utf-8", retry.Content.Headers.ContentType?.ToString());
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task AReplayCountsNothingAgainstTheDailyCap()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 });
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);

        var retry = await SendAsync(tenant.Client, Order, key);
        var another = await SendAsync(tenant.Client, Order, Guid.NewGuid().ToString());

        await retry.ReadJsonAsync(HttpStatusCode.OK);
        await another.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
    }

    [Fact]
    public async Task AKeyUsedForAnotherRequestIsRefusedWith422AndSendsNothing()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);

        var other = await SendAsync(tenant.Client,
            new { phone = "9876543211", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } }, key);

        var json = await other.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        Assert.Contains(key, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task AKeyUsedWithTheSameBodyOnAnotherSendRouteIsAnotherRequest()
    {
        // The route is part of the request: the same JSON posted to send-text must not replay the template send's answer.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);

        var other = await SendTextAsync(tenant.Client, Order, key);

        await AssertRefusedAsAnotherRequestAsync(other, tenant);
    }

    [Theory]
    // The same values, one field over: lang and params given, or params given as the message.
    [InlineData("template=order_confirmation&lang=en&params=Rahul,ORD-1,x", "template=order_confirmation&lang=en&message=Rahul,ORD-1,x")]
    // Values that hold the separators: a value's end must not read as the next value's start.
    [InlineData("template=order_confirmation&params=Rahul,ORD%3B1,x", "template=order_confirmation&params=Rahul,ORD&message=1,x%3B-")]
    // Button values are part of the request too, though keys from before they were read are hashed without them.
    [InlineData("template=order_confirmation&params=Rahul,ORD-1,x", "template=order_confirmation&params=Rahul,ORD-1,x&button_params=ORD-1")]
    public async Task QuickSendsWhoseValuesSitInOtherParametersAreDifferentRequests(string first, string retry)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await QuickSendAsync(tenant.Client, first, key)).ReadJsonAsync(HttpStatusCode.OK);

        var other = await QuickSendAsync(tenant.Client, retry, key);

        await AssertRefusedAsAnotherRequestAsync(other, tenant);
    }

    [Theory]
    // Each field a send reads, changed alone (or added, for an optional one): the retry is another request. The first
    // request is one that goes out; the changed one is answered 422 before it is checked, so it need not be valid.
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""", """{"phone":"919876543211","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""", """{"phone":"919876543210","template_name":"otp_verification","body_params":["Rahul","ORD-1","x"]}""")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""", """{"phone":"919876543210","template_name":"order_confirmation","language":"hi","body_params":["Rahul","ORD-1","x"]}""")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-2","x"]}""")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"],"header_params":["Sale"]}""")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"]}""", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","x"],"button_params":["ORD-1"]}""")]
    [InlineData("send-text", """{"phone":"919876543210","message":"Your order has shipped"}""", """{"phone":"919876543211","message":"Your order has shipped"}""")]
    [InlineData("send-text", """{"phone":"919876543210","message":"Your order has shipped"}""", """{"phone":"919876543210","message":"Your order is late"}""")]
    [InlineData("send-media", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png"}""", """{"phone":"919876543211","media_type":"image","media_url":"https://cdn.example/a.png"}""")]
    [InlineData("send-media", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png"}""", """{"phone":"919876543210","media_type":"document","media_url":"https://cdn.example/a.png"}""")]
    [InlineData("send-media", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png"}""", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/b.png"}""")]
    [InlineData("send-media", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png"}""", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png","caption":"Your invoice"}""")]
    [InlineData("send-media", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png"}""", """{"phone":"919876543210","media_type":"image","media_url":"https://cdn.example/a.png","filename":"a.png"}""")]
    [InlineData("send-otp", """{"phone":"919876543210","template_name":"otp_verification","otp":"4829"}""", """{"phone":"919876543211","template_name":"otp_verification","otp":"4829"}""")]
    [InlineData("send-otp", """{"phone":"919876543210","template_name":"otp_verification","otp":"4829"}""", """{"phone":"919876543210","template_name":"order_confirmation","otp":"4829"}""")]
    [InlineData("send-otp", """{"phone":"919876543210","template_name":"otp_verification","otp":"4829"}""", """{"phone":"919876543210","template_name":"otp_verification","otp":"4830"}""")]
    [InlineData("send-otp", """{"phone":"919876543210","template_name":"otp_verification","otp":"4829"}""", """{"phone":"919876543210","template_name":"otp_verification","otp":"4829","language":"hi"}""")]
    public async Task ARequestDifferingInOneFieldIsAnotherRequest(string route, string first, string retry)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210"); // send-text and send-media need the open window
        var key = Guid.NewGuid().ToString();
        await (await PostJsonWithKeyAsync(tenant.Client, "/api/v1/" + route, first, key)).ReadJsonAsync(HttpStatusCode.OK);

        var other = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/" + route, retry, key);

        await AssertRefusedAsAnotherRequestAsync(other, tenant);
    }

    [Theory]
    // quick-send's values, each changed alone (or added): phone, template, lang, params, message (button_params: above).
    [InlineData("phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x", "phone=919876543211&template=order_confirmation&params=Rahul,ORD-1,x")]
    [InlineData("phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x", "phone=919876543210&template=otp_verification&params=Rahul,ORD-1,x")]
    [InlineData("phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x", "phone=919876543210&template=order_confirmation&lang=hi&params=Rahul,ORD-1,x")]
    [InlineData("phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x", "phone=919876543210&template=order_confirmation&params=Rahul,ORD-2,x")]
    [InlineData("phone=919876543210&message=Your+order+has+shipped", "phone=919876543210&message=Your+order+is+late")]
    public async Task AQuickSendDifferingInOneValueIsAnotherRequest(string first, string retry)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");
        var key = Guid.NewGuid().ToString();
        await (await tenant.Client.GetAsync($"/api/v1/quick-send?{first}&idempotency_key={key}")).ReadJsonAsync(HttpStatusCode.OK);

        var other = await tenant.Client.GetAsync($"/api/v1/quick-send?{retry}&idempotency_key={key}");

        await AssertRefusedAsAnotherRequestAsync(other, tenant);
    }

    /// <summary>A retry with the first request's key but another request: refused, nothing replayed, nothing sent again.</summary>
    private async Task AssertRefusedAsAnotherRequestAsync(HttpResponseMessage other, SendingTenant tenant)
    {
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        await other.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    private static async Task<HttpResponseMessage> QuickSendAsync(HttpClient client, string query, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/quick-send?phone=919876543210&" + query);
        Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task ARetrySerializedAnotherWayIsTheSameRequest()
    {
        // A CRM's retry often comes from another worker or library version: its fields in another order, other spacing,
        // a character escaped. It is the same request, and must not be refused as another one (a 422 the caller would
        // have to tell apart from a real misuse of the key).
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        const string First = """{"phone":"9876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","₹1,499"]}""";
        const string Retry = "{\n  \"body_params\" : [ \"Rahul\", \"ORD-1\", \"\\u20b91,499\" ],\n  \"template_name\" : \"order_confirmation\",\n  \"phone\" : \"9876543210\"\n}";

        var first = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", First, key);
        var retry = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", Retry, key);
        var reordered = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", First.Replace("\"Rahul\",\"ORD-1\"", "\"ORD-1\",\"Rahul\"", StringComparison.Ordinal), key);

        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        await reordered.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED"); // an array's order is its meaning
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task ARetryThatWritesItsUnsetFieldsAsNullIsTheSameRequest()
    {
        // One generated client leaves out the fields it was not given, another writes them as null (NSwag with
        // System.Text.Json): a send reads both as absent, so a retry from the other is no other request. A null that holds a
        // place in an array is a value.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        const string First = """{"phone":"9876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","₹1,499"]}""";
        const string Retry = """{"phone":"9876543210","template_name":"order_confirmation","language":null,"body_params":["Rahul","ORD-1","₹1,499"],"header_params":null,"button_params":null}""";

        var first = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", First, key);
        var retry = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", Retry, key);
        var nullInTheArray = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", First.Replace("\"ORD-1\",", "\"ORD-1\",null,", StringComparison.Ordinal), key);

        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        await nullInTheArray.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Theory] // a retry across an upgrade (within the key's day) sends the same body and must get the first answer, not a 422
    [InlineData("""{ "phone": "9876543210", "template_name": "order_confirmation", "body_params": ["Rahul", "ORD-1", "₹1,499"] }""", null)]
    [InlineData("""{"phone":"9876543210", "template_name":"order_confirmation", "language":null, "body_params":["Rahul","ORD-1","₹1,499"]}""",
        """{"body_params":["Rahul","ORD-1","₹1,499"],"language":null,"phone":"9876543210","template_name":"order_confirmation"}""")]
    public async Task AKeyKeptByAnEarlierVersionStillMatchesItsRetry(string body, string? keptCanonicalForm)
    {
        // Versions before canonical JSON kept the hash of the body's bytes, and versions before 2026-12-06 of its canonical
        // form with its null members: spelled out here, not computed, since what they kept no longer changes.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        var first = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", body, key);
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        var keptForm = keptCanonicalForm is null ? bytes : System.Text.Encoding.UTF8.GetBytes(keptCanonicalForm);
        var protector = factory.Services.GetRequiredService<TwaBot.Api.Sending.Idempotency.IdempotencyProtector>();
        var kept = protector.Protect(System.Security.Cryptography.SHA256.HashData([.. "send-template\n"u8, .. keptForm]));
        await factory.WithDbAsync(async db =>
        {
            (await db.IdempotentAnswers.SingleAsync(a => a.Key == key)).ProtectedRequestSha256 = kept;
            await db.SaveChangesAsync();
        });

        var retry = await PostJsonWithKeyAsync(tenant.Client, "/api/v1/send-template", body, key);

        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task KeysBelongToTheirApiKey()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (otherKey, otherKeyId) = await factory.CreateApiKeyAsync(tenant.BusinessId);
        using var otherClient = factory.CreateApiClient(otherKey);
        var key = Guid.NewGuid().ToString();

        var mine = await SendAsync(tenant.Client, Order, key);
        var theirs = await SendAsync(otherClient, Order, key);

        await mine.ReadJsonAsync(HttpStatusCode.OK);
        await theirs.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(theirs.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(factory, otherKeyId));
    }

    [Fact]
    public async Task ARetriedOtpGetsTheCodeFirstGeneratedAndAnotherApiKeyWithTheSameKeyGetsItsOwn()
    {
        // A code generated twice would reach the customer as two texts, the second unlike the first; and one API key's
        // retry must never read the code another key's send generated.
        var tenant = await factory.CreateSendingTenantAsync();
        var (otherKey, otherKeyId) = await factory.CreateApiKeyAsync(tenant.BusinessId);
        using var otherClient = factory.CreateApiClient(otherKey);
        var otp = new { phone = "919876543210", template_name = "otp_verification" };
        var key = Guid.NewGuid().ToString();

        var first = await (await PostWithKeyAsync(tenant.Client, "/api/v1/send-otp", otp, key)).ReadJsonAsync(HttpStatusCode.OK);
        var retry = await (await PostWithKeyAsync(tenant.Client, "/api/v1/send-otp", otp, key)).ReadJsonAsync(HttpStatusCode.OK);
        var theirs = await (await PostWithKeyAsync(otherClient, "/api/v1/send-otp", otp, key)).ReadJsonAsync(HttpStatusCode.OK);

        string? Code(System.Text.Json.JsonElement answer) => answer.GetProperty("otp").GetString();
        Assert.Equal((Code(first), first.GetProperty("message_id").GetString()), (Code(retry), retry.GetProperty("message_id").GetString()));
        Assert.NotEqual(first.GetProperty("message_id").GetString(), theirs.GetProperty("message_id").GetString());
        Assert.Equal((1, 1), (await MessagesOfAsync(factory, tenant.KeyId), await MessagesOfAsync(factory, otherKeyId)));
    }

    [Fact]
    public async Task ASendRefusedBeforeMetaKeepsNothingSoTheCorrectedRequestGoesOut()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();

        var refused = await SendAsync(tenant.Client, new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Rahul" } }, key);
        var corrected = await SendAsync(tenant.Client, Order, key);

        await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        await corrected.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(corrected.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task ASendMetaRefusedKeepsNothingSoARetryAsksMetaAgain()
    {
        // 0047: Meta refuses (re-engagement), so nothing went out and a retry may try again.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        var text = new { phone = "9876540047", message = "Your order has shipped" };
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876540047");

        await (await SendTextAsync(tenant.Client, text, key)).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        var retry = await SendTextAsync(tenant.Client, text, key);

        await retry.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task ASendMetaMayHaveAcceptedIsAnsweredAgainWithoutAskingMetaTwice()
    {
        // 0500: Meta answers 500, so the message may have gone out: the retry a client makes after such an answer
        // is exactly what must not reach the customer twice.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        var body = new { phone = "9876540500", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } };

        var first = await SendAsync(tenant.Client, body, key);
        var retry = await SendAsync(tenant.Client, body, key);

        Assert.True((int)first.StatusCode >= 500);
        Assert.Equal(first.StatusCode, retry.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task QuickSendTakesTheKeyFromItsUrlWhereverItAndTheKeyAre()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var anonymous = factory.CreateClient();
        var key = Guid.NewGuid().ToString("N");

        var first = await anonymous.GetAsync(
            $"/api/v1/quick-send?apikey={tenant.Key}&phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x&idempotency_key={key}");
        var again = await tenant.Client.GetAsync(
            $"/api/v1/quick-send?idempotency_key={key}&params=Rahul%2CORD-1%2Cx&template=order_confirmation&phone=919876543210");
        var other = await tenant.Client.GetAsync(
            $"/api/v1/quick-send?idempotency_key={key}&params=Rahul,ORD-2,x&template=order_confirmation&phone=919876543210");

        Assert.Equal((await first.ReadJsonAsync(HttpStatusCode.OK)).GetRawText(), (await again.ReadJsonAsync(HttpStatusCode.OK)).GetRawText());
        Assert.Equal(["true"], again.Headers.GetValues("Idempotent-Replayed"));
        await other.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task NoKeyStaysUnderWayOnceItsRequestIsAnswered()
    {
        // Keys under way are held in memory (docs/operations.md, Memory): a caller drawing a new key for every request,
        // whatever the answer, must leave none behind, or keys alone would grow the server's memory without end.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK); // its answer kept
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK); // replayed
        await (await SendAsync(tenant.Client, new { phone = "9876543211", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "x" } }, key))
            .AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        await server.CustomerWritesAsync(tenant.BusinessId, "919876540047");
        await (await SendTextAsync(tenant.Client, new { phone = "9876540047", message = "Shipped" }, Guid.NewGuid().ToString()))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED"); // Meta refused it
        for (var i = 0; i < 20; i++)
        {
            await (await SendAsync(tenant.Client, new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Rahul" } }, Guid.NewGuid().ToString()))
                .AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID"); // refused before Meta
        }

        Assert.Equal(0, server.Services.GetRequiredService<TwaBot.Api.Sending.Idempotency.IdempotencyKeys>().UnderWayCount);
    }

    [Theory]
    [InlineData("idempotent_answers")] // the key's own lookup
    [InlineData("suppressions")]       // a check after the key is claimed
    public async Task AKeyWhoseRequestFailedIsFreeForTheRetry(string table)
    {
        // A read failing (here its table gone for a moment) is a 500 that sent nothing; the key must not stay claimed,
        // or every retry with it would be 409 IDEMPOTENCY_KEY_IN_USE until a restart.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        string away = $"ALTER TABLE {table} RENAME TO {table}_away", back = $"ALTER TABLE {table}_away RENAME TO {table}";
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(away));
        var failed = await SendAsync(tenant.Client, Order, key);
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(back));

        var retry = await SendAsync(tenant.Client, Order, key);

        await failed.AssertErrorAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");
        await retry.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, await MessagesOfAsync(server, tenant.KeyId));
    }

    [Fact]
    public async Task AKeptAnswerLastsADay()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);

        server.Clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromSeconds(1));
        var withinTheDay = await SendAsync(tenant.Client, Order, key);
        server.Clock.Advance(TimeSpan.FromSeconds(2));
        var after = await SendAsync(tenant.Client, Order, key);

        Assert.Equal(["true"], withinTheDay.Headers.GetValues("Idempotent-Replayed"));
        await after.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(after.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessagesOfAsync(server, tenant.KeyId));
    }

    [Fact]
    public async Task AKeptAnswerEndsTwentyFourHoursToTheTickAfterItWasKept()
    {
        // Kept for 24 hours (README), and not a tick more: keeping the next answer drops one this old, so it is not replayed either.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);

        server.Clock.Advance(TwaBot.Api.Sending.Idempotency.IdempotencyKeys.KeptFor);
        var retry = await SendAsync(tenant.Client, Order, key);

        await retry.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessagesOfAsync(server, tenant.KeyId));
    }

    [Fact]
    public async Task AnAnswerTwentyFourHoursOldIsNotReplayedEvenBeforeTheSweepDropsIt()
    {
        // The hourly sweep usually drops such an answer first; the lookup's own bound must hold without it.
        // Aged in the database, not by the clock, so that no sweep runs.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        var dayAgo = server.Clock.GetUtcNow().UtcDateTime - TwaBot.Api.Sending.Idempotency.IdempotencyKeys.KeptFor;
        await server.WithDbAsync(async db =>
        {
            await db.IdempotentAnswers.ExecuteUpdateAsync(s => s.SetProperty(a => a.CreatedAt, dayAgo));
            await db.Messages.ExecuteUpdateAsync(s => s.SetProperty(m => m.CreatedAt, dayAgo));
        });

        var retry = await SendAsync(tenant.Client, Order, key);

        await retry.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessagesOfAsync(server, tenant.KeyId));
    }

    [Fact]
    public async Task AnAnswerPastItsDayMakesRoomForTheNextAndIsDropped()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var (key, idle) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        await (await SendAsync(tenant.Client, Order, idle)).ReadJsonAsync(HttpStatusCode.OK);

        server.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        var retry = await SendAsync(tenant.Client, Order, key);

        // The key's new answer replaced its expired one (not "interrupted", 502), and keeping it dropped
        // every answer past its day, so the table does not grow with every key ever used.
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        await server.WithDbAsync(async db => Assert.Equal([key], await db.IdempotentAnswers.Select(a => a.Key).ToListAsync()));
    }

    [Fact]
    public async Task KeepingAnAnswerLeavesTheAnswersOfOtherKeys()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (otherKey, _) = await factory.CreateApiKeyAsync(tenant.BusinessId);
        using var otherClient = factory.CreateApiClient(otherKey);
        var (key, next) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());

        // The same key under another API key, then another key under the same API key: each keeps its own answer.
        await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        await (await SendAsync(otherClient, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        await (await SendAsync(tenant.Client, Order, next)).ReadJsonAsync(HttpStatusCode.OK);

        foreach (var (client, retried) in new[] { (tenant.Client, key), (otherClient, key), (tenant.Client, next) })
        {
            Assert.Equal(["true"], (await SendAsync(client, Order, retried)).Headers.GetValues("Idempotent-Replayed"));
        }
    }

    [Fact]
    public async Task AKeptAnswerOutlivesARestart()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        var key = Guid.NewGuid().ToString();
        var (tenant, firstAnswer) = await SendBeforeARestartAsync(databasePath, key);

        await using var after = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath);
        using var client = after.CreateApiClient(tenant.Key);
        var retry = await SendAsync(client, Order, key);

        Assert.Equal(firstAnswer, await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, await MessagesOfAsync(after, tenant.KeyId));
    }

    [Fact]
    public async Task AnAnswerKeptInPlainTextByAnEarlierVersionIsStillReplayedAfterTheUpgrade()
    {
        // Versions before ProtectedIdempotency kept the answer and the request's hash in plain text; the migration only
        // renamed the columns, so the first retries after an upgrade meet those values.
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        var key = Guid.NewGuid().ToString();
        var (tenant, firstAnswer) = await SendBeforeARestartAsync(databasePath, key, before =>
        {
            var protector = before.Services.GetRequiredService<TwaBot.Api.Sending.Idempotency.IdempotencyProtector>();
            return before.WithDbAsync(async db =>
            {
                var kept = await db.IdempotentAnswers.SingleAsync(a => a.Key == key);
                kept.ProtectedBody = protector.UnprotectAnswer(kept.ProtectedBody)!;
                kept.ProtectedRequestSha256 = protector.UnprotectRequestHash(kept.ProtectedRequestSha256)!;
                var message = await db.Messages.SingleAsync(m => m.IdempotencyKey == key);
                message.ProtectedIdempotencyRequestSha256 = protector.UnprotectRequestHash(message.ProtectedIdempotencyRequestSha256!)!;
                await db.SaveChangesAsync();
            });
        });

        await using var after = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath);
        using var client = after.CreateApiClient(tenant.Key);
        var retry = await SendAsync(client, Order, key);
        var other = await SendAsync(client, new { phone = "9876543211", template_name = "order_confirmation", body_params = new[] { "Asha", "ORD-2", "₹99" } }, key);

        Assert.Equal(firstAnswer, await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        await other.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(1, await MessagesOfAsync(after, tenant.KeyId));
    }

    [Fact]
    public async Task ASendWhoseAnswerCouldNotBeKeptIsNotSentAgainByARetry()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        // Keeping the answer fails (a full disk, say) after Meta took the message.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER no_room BEFORE INSERT ON idempotent_answers BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"));

        var first = await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        var retry = await SendAsync(tenant.Client, Order, key);
        var other = await SendAsync(tenant.Client, new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Asha", "ORD-2", "₹1" } }, key);

        var unknown = await retry.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.Equal(first.GetProperty("message_id").GetString(), unknown.GetProperty("message_id").GetString());
        Assert.Contains($"Idempotency-Key {key} was interrupted", unknown.GetProperty("error").GetString(), StringComparison.Ordinal);
        await other.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(1, await MessagesOfAsync(server, tenant.KeyId));
        // The operator is told what a retry gets, not that it may send again.
        Assert.Contains(server.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)
            == $"The answer to a send with Idempotency-Key \"{key}\" could not be kept; a retry with that key sends nothing and is answered 502 with the message's id");
    }

    [Fact]
    public async Task ASendInterruptedBeforeMetaAnsweredIsNotSentAgainAfterARestart()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        var key = Guid.NewGuid().ToString();
        SendingTenant tenant;
        // No status webhooks: one arriving would (rightly) give the row Meta's id back.
        var noReports = new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusWebhooks"] = "false" };
        await using (var before = new TwaBotApiFactory(noReports, databasePath: databasePath) { DeleteDatabaseOnDispose = false })
        {
            tenant = await before.CreateSendingTenantAsync();
            await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
            // What a stop between calling Meta and hearing its answer leaves on disk: the row, pending, and no kept answer.
            await before.WithDbAsync(async db =>
            {
                await db.IdempotentAnswers.ExecuteDeleteAsync();
                await db.Messages.ExecuteUpdateAsync(set => set.SetProperty(m => m.ApiStatus, "pending").SetProperty(m => m.Wamid, (string?)null));
            });
        }

        await using var after = new TwaBotApiFactory(noReports, databasePath: databasePath);
        using var client = after.CreateApiClient(tenant.Key);
        var retry = await SendAsync(client, Order, key);

        var messageId = (await retry.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("message_id").GetString();
        Assert.StartsWith("twb:", messageId, StringComparison.Ordinal);
        Assert.Equal(1, await MessagesOfAsync(after, tenant.KeyId));
        var status = await (await client.GetAsync($"/api/v1/message-status/{messageId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("pending", status.GetProperty("api_status").GetString());
    }

    [Fact]
    public async Task ARowFromBeforeRequestsWereHashedTakesAnyRetryWithItsKeyForItsOwn()
    {
        // Such a row cannot tell a retry from another request: refusing one as "another request" could be untrue, and
        // it must never send a second message.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        var first = await (await SendAsync(tenant.Client, Order, key)).ReadJsonAsync(HttpStatusCode.OK);
        await factory.WithDbAsync(async db =>
        {
            await db.IdempotentAnswers.Where(a => a.ApiKeyId == tenant.KeyId).ExecuteDeleteAsync();
            await db.Messages.Where(m => m.ApiKeyId == tenant.KeyId)
                .ExecuteUpdateAsync(set => set.SetProperty(m => m.ProtectedIdempotencyRequestSha256, (byte[]?)null));
        });

        var other = await SendAsync(tenant.Client, new { phone = "9876543210", template_name = "order_confirmation", body_params = new[] { "Asha", "ORD-2", "₹1" } }, key);

        var unknown = await other.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.Equal(first.GetProperty("message_id").GetString(), unknown.GetProperty("message_id").GetString());
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task ARequestWhileTheFirstWithItsKeyIsUnderWayGets409()
    {
        // Meta holds the first request until the second is answered, so the first is still under way when it comes.
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();

        var first = SendAsync(tenant.Client, Order, key);
        await server.UnderWayAsync();
        var meanwhile = await SendAsync(tenant.Client, Order, key);
        server.Release.SetResult();
        var answered = await first;
        var afterwards = await SendAsync(tenant.Client, Order, key);

        await meanwhile.AssertErrorAsync(HttpStatusCode.Conflict, "IDEMPOTENCY_KEY_IN_USE");
        Assert.Equal("1", meanwhile.Headers.RetryAfter?.ToString());
        await answered.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["true"], afterwards.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(server, tenant.KeyId));
    }

    [Fact]
    public async Task ADifferentRequestWhileTheFirstWithItsKeyIsUnderWayGets422()
    {
        // Not 409 ("wait and retry"): waiting would not help, this key stands for another request.
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();

        var first = SendAsync(tenant.Client, Order, key);
        await server.UnderWayAsync();
        var other = await SendAsync(tenant.Client,
            new { phone = "9876543211", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } }, key);
        server.Release.SetResult();

        await other.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
        await (await first).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, await MessagesOfAsync(server, tenant.KeyId));
    }

    [Fact]
    public async Task ABlankKeyIsNoKey()
    {
        // As a blank X-API-Key: a Postman variable left empty sends the header with nothing in it.
        var tenant = await factory.CreateSendingTenantAsync();

        var first = await SendAsync(tenant.Client, Order, " ");
        var second = await SendAsync(tenant.Client, Order, " ");

        await first.ReadJsonAsync(HttpStatusCode.OK);
        await second.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(2, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task ABlankKeyInAQuickSendUrlIsNoKey()
    {
        // A form builder's field left empty fills the URL with a space: as a blank header, no key.
        var tenant = await factory.CreateSendingTenantAsync();
        const string Url = "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x&idempotency_key=%20";

        var first = await tenant.Client.GetAsync(Url);
        var second = await tenant.Client.GetAsync(Url);

        await first.ReadJsonAsync(HttpStatusCode.OK);
        await second.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(second.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task AQuickSendGivenAKeyInBothItsHeaderAndItsUrlIsKeyedByTheHeader()
    {
        // README: the header counts when both are given, so a retry whose URL carries another key is still the same send.
        var tenant = await factory.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();

        var first = await QuickSendWithKeyAsync(tenant.Client, key, urlKey: Guid.NewGuid().ToString("N"));
        var retry = await QuickSendWithKeyAsync(tenant.Client, key, urlKey: Guid.NewGuid().ToString("N"));

        Assert.Equal((await first.ReadJsonAsync(HttpStatusCode.OK)).GetRawText(), (await retry.ReadJsonAsync(HttpStatusCode.OK)).GetRawText());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Theory] // the two ends of printable ASCII: "order 42" and "order~42" are keys like any other, not refused ones
    [InlineData("order ")]
    [InlineData("order~")]
    public async Task AKeyWithASpaceOrATildeInItIsAKey(string prefix)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var key = prefix + Guid.NewGuid().ToString("N");

        var first = await SendAsync(tenant.Client, Order, key);
        var retry = await SendAsync(tenant.Client, Order, key);

        await first.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        Assert.Equal(1, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Theory]
    [InlineData("\"\"")]
    [InlineData("clé-1")] // not ASCII
    [InlineData("a\tb")]
    public async Task AKeyThatCannotBeUsedIsRefusedByName(string key)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await SendAsync(tenant.Client, Order, key);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("Idempotency-Key", json.GetProperty("field").GetString());
        Assert.Equal(0, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task AQuickSendUrlsKeyWithAControlCharacterIsRefusedByName()
    {
        // A header cannot carry DEL (0x7F), but a URL can: it is no printable ASCII character either.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync(
            "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x&idempotency_key=order%7F1");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("idempotency_key", json.GetProperty("field").GetString());
        Assert.Equal(0, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Theory]
    [InlineData("Idempotency-Key")]
    [InlineData("idempotencyKey")]
    public async Task AQuickSendUrlGivingItsKeyUnderAnotherNameIsRefusedNotSentWithoutOne(string name)
    {
        // Ignored, the key would make the retry the caller believes safe a second message to the customer.
        var tenant = await factory.CreateSendingTenantAsync();
        var url = $"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x&{name}=order-1";

        var first = await tenant.Client.GetAsync(url);
        var retry = await tenant.Client.GetAsync(url);

        foreach (var response in new[] { first, retry })
        {
            var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
            Assert.Equal("idempotency_key", json.GetProperty("field").GetString());
        }

        Assert.Equal(0, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task AKeyThatCannotBeUsedIsABadFieldSoTheDailyCapAnswersBeforeIt()
    {
        // PRODUCT §1: daily cap, then validation. A key with nothing to replay is a field of the request like the body's.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 });
        await (await SendAsync(tenant.Client, Order, Guid.NewGuid().ToString())).ReadJsonAsync(HttpStatusCode.OK);

        var badKey = await SendAsync(tenant.Client, Order, "clé-1");
        var badBody = await SendAsync(tenant.Client, new { template_name = "order_confirmation" }, Guid.NewGuid().ToString());

        await badKey.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
        await badBody.AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
    }

    [Fact]
    public async Task AKeyThatCannotBeUsedIsRefusedBeforeTheBodysFaults()
    {
        // A header of the request, read before its body: the caller fixes the key first, whatever else is wrong.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await SendAsync(tenant.Client, new { template_name = "order_confirmation" }, "clé-1");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("Idempotency-Key", json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task AKeyOf256CharactersIsRefusedAndOf255Kept()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var tooLong = await SendAsync(tenant.Client, Order, new string('k', 256));
        var longest = await SendAsync(tenant.Client, Order, new string('k', 255));
        var quoted = await SendAsync(tenant.Client, Order, "\"" + new string('k', 255) + "\""); // the same key, as a structured-field string

        await tooLong.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await longest.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["true"], quoted.Headers.GetValues("Idempotent-Replayed"));
    }

    [Fact]
    public async Task AKeyQuotedOnOneSideOnlyKeepsItsQuote()
    {
        // Only a key in quotes at both ends is a structured-field string: "abc is that key, not ab.
        var tenant = await factory.CreateSendingTenantAsync();
        await (await SendAsync(tenant.Client, Order, "\"abc")).ReadJsonAsync(HttpStatusCode.OK);

        var other = await SendAsync(tenant.Client, Order, "ab");

        await other.ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, await MessagesOfAsync(factory, tenant.KeyId));
    }

    [Fact]
    public async Task TwoKeysInOneRequestAreRefused()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(Order) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", ["a", "b"]);

        var response = await tenant.Client.SendAsync(request);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("Idempotency-Key", json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task APlanThatCannotSendIsToldSoBeforeItsKeyIsLookedAt()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Starter");

        var response = await SendAsync(tenant.Client, Order, "\"\"");

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
    }

    /// <summary>
    /// A send with <paramref name="key"/> on a server over <paramref name="databasePath"/> that then stops (after
    /// <paramref name="beforeStopping"/>), leaving the file for the next one.
    /// </summary>
    private static async Task<(SendingTenant Tenant, byte[] Answer)> SendBeforeARestartAsync(
        string databasePath, string key, Func<TwaBotApiFactory, Task>? beforeStopping = null)
    {
        await using var before = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath) { DeleteDatabaseOnDispose = false };
        var tenant = await before.CreateSendingTenantAsync();
        var answer = await (await SendAsync(tenant.Client, Order, key)).Content.ReadAsByteArrayAsync();
        if (beforeStopping is not null)
        {
            await beforeStopping(before);
        }

        return (tenant, answer);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, object body, string key) =>
        await PostWithKeyAsync(client, "/api/v1/send-template", body, key);

    private static async Task<HttpResponseMessage> SendTextAsync(HttpClient client, object body, string key) =>
        await PostWithKeyAsync(client, "/api/v1/send-text", body, key);

    private static async Task<HttpResponseMessage> QuickSendWithKeyAsync(HttpClient client, string key, string urlKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x&idempotency_key={urlKey}");
        Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string path, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> PostJsonWithKeyAsync(HttpClient client, string path, string json, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        return await client.SendAsync(request);
    }

    private static async Task<int> MessagesOfAsync(TwaBotApiFactory server, long keyId)
    {
        var count = 0;
        await server.WithDbAsync(async db => count = await db.Messages.CountAsync(m => m.ApiKeyId == keyId));
        return count;
    }

    [Fact]
    public async Task AQuickSendWithoutButtonValuesHashesAsBeforeButtonValuesWereRead()
    {
        // Keys stored by an older version were hashed over the five values alone; a retry after the upgrade must match.
        var query = Api.Sending.QuickSendQuery.Parse("?phone=9876543210&template=order_confirmation&params=Rahul,ORD-1&idempotency_key=k1");
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();

        var hash = await Api.Sending.Idempotency.IdempotencyRequest.ForQuickSend(context.Request, query)!.HashAsync();

        var before = System.Text.Encoding.UTF8.GetBytes("quick-send\n" + "10:9876543210;18:order_confirmation;-;11:Rahul,ORD-1;-;");
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(before), hash);
    }
}
