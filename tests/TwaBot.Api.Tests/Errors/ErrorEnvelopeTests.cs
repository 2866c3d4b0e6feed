using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

public class ErrorEnvelopeTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Theory] // any other status the framework leaves bodiless: a 500 is the server's fault, never the caller's
    [InlineData(500, "INTERNAL_ERROR")]
    [InlineData(503, "INTERNAL_ERROR")]
    [InlineData(499, "VALIDATION_FAILED")]
    [InlineData(400, "VALIDATION_FAILED")]
    public void AnotherBodilessStatusGetsTheCodeOfWhoseFaultItIs(int status, string errorCode)
    {
        var error = Api.Errors.ApiErrors.ForStatus(status);

        Assert.Equal((status, errorCode), (error.StatusCode, error.Body.ErrorCode));
    }

    [Fact]
    public async Task UnknownApiRouteReturns404Envelope()
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.GetAsync("/api/v1/send-fax");

        var json = await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Equal("No endpoint matches GET /api/v1/send-fax.", json.GetProperty("error").GetString());
    }

    [Theory] // routing already ignores case and a trailing slash; separators, prefixes and typos it cannot guess
    [InlineData("POST", "/api/v1/send_template", "/api/v1/send-template")]
    [InlineData("POST", "/api/v1/sendTemplate", "/api/v1/send-template")]
    [InlineData("GET", "/API/V1/QUICK_SEND", "/api/v1/quick-send")]
    [InlineData("GET", "/api/health", "/api/v1/health")] // another prefix or version
    [InlineData("POST", "/api/v2/send-template", "/api/v1/send-template")]
    [InlineData("POST", "/v1/send-media", "/api/v1/send-media")]
    [InlineData("POST", "/api/v1/send-templte", "/api/v1/send-template")] // a letter mistyped
    [InlineData("GET", "/api/v1/message_status/twb:a12", "/api/v1/message-status/twb:a12")]
    [InlineData("GET", "/api/v1/message-status", "/api/v1/message-status/{messageId}")] // the docs' "GET /message-status"
    [InlineData("GET", "/api/v1/message-status/", "/api/v1/message-status/{messageId}")]
    [InlineData("GET", "/admin/v1/business", "/admin/v1/businesses")]
    [InlineData("GET", "/health", "/api/v1/health")] // not the undocumented /healthz
    [InlineData("GET", "/api/v1/templates/all", null)]
    public async Task ANearMissPathIsToldTheRouteItMeant(string method, string path, string? meant)
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var json = await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Equal(meant is null ? $"No endpoint matches {method} {path}." : $"No endpoint matches {method} {path}: did you mean {meant}?",
            json.GetProperty("error").GetString());
    }

    [Theory] // a GET-only tool puts the id in the query, as quick-send takes its values: the 404 writes the path to use
    [InlineData("message_id=wamid.HBgMOTE5ODc2NTQzMjEw", "/api/v1/message-status/wamid.HBgMOTE5ODc2NTQzMjEw")]
    [InlineData("messageId=twb:a12&apikey=twb_test_secret", "/api/v1/message-status/twb:a12")] // any style; no other value
    [InlineData("id=wamid.HBgM", "/api/v1/message-status/{messageId}")] // another name is not guessed to be the id
    [InlineData("message_id=wamid.a&message_id=wamid.b", "/api/v1/message-status/{messageId}")] // nor one of two
    public async Task AMessageIdInTheQueryIsToldItsPlaceInThePath(string query, string meant)
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.GetAsync($"/api/v1/message-status?{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.Equal($"No endpoint matches GET /api/v1/message-status: did you mean {meant}?", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task UnknownRouteWithoutAKeyIsStill404Envelope()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/no/such/page?apikey=twb_test_secret");

        var json = await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        Assert.DoesNotContain("secret", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DELETE", "/api/v1/health", "Method DELETE is not allowed on /api/v1/health: use GET, HEAD.")]
    [InlineData("GET", "/api/v1/send-template", "Method GET is not allowed on /api/v1/send-template: use POST.")] // a browser or a GET-only tool
    [InlineData("POST", "/api/v1/quick-send", "Method POST is not allowed on /api/v1/quick-send: use GET.")]
    public async Task WrongMethodReturns405EnvelopeNamingTheMethodToUse(string method, string path, string error)
    {
        // Was "Method GET is not allowed on /api/v1/send-template." alone: the Allow header told the method, the body did not.
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var json = await response.AssertErrorAsync(HttpStatusCode.MethodNotAllowed, "METHOD_NOT_ALLOWED");
        Assert.Equal(error, json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("{\"name\":", "Request body is not valid JSON at line 1, position 9: the body ends before the JSON does (a } or ] is missing, or the body was cut short).")]
    [InlineData("{name: 'x'}", "Request body is not valid JSON at line 1, position 2: each field name takes double quotes (\"phone\": …).")]
    [InlineData("{\"name\":\"Acme\",}", "Request body is not valid JSON at line 1, position 16: remove the comma after the last value, which JSON does not allow.")] // "[1,2" is answered as a body that is not an object, as on the sends
    [InlineData("{\"name\":\"राहुल स्टोर\",}", "Request body is not valid JSON at line 1, position 23: remove the comma after the last value, which JSON does not allow.")] // characters, as an editor counts them: was 43, the bytes
    [InlineData("{\n  \"name\": \"राहुल\"\n  \"plan\": \"growth\"}", "Request body is not valid JSON at line 3, position 3: a comma is missing before it, between two values.")]
    [InlineData("{\"name\":\"Acme\"}{\"name\":\"Beta\"}", "Request body is not valid JSON at line 1, position 16: the JSON ends before the body does; send one object, with nothing after its closing }.")] // was told a } was missing
    public async Task MalformedJsonReturns400Envelope(string body, string error)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(error, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task WrongJsonTypeNamesTheField()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent("""{"name":"Acme","plan":7}""", Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("plan", json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task AFieldGivenTwiceIsToldSoNotCalledTheWrongType()
    {
        // Which of the two was meant is the caller's to say: the answer names the field, not its type.
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses",
            new StringContent("""{"name":"Acme","plan":"Pro","name":"Beta"}""", Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("name", json.GetProperty("field").GetString());
        Assert.Equal("name is given more than once; give it once.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AQuotedBooleanIsToldToBeTrueOrFalseWithoutQuotes()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new StringContent("""{"sandbox":"true"}""", Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("sandbox must be true or false, without quotes.", json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("\"Acme\"")]
    [InlineData("7")]
    [InlineData("true")]
    public async Task ABodyThatIsValidJsonButNotAnObjectIsToldSoNotCalledInvalidJson(string body)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("The request body must be a JSON object ({…}), not an array, a string or a number.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ABodyNestedDeeperThanIsReadIsToldSoNotCalledInvalidJson()
    {
        // Valid JSON, only deeper than the reader goes: "not valid JSON at …" would send the caller hunting for a syntax error.
        var tenant = await factory.CreateSendingTenantAsync();
        var body = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("Request body nests objects and arrays more than 64 levels deep, which is not read.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task MissingBodyReturns400Envelope()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent("", Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("A JSON request body is required.", json.GetProperty("error").GetString());
    }

    [Theory] // as the sends answer it: the whitespace a template engine leaves is no body, not JSON invalid past its end
    [InlineData("/admin/v1/businesses", "   ")]
    [InlineData("/admin/v1/businesses", " \r\n\t")]
    [InlineData("/sandbox/v1/inbound", "\n")]
    public async Task ABodyOfOnlyWhitespaceIsMissingOnTheAdminAndSandboxRoutesToo(string path, string body)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("A JSON request body is required.", json.GetProperty("error").GetString());
    }

    [Theory] // JSON's whitespace is the space, tab, CR and LF only (as the sends trim it): any other character is a body, told what is wrong with it
    [InlineData("/admin/v1/businesses")]
    [InlineData("/sandbox/v1/inbound")]
    public async Task ABodyOfAFormFeedIsInvalidJsonNotMissing(string path)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync(path, new StringContent("\f", Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.StartsWith("Request body is not valid JSON", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyBodySentInChunksIsMissingAsOneOfLengthZeroIs()
    {
        // A client that streams its body (no Content-Length) and has nothing to send; only a real socket sends it so.
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0);
        server.StartServer();
        using var admin = server.CreateAdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/businesses") { Content = new ByteArrayContent([]) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;

        var json = await (await admin.SendAsync(request)).AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("A JSON request body is required.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ACallerWhoseConnectionIsResetWhileItsSendBodyIsReadIsNoServerError()
    {
        // A caller killed (or its proxy giving up) half-way through sending its body: Kestrel fails the pending read with the
        // reset, before it cancels RequestAborted (as a real process showed), and nobody is left to answer. It was logged as
        // an unhandled exception and a 500 request line.
        await using var server = new ResetWhileReadingServer();
        var tenant = await server.CreateSendingTenantAsync();
        server.ResetBodies = true;

        // The in-memory server still hands over the status it set. (The framework's own JSON reader, the admin API's,
        // answers such a read 400 itself, logged at Debug.)
        using var answer = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(499, (int)answer.StatusCode);
        static bool IsRequestLine(Serilog.Events.LogEvent e) => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["StatusCode"].ToString() is not ("200" or "201");
        await Poll.UntilAsync(() => server.Logs.Events.Any(IsRequestLine), "the request's log line");
        Assert.Equal("499", Assert.Single(server.Logs.Events, IsRequestLine).Properties["StatusCode"].ToString());
        Assert.DoesNotContain(server.Logs.Events, e => e.Level >= Serilog.Events.LogEventLevel.Error);
    }

    [Fact]
    public async Task NonJsonContentTypeReturns415Envelope()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent("name=Acme&plan=Pro", Encoding.UTF8, "application/x-www-form-urlencoded"));

        await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
    }

    [Fact]
    public async Task OversizedBodyReturns413EnvelopeAndStoresNothing()
    {
        using var admin = factory.CreateAdminClient();
        var name = new string('x', 70 * 1024);

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name, plan = "Pro" });

        var json = await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE");
        Assert.Equal("Request body is too large. The limit is 65536 bytes.", json.GetProperty("error").GetString());
        await factory.WithDbAsync(async db =>
            Assert.DoesNotContain(await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync(db.Businesses),
                b => b.Name.Length > 1000));
    }

    [Theory]
    [InlineData(64 * 1024, HttpStatusCode.BadRequest, "VALIDATION_FAILED")] // read (and refused for its over-long name)
    [InlineData(64 * 1024 + 1, HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE")]
    public async Task ABodyOfExactlyTheLimitIsReadAndOneByteMoreIsNot(int length, HttpStatusCode status, string code)
    {
        using var admin = factory.CreateAdminClient();
        const string Shell = "{\"name\":\"\",\"plan\":\"Pro\"}";
        var body = Shell.Insert(9, new string('x', length - Shell.Length));
        Assert.Equal(length, Encoding.UTF8.GetByteCount(body));

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent(body, Encoding.UTF8, "application/json"));

        await response.AssertErrorAsync(status, code);
    }

    [Fact]
    public async Task UnhandledExceptionReturns500WithoutDetails()
    {
        await using var broken = new BrokenClockFactory();
        using var client = broken.CreateApiClient(TwaBot.Api.ApiKeys.ApiKeyFormat.Generate("twb_test_"));
        broken.Clock.IsBroken = true; // after start-up, which reads the clock too

        var response = await client.GetAsync("/api/v1/health");
        var text = await response.Content.ReadAsStringAsync();

        var json = await response.AssertErrorAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");
        Assert.Equal("An unexpected error occurred. It has been logged; please retry, and contact support if it persists.",
            json.GetProperty("error").GetString());
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.DoesNotContain("clock is broken", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", text, StringComparison.Ordinal);
        Assert.Contains(broken.Logs.Events, e => e.Exception?.Message == "clock is broken");
        bool IsRequestLine(Serilog.Events.LogEvent e) => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["StatusCode"].ToString() == "500";
        await Poll.UntilAsync(() => broken.Logs.Events.Any(IsRequestLine), "the request's log line"); // written after the answer
        Assert.Equal(Serilog.Events.LogEventLevel.Error, Assert.Single(broken.Logs.Events, IsRequestLine).Level); // though the handler caught it
    }

    [Fact]
    public async Task ACancellationTheClientDidNotCauseIsA500InTheEnvelope()
    {
        // 499 (no answer) is for a client that went away; an internal wait given up while the client waits is our failure.
        await using var broken = new BrokenClockFactory();
        using var client = broken.CreateApiClient(TwaBot.Api.ApiKeys.ApiKeyFormat.Generate("twb_test_"));
        broken.Clock.Failure = new OperationCanceledException("an internal wait was given up");
        broken.Clock.IsBroken = true;

        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.InternalServerError, "INTERNAL_ERROR");
        // Logged, as the answer says: only the host's own start-up cancellations are left out of the log.
        Assert.Contains(broken.Logs.Events, e => e.Exception?.Message == "an internal wait was given up");
    }

    /// <summary>A server whose clock throws, so any request that reads the time fails unexpectedly.</summary>
    private sealed class BrokenClockFactory : TwaBotApiFactory
    {
        public new BrokenClock Clock { get; } = new();

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions
                .AddSingleton<TimeProvider>(services, Clock));
        }
    }

    private sealed class BrokenClock : TimeProvider
    {
        public bool IsBroken { get; set; }

        public Exception Failure { get; set; } = new InvalidOperationException("clock is broken");

        public override DateTimeOffset GetUtcNow() => IsBroken ? throw Failure : System.GetUtcNow();
    }

    /// <summary>A server whose request bodies, once <see cref="ResetBodies"/> is set, fail as a caller's reset fails them in Kestrel.</summary>
    private sealed class ResetWhileReadingServer : TwaBotApiFactory
    {
        public volatile bool ResetBodies;

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter>(new ResetBodiesFilter(this)));
        }

        private sealed class ResetBodiesFilter(ResetWhileReadingServer server) : Microsoft.AspNetCore.Hosting.IStartupFilter
        {
            public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
            {
                app.Use(async (context, following) =>
                {
                    if (server.ResetBodies)
                    {
                        context.Request.Body = new ResetOnRead();
                    }

                    await following(context);
                });
                next(app);
            };
        }

        private sealed class ResetOnRead : Stream
        {
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => throw Reset();
            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(Reset());
            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromException<int>(Reset());
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            // What Kestrel's read throws first; RequestAborted is cancelled only after it.
            private static Microsoft.AspNetCore.Connections.ConnectionResetException Reset() => new("Connection reset by peer");
        }
    }
}
