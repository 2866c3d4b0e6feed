using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary><c>POST /sandbox/v1/inbound</c>: a customer's message, delivered as Meta's signed webhook.</summary>
public class SandboxInboundTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    public static TheoryData<string, string, string> BadRequests => new()
    {
        { """{"business_id":1,"from":"12","text":"Hi"}""", "INVALID_PHONE", "from" },
        { """{"business_id":1,"text":"Hi"}""", "VALIDATION_FAILED", "from" }, // missing: required, not an invalid ''
        { """{"business_id":1,"from":" ","text":"Hi"}""", "VALIDATION_FAILED", "from" },
        { """{"business_id":1,"from":"919876543210"}""", "VALIDATION_FAILED", "text" },
        { """{"business_id":1,"from":"919876543210","text":""}""", "VALIDATION_FAILED", "text" }, // a customer cannot send nothing
        { """{"business_id":1,"from":"919876543210","text":"Hi","timestamp":99999999999999}""", "VALIDATION_FAILED", "timestamp" },
        { """{"business_id":1,"from":"919876543210","text":"Hi","timestamp":-1}""", "VALIDATION_FAILED", "timestamp" },
        { """{"business_id":987654,"from":"919876543210","text":"Hi"}""", "VALIDATION_FAILED", "business_id" },
        { """{"business_id":1,"from":"919876543210","text":"Hi","user_id":"919876543210"}""", "VALIDATION_FAILED", "user_id" },
        { """{"business_id":1,"from":"919876543210","text":"Hi","user_id":"US.""" + new string('1', 62) + "\"}", "VALIDATION_FAILED", "user_id" }, // 65 characters
        { """{"business_id":1,"from":"919876543210","text":"Hi","user_id":"US.1349 1208"}""", "VALIDATION_FAILED", "user_id" }, // a space after the dot
        { """{"business_id":1,"from":"919876543210","text":""" + "\"" + new string('x', 4097) + "\"}", "VALIDATION_FAILED", "text" }, // one over Meta's limit
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ABadRequestNamesTheField(string body, string errorCode, string field)
    {
        using var admin = factory.CreateAdminClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await admin.PostAsync("/sandbox/v1/inbound", content);

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, errorCode)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task AMalformedBodyIsToldWhereInCharacters()
    {
        // Read by the framework, whose reader counts bytes: "नमस्ते" is 18 of them and 6 characters.
        using var admin = factory.CreateAdminClient();
        using var content = new StringContent("""{"business_id":1,"from":"919876543210","text":"नमस्ते",}""", System.Text.Encoding.UTF8, "application/json");

        var response = await admin.PostAsync("/sandbox/v1/inbound", content);

        Assert.Equal("Request body is not valid JSON at line 1, position 56: remove the comma after the last value, which JSON does not allow.",
            (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("error").GetString());
    }

    public static TheoryData<string> RequestsAtTheLimits => new()
    {
        """{"business_id":1,"from":"919876543210","text":""" + "\"" + new string('x', 4096) + "\"}", // Meta's limit itself
        """{"business_id":1,"from":"919876543210","text":""" + "\"" + string.Concat(Enumerable.Repeat("😀", 4096)) + "\"}", // in characters, not UTF-16 units
        """{"business_id":1,"from":"919876543210","text":"Hi","user_id":"US.""" + new string('1', 61) + "\"}", // 64 characters
        """{"business_id":1,"from":"919876543210","text":"Hi","timestamp":0}""", // the first second of Unix time
    };

    [Theory]
    [MemberData(nameof(RequestsAtTheLimits))]
    public async Task ARequestAtALimitIsDelivered(string body)
    {
        using var admin = factory.CreateAdminClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await admin.PostAsync("/sandbox/v1/inbound", content);

        Assert.True((await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
    }

    [Fact]
    public async Task ACustomerMessageArrivesWithItsNonAsciiEscapedAsMetaWritesIt()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var answer = await (await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = "919876543210", text = "नमस्ते ₹1,499 😀" })).ReadJsonAsync(HttpStatusCode.OK);

        var wamid = answer.GetProperty("wamid").GetString()!;
        await factory.ApplyWebhooksAsync();
        var body = "";
        await factory.WithDbAsync(async db => body = (await db.WebhookEvents.AsNoTracking().Select(e => e.Body).ToListAsync())
            .Select(System.Text.Encoding.UTF8.GetString).Single(b => b.Contains(wamid, StringComparison.Ordinal)));
        // Meta's webhook bodies are ASCII: every other character is a \uXXXX escape (a surrogate pair for an emoji).
        Assert.True(body.All(char.IsAscii), body);
        Assert.Contains("\\u0928\\u092E\\u0938\\u094D\\u0924\\u0947 \\u20B91,499 \\uD83D\\uDE00", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMessageArrivingWhileTheServerStopsIsNotDeliveredAndSaysSo()
    {
        // The emulator's post to the receiver was cancelled by the stop, and the exception made the inbound
        // call a 500 "please retry"; now it answers delivered: false.
        _ = factory.Server;
        var sender = ActivatorUtilities.CreateInstance<TwaBot.Api.Sandbox.SandboxWebhookSender>(factory.Services, new StoppingLifetime());

        var (wamid, delivered) = await sender.DeliverInboundAsync("1", "2", "+91 98765 43210", "919876543210", null, "Hi", factory.Clock.GetUtcNow(), new(null, false));

        Assert.StartsWith("wamid.", wamid, StringComparison.Ordinal);
        Assert.False(delivered);
    }

    [Fact]
    public async Task AMessageWhosePostTheStopCutsShortIsNotDeliveredAndSaysSo()
    {
        // The stop comes while the receiver has the POST: the cancelled POST is not an acknowledgement.
        _ = factory.Server;
        using var lifetime = new LifetimeStoppedOnRequest();
        using var clients = new StopOnPost(lifetime);
        var sender = ActivatorUtilities.CreateInstance<TwaBot.Api.Sandbox.SandboxWebhookSender>(factory.Services, lifetime, clients);

        var (_, delivered) = await sender.DeliverInboundAsync("1", "2", "+91 98765 43210", "919876543210", null, "Hi", factory.Clock.GetUtcNow(), new(null, false));

        Assert.True(lifetime.ApplicationStopping.IsCancellationRequested); // the POST was made, then cut short
        Assert.False(delivered);
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.Accepted)] // Meta counts a 200 only
    [InlineData(HttpStatusCode.NoContent)]
    [InlineData(null)] // the emulator's own client gave up waiting (its timeout, not the server stopping)
    public async Task AMessageTheReceiverDidNotAnswer200IsPostedAgainAndDelivered(HttpStatusCode? firstAnswer)
    {
        _ = factory.Server;
        using var clients = new FirstPostFails(firstAnswer);
        var sender = ActivatorUtilities.CreateInstance<TwaBot.Api.Sandbox.SandboxWebhookSender>(factory.Services, clients);

        var (_, delivered) = await sender.DeliverInboundAsync("1", "2", "+91 98765 43210", "919876543210", null, "Hi", factory.Clock.GetUtcNow(), new(null, false));

        Assert.Equal(2, clients.Posts);
        Assert.True(delivered);
    }

    /// <summary>
    /// A receiver that answers the first POST with something other than 200 (a disk full for a moment), or whose first POST
    /// times out as HttpClient's own timeout ends it (no answer given); the later ones are answered 200.
    /// </summary>
    private sealed class FirstPostFails(HttpStatusCode? firstAnswer) : IHttpClientFactory, IDisposable
    {
        private readonly Handler _handler = new(firstAnswer);

        public int Posts => _handler.Posts;

        public HttpClient CreateClient(string name) => new(_handler, disposeHandler: false);

        public void Dispose() => _handler.Dispose();

        private sealed class Handler(HttpStatusCode? firstAnswer) : HttpMessageHandler
        {
            private int _posts;

            public int Posts => _posts;

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
                Interlocked.Increment(ref _posts) > 1 ? Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK))
                : firstAnswer is { } answer ? Task.FromResult(new HttpResponseMessage(answer))
                : throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.", new TimeoutException());
        }
    }

    private sealed class LifetimeStoppedOnRequest : Microsoft.Extensions.Hosting.IHostApplicationLifetime, IDisposable
    {
        private readonly CancellationTokenSource _stopping = new();

        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping => _stopping.Token;

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication() => _stopping.Cancel();

        public void Dispose() => _stopping.Dispose();
    }

    /// <summary>A client whose receiver holds each POST until the server stops, and stops it on the first.</summary>
    private sealed class StopOnPost(LifetimeStoppedOnRequest lifetime) : IHttpClientFactory, IDisposable
    {
        private readonly Handler _handler = new(lifetime);

        public HttpClient CreateClient(string name) => new(_handler, disposeHandler: false);

        public void Dispose() => _handler.Dispose();

        private sealed class Handler(LifetimeStoppedOnRequest lifetime) : HttpMessageHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                lifetime.StopApplication();
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                return new HttpResponseMessage(HttpStatusCode.OK);
            }
        }
    }

    private sealed class StoppingLifetime : Microsoft.Extensions.Hosting.IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => CancellationToken.None;

        public CancellationToken ApplicationStopping { get; } = new(canceled: true);

        public CancellationToken ApplicationStopped => CancellationToken.None;

        public void StopApplication()
        {
        }
    }

    [Fact]
    public async Task AMessageFromTheFutureIsRefusedAndOneFromNowIsAccepted()
    {
        using var admin = factory.CreateAdminClient();
        var now = factory.Clock.GetUtcNow();

        var future = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876543210", text = "Hi", timestamp = now.AddDays(1).ToUnixTimeSeconds() });
        var present = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876543210", text = "Hi", timestamp = now.ToUnixTimeSeconds() });
        // A minute of clock skew is allowed, and no more.
        var aMinuteAhead = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876543210", text = "Hi", timestamp = now.AddSeconds(60).ToUnixTimeSeconds() });
        var pastTheSkew = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876543210", text = "Hi", timestamp = now.AddSeconds(61).ToUnixTimeSeconds() });

        Assert.Equal("timestamp", (await future.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        Assert.True((await present.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
        Assert.True((await aMinuteAhead.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
        var refused = await pastTheSkew.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("timestamp", refused.GetProperty("field").GetString());
        // The error tells the server's own now, the largest timestamp a client with an unskewed clock should give.
        Assert.Contains($"from 0 to now ({now.ToUnixTimeSeconds()})", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABusinessIdAndAPhoneNumberIdOfTwoBusinessesAreRefusedNotDeliveredToEither()
    {
        // The phone_number_id used to win silently: the message landed in the other business's conversations.
        var first = await factory.CreateSendingTenantAsync();
        var second = await factory.CreateSendingTenantAsync();
        var secondNumber = "";
        await factory.WithDbAsync(async db => secondNumber = await db.WhatsAppConnections
            .Where(w => w.BusinessId == second.BusinessId).Select(w => w.PhoneNumberId).SingleAsync());
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = first.BusinessId, phone_number_id = secondNumber, from = "919876500123", text = "Hi" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("business_id", json.GetProperty("field").GetString());
        // The operator is told which business the number is of, to send one or the other.
        Assert.Contains($"phone_number_id {secondNumber} belongs to business {second.BusinessId}, not {first.BusinessId}",
            json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.ApplyWebhooksAsync();
        await factory.WithDbAsync(async db => Assert.False(await db.Contacts.AnyAsync(c => c.Phone == "919876500123")));
    }

    [Fact]
    public async Task ANumberConnectedToMetaIsNotOneACustomerCanWriteToThroughTheSandbox()
    {
        // Development keeps a Meta connection made while the sandbox is on; its conversations are Meta's to fill.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var phoneNumberId = "1065403599" + businessId;
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = phoneNumberId, waba_id = "102290129340398", access_token = "EAAGliveToken123" })).EnsureSuccessStatusCode();

        var response = await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { phone_number_id = phoneNumberId, from = "919876500789", text = "Hi" });

        Assert.Equal("phone_number_id", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        await factory.ApplyWebhooksAsync();
        await factory.WithDbAsync(async db => Assert.False(await db.Contacts.AnyAsync(c => c.Phone == "919876500789")));
    }

    [Fact]
    public async Task AWithheldNumberIsNotInItsMessagesWamid()
    {
        // A wamid names its chat (meta-cloud-api.md §7): for a customer whose number Meta withholds, that is their user id.
        using var admin = factory.CreateAdminClient();
        const string userId = "IN.7310045566002299";

        var inbound = await (await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876500999", text = "Hi", user_id = userId, phone_withheld = true })).ReadJsonAsync(HttpStatusCode.OK);

        var wamid = inbound.GetProperty("wamid").GetString()!;
        var decoded = System.Text.Encoding.ASCII.GetString(Convert.FromBase64String(wamid["wamid.".Length..]));
        Assert.DoesNotContain("919876500999", decoded, StringComparison.Ordinal);
        Assert.Contains(userId, decoded, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStopFromACustomerWhoseNumberIsWithheldRefusesSendsToTheNumberTheirUserIdWasSeenWith()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        const string phone = "919876500456";
        const string userId = "IN.7310045566002291";
        (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = phone, text = "Hi", user_id = userId }))
            .EnsureSuccessStatusCode();

        var stop = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = phone, text = "STOP", user_id = userId, phone_withheld = true });
        await stop.ReadJsonAsync(HttpStatusCode.OK);
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone, message = "Your order shipped" });

        await send.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task AWithheldNumbersMessageStillNamesTheCustomerByTheirProfile()
    {
        // With no wa_id, the contact's user_id is all that ties the profile name to the customer, as in Meta's webhooks.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        const string phone = "919876500458";
        const string userId = "IN.7310045566002293";
        (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = phone, text = "Hi", user_id = userId }))
            .EnsureSuccessStatusCode();

        var withheld = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = phone, text = "Hi again", name = "Asha Verma", user_id = userId, phone_withheld = true });

        Assert.True((await withheld.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
        await factory.ApplyWebhooksAsync();
        await factory.WithDbAsync(async db =>
            Assert.Equal("Asha Verma", (await db.Contacts.SingleAsync(c => c.BusinessId == tenant.BusinessId && c.Phone == phone)).Name));
    }

    [Fact]
    public async Task AStopFromAWithheldNumberWhoseUserIdNoWebhookShowedWithItLeavesTheNumberAlone()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        const string phone = "919876500457";

        var stop = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = phone, text = "STOP", user_id = "IN.7310045566002292", phone_withheld = true });
        await stop.ReadJsonAsync(HttpStatusCode.OK);
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } });

        await send.ReadJsonAsync(HttpStatusCode.OK); // the webhook named the customer by their user id alone
        await factory.WithDbAsync(async db => Assert.True(await db.HeldUserEvents.AnyAsync(
            h => h.BusinessId == tenant.BusinessId && h.UserId == "IN.7310045566002292" && h.OptedOut == true))); // kept for that user id
    }

    [Fact]
    public async Task ADeliveredMessageIsAppliedBeforeTheAnswer()
    {
        // With the background processor stopped, only the endpoint's own pass can have opened the window when it answers
        // (otherwise the processor, woken by the inbox, usually wins the race and hides a missing pass).
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await server.Services.GetRequiredService<TwaBot.Api.Webhooks.WebhookProcessor>().StopAsync(CancellationToken.None);
        using var admin = server.CreateAdminClient();

        var answer = await (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "919876543210", text = "Hi" }))
            .ReadJsonAsync(HttpStatusCode.OK);
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Thanks for writing" });

        Assert.True(answer.GetProperty("delivered").GetBoolean());
        await send.ReadJsonAsync(HttpStatusCode.OK); // the window is open
    }

    [Theory]
    [InlineData(25, HttpStatusCode.BadRequest)]
    [InlineData(23, HttpStatusCode.OK)]
    public async Task ABackdatedMessageOpensTheWindowFromWhenItWasWritten(int hoursAgo, HttpStatusCode expected)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var phone = $"9198765{hoursAgo:D5}";
        (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new
        {
            business_id = tenant.BusinessId, from = phone, text = "Hi", timestamp = factory.Clock.GetUtcNow().AddHours(-hoursAgo).ToUnixTimeSeconds(),
        })).EnsureSuccessStatusCode();

        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone, message = "Thanks for writing" });

        Assert.Equal(expected, send.StatusCode);
    }

    [Theory]
    [InlineData("5511987654321", null, "551187654321")] // the emulator's own BSUID: the one its status webhooks name for the wa_id
    [InlineData("919876543210", null, "919876543210")]
    [InlineData("919876543210", "US.13491208655302741918", null)] // the one asked for
    public async Task TheCustomerIsNamedByTheUserIdAskedForOrElseTheEmulatorsOwnForTheirWaId(string from, string? asked, string? waId)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = "";
        await factory.WithDbAsync(async db => wabaId = await db.WhatsAppConnections.Where(w => w.BusinessId == tenant.BusinessId).Select(w => w.WabaId).SingleAsync());
        using var admin = factory.CreateAdminClient();

        var inbound = await (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from, text = "Hi", user_id = asked }))
            .ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(asked ?? Api.Sandbox.SandboxUserIds.For(wabaId, waId!), inbound.GetProperty("user_id").GetString());
    }

    [Fact]
    public async Task TheCustomersProfileNameIsTheOneAskedFor()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        (await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "919876500321", text = "Hi", name = "Priya Nair" }))
            .EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await factory.WithDbAsync(async db => Assert.Equal("Priya Nair",
            await db.Contacts.Where(c => c.BusinessId == tenant.BusinessId && c.Phone == "919876500321").Select(c => c.Name).SingleAsync()));
    }

    [Fact]
    public async Task ABrazilianMobileWritesFromItsWaIdAsAtMeta()
    {
        // Meta names many Brazilian mobiles by a wa_id without the ninth digit; the emulator's send answers say so,
        // and now its customer messages come from that wa_id too.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var inbound = await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "5511987654321", text = "Oi" });
        await inbound.ReadJsonAsync(HttpStatusCode.OK);
        await factory.ApplyWebhooksAsync();

        await factory.WithDbAsync(async db => Assert.Equal(["551187654321"],
            await db.Contacts.Where(c => c.BusinessId == tenant.BusinessId).Select(c => c.Phone).ToListAsync()));
    }
}
