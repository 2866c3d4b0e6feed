using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// Runs requests that carry every kind of secret through a server logging at Verbose for all
/// sources (ASP.NET's own "Request starting …?apikey=…" line included) and checks none is in any log line.
/// </summary>
public class LogSecrecyTests : IAsyncLifetime
{
    private const string MetaToken = "EAAGm0PX4ZCpsBAsentinelAccessToken0123456789";
    private static readonly Dictionary<string, string?> Verbose = new()
    {
        ["Serilog:MinimumLevel:Default"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
        ["Serilog:MinimumLevel:Override:System"] = "Verbose",
        // Named one by one too: the categories that print raw request data stay pinned, and the HTTP client's
        // header lines (Authorization as a list of values) are redacted.
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Server.Kestrel.BadRequests"] = "Verbose",
        ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Verbose",
        ["Serilog:MinimumLevel:Override:System.Net.Http.HttpClient"] = "Verbose",
    };

    private readonly TwaBotApiFactory _factory = new(Verbose);

    [Fact]
    public async Task NoSecretAppearsInAnyLogLine()
    {
        var businessId = await _factory.CreateBusinessAsync();
        var (key, _) = await _factory.CreateApiKeyAsync(businessId);
        using var admin = _factory.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = MetaToken })).EnsureSuccessStatusCode();
        using var anonymous = _factory.CreateClient();
        using var api = _factory.CreateApiClient(key);

        (await api.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        await anonymous.GetAsync($"/api/v1/quick-send?apikey={key}&phone=919876543210&message=hi");
        await anonymous.GetAsync($"/api/v1/health?apikey={key}");
        await anonymous.GetAsync($"/nowhere?apikey={key}");

        // A send through the Meta client (here to the emulator), whose headers the HTTP client logs at Verbose.
        var tenant = await _factory.CreateSendingTenantAsync();
        var sandboxToken = await _factory.AccessTokenOfAsync(tenant.BusinessId);
        Assert.NotNull(sandboxToken);
        (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } })).EnsureSuccessStatusCode();

        var logs = _factory.Logs.AllText();
        Assert.Contains("Microsoft.AspNetCore.Routing", logs, StringComparison.Ordinal); // the framework's Verbose lines really were captured
        Assert.Contains("Request Headers", logs, StringComparison.Ordinal); // and the HTTP client's header lines
        Assert.DoesNotContain(sandboxToken, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Request starting", logs, StringComparison.Ordinal); // its request lines print query strings: pinned off
        Assert.Contains("/api/v1/health", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(key[9..], logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TwaBotApiFactory.AdminKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(MetaToken, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfiguredAdminKeyInAPathIsNotLogged()
    {
        // The configured admin key has no twb_ shape (README suggests `openssl rand -hex 24`): only its own text can tell it.
        using var admin = _factory.CreateAdminClient();

        await admin.GetAsync($"/admin/v1/businesses/{TwaBotApiFactory.AdminKey}");
        await admin.GetAsync($"/nowhere/{TwaBotApiFactory.AdminKey}/x");

        var logs = _factory.Logs.AllText();
        Assert.Contains("/nowhere/", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(TwaBotApiFactory.AdminKey, logs, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TwaBot:Meta:AppSecret")]
    [InlineData("TwaBot:Meta:VerifyToken")]
    [InlineData("TwaBot:PreviousAdminKey")] // the old admin key of a rotation: shapeless too
    public async Task AConfiguredSecretInAPathIsNotLogged(string setting)
    {
        var settings = LiveMode.Settings();
        settings.TryAdd(setting, "previous-admin-key-0123456789");
        var secret = settings[setting]!;
        await using var live = new TwaBotApiFactory(settings, environment: "Production");
        using var client = live.CreateClient();

        await client.GetAsync($"/nowhere/{secret}/x");

        var logs = live.Logs.AllText();
        Assert.Contains("/nowhere/", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAdminKeyHoldingASlashIsNotLoggedWhenEscapedIntoAPath()
    {
        // A base64 admin key (openssl rand -base64) escaped into a URL: the request's path is logged decoded but for %2F.
        const string adminKey = "Zq8+Vw/Xy3kLmN0pQr/s==";
        await using var kestrel = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:AdminKey"] = adminKey });
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        using var client = kestrel.CreateClient();

        await client.GetAsync($"/nowhere/{Uri.EscapeDataString(adminKey)}/x");

        var logs = await kestrel.Logs.AllTextOnceItHoldsAsync("/nowhere/");
        Assert.DoesNotContain("Vw%2FXy3", logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Vw/Xy3", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHeadersTheOtlpExporterSendsAreNotLogged()
    {
        // A telemetry backend's key goes in OTEL_EXPORTER_OTLP_HEADERS, and the exporter's HTTP client gives its request headers as properties.
        await using var collector = await OtlpCollector.StartAsync();
        var settings = new Dictionary<string, string?>(Verbose)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Address,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_EXPORTER_OTLP_HEADERS"] = "api-key=BackendLicense0123456789, x-honeycomb-team=Team%2FHoneycomb0123456789",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "600000",
        };
        await using var exporting = new TwaBotApiFactory(settings);
        using var client = exporting.CreateClient();

        (await client.GetAsync("/healthz")).EnsureSuccessStatusCode();

        var logs = await exporting.Logs.AllTextOnceItHoldsAsync("\"x-honeycomb-team\""); // the trace exporter's header line, with the header's name
        Assert.Contains("OtlpTraceExporter", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("License0123456789", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Honeycomb0123456789", logs, StringComparison.Ordinal);
    }

    /// <summary>The connect's check with Meta: a token it refuses, echoing it, reaches neither the admin's answer nor the log.</summary>
    [Fact]
    public async Task ATokenMetaRefusesAtTheConnectsCheckIsNeitherLoggedNorAnswered()
    {
        const string token = "NotMetaShapedConnectToken0123456789abcdef";
        await using var meta = await Meta.FakeMetaUpstream.StartAsync();
        meta.ReplyToNumberList(Meta.FakeMetaUpstream.Json(401, "{\"error\":{\"message\":\"Invalid OAuth access token " + token + "\",\"type\":\"OAuthException\","
            + "\"code\":190,\"error_data\":{\"details\":\"token " + token + "\"},\"fbtrace_id\":\"" + token + "\"}}"));
        await using var live = LiveMode.Against(meta, Verbose);
        var businessId = await live.CreateBusinessAsync();
        using var admin = live.CreateAdminClient();

        var connect = await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = token });

        var answer = await connect.Content.ReadAsStringAsync();
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, connect.StatusCode);
        Assert.Contains("Meta refused this access token", answer, StringComparison.Ordinal);
        Assert.DoesNotContain(token, answer, StringComparison.Ordinal);
        var logs = await live.Logs.AllTextOnceItHoldsAsync("Meta's check failed");
        Assert.Contains("Meta refused a call: HTTP 401, code 190", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(token, logs, StringComparison.Ordinal);
        Assert.Equal("Bearer " + token, Assert.Single(meta.NumberListCalls).Authorization); // the token did reach Meta
    }

    [Fact]
    public async Task ATokenMetasErrorEchoesIsNeitherLoggedNorAnswered()
    {
        // Not shaped like Meta's (EAA…), so only the connection's own token tells the redaction what to take out.
        const string token = "NotMetaShapedToken0123456789abcdef";
        await using var meta = await Meta.FakeMetaUpstream.StartAsync();
        meta.Reply(Meta.FakeMetaUpstream.Json(400, "{\"error\":{\"message\":\"Invalid OAuth access token " + token + "\",\"type\":\""
            + token + "\",\"code\":190,\"error_data\":{\"details\":\"token " + token + "\"},\"fbtrace_id\":\"" + token + "\"}}"));
        await using var live = LiveMode.Against(meta, Verbose);
        var businessId = await live.CreateBusinessAsync();
        using var admin = live.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = token })).EnsureSuccessStatusCode();

        var sync = await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null);

        Assert.False(sync.IsSuccessStatusCode);
        Assert.DoesNotContain(token, await sync.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var logs = live.Logs.AllText();
        Assert.Contains("Meta refused a call: HTTP 400, code 190", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(token, logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoQuickSendErrorLogsTheKeyFromItsUrl()
    {
        var tenant = await _factory.CreateSendingTenantAsync();
        await _factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");
        using var anonymous = _factory.CreateClient();
        var key = tenant.Key;
        // twb%5Ftest%5F…: HttpClient gives the server "_" back (and "k" for %6B below), so these rows check the names' case
        // and the key's place; the escapes as written reach only a real socket (TracingTests.KeysEscapedIntoAUrlAreNotInItsSpan).
        var escapedKey = key.Replace("_", "%5F", StringComparison.Ordinal);
        string[] queries =
        [
            $"apikey={key}&phone=919876543210&message=caf%E9",                                   // Latin-1
            $"apikey={key}&phone=919876543210&message=a&message=b",                              // repeated
            $"apikey={key}&phone=919876543210&message=Rock+&+Roll",                              // unencoded '&'
            $"apikey={key}&phone=919876543210&message=a%2520b",                                  // encoded twice
            $"apikey={key}&phone=919876543210&message={new string('a', 4097)}",                  // too long
            $"apikey={key}&phone=919876543211&message=hi",                                       // window closed
            $"apikey={key}&phone=+6591234567&template=order_confirmation&params=a,b,c",          // ambiguous '+'
            $"apikey={key}&phone=919876543210&template=nope&params=a",                           // unknown template
            $"apikey={key}&phone=919876543210&template=order_confirmation&lang=en%C2%B6ms=a,b,c", // the docs' ¶ms=
            $"apikey={key}&phone=&message=hi",                                                   // no phone
            $"apikey={key}&apikey={key}&phone=919876543210&message=hi",                          // two keys
            $"APIKEY={escapedKey}&phone=919876543210&message=hi",                                // the key escaped
            $"api%6Bey={escapedKey}x&phone=919876543210&message=hi",                             // a wrong key, name escaped
            $"apikey={key}&phone=919876543210&message=hi&idempotency_key=%01",                   // a bad idempotency key
        ];

        foreach (var query in queries)
        {
            await anonymous.GetAsync("/api/v1/quick-send?" + query);
        }

        using var head = new HttpRequestMessage(HttpMethod.Head, $"/api/v1/quick-send?apikey={key}&phone=919876543210&message=hi");
        await anonymous.SendAsync(head);

        var logs = await _factory.Logs.AllTextOnceItHoldsAsync("\"/api/v1/quick-send\" responded 405");
        Assert.Contains("\"/api/v1/quick-send\" responded 400", logs, StringComparison.Ordinal); // the requests were logged
        Assert.Contains("\"/api/v1/quick-send\" responded 405", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(key[9..], logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoOtpCodeIsLoggedWhateverMetaAnswers()
    {
        // An OTP is a secret of its recipient: whoever reads the logs must not be able to sign in as them.
        var tenant = await _factory.CreateSendingTenantAsync();
        using var anonymous = _factory.CreateClient();
        string[] codes = ["40414041", "40424042", "40434043", "40444044", "40454045", "40464046"];
        Task<HttpResponseMessage> Otp(string phone, string code) =>
            tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone, template_name = "otp_verification", otp = code });

        await (await Otp("919812340010", codes[0])).ReadJsonAsync(HttpStatusCode.OK);
        await (await Otp("919812340500", codes[1])).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE"); // Meta fails
        await (await Otp("919812340047", codes[2])).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");   // Meta refuses
        await (await Otp("919812340429", codes[3])).AssertErrorAsync(HttpStatusCode.TooManyRequests, "UPSTREAM_RATE_LIMITED");
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919812340011", template_name = "otp_verification", body_params = new[] { codes[4] } })).ReadJsonAsync(HttpStatusCode.OK);
        await (await anonymous.GetAsync($"/api/v1/quick-send?apikey={tenant.Key}&phone=919812340012&template=otp_verification&params={codes[5]}"))
            .ReadJsonAsync(HttpStatusCode.OK);
        var generated = (await (await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919812340013", template_name = "otp_verification" }))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("otp").GetString()!;
        await _factory.SettleStatusesAsync();

        var logs = _factory.Logs.AllText();
        Assert.Contains("Meta refused a call: HTTP 400, code 131047", logs, StringComparison.Ordinal); // the refusal was logged
        Assert.All(codes.Append(generated), code => Assert.DoesNotContain(code, logs, StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoMessageTextParameterOrCustomerNameIsLoggedEvenWithTheDatabaseCommandsAtVerbose()
    {
        // EF Core prints each command it runs at Debug, with its parameters as '?': were their values shown, an operator
        // raising that category to find a slow query would ship customers' messages, names and OTP codes to the log store.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(Verbose)
        {
            ["Serilog:MinimumLevel:Override:Microsoft.EntityFrameworkCore"] = "Verbose",
        });
        var tenant = await server.CreateSendingTenantAsync();
        using var admin = server.CreateAdminClient();
        const string inbound = "Inbound words 7301", name = "Profile Name 7302", param = "Param value 7303", reply = "Reply words 7304", code = "73057305";

        (await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = "919812347300", text = inbound, name })).EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919812347300", message = reply })).ReadJsonAsync(HttpStatusCode.OK);
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919812347300", template_name = "order_confirmation", body_params = new[] { param, "b", "c" } })).ReadJsonAsync(HttpStatusCode.OK);
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-otp",
            new { phone = "919812347301", template_name = "otp_verification", otp = code })).ReadJsonAsync(HttpStatusCode.OK);
        await server.SettleStatusesAsync();

        var logs = server.Logs.AllText();
        Assert.Contains("Executed DbCommand", logs, StringComparison.Ordinal); // the commands really were logged
        Assert.All([inbound, name, param, reply, code], value => Assert.DoesNotContain(value, logs, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AKeyRingKeyDataProtectionCannotReadIsNotLoggedEvenWithItsLinesAtVerbose()
    {
        // A key whose expirationDate was mistyped while ending it by hand (docs/operations.md) cannot be read: the tokens it
        // encrypted look lost, and an operator raises Data Protection's level to see why. Its Verbose line printed the whole
        // <key> element, with the master key that decrypts those tokens in plain text.
        using var database = new TemporaryDatabase();
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false })
        {
            await first.CreateSendingTenantAsync();
        }

        var keyFile = Assert.Single(Directory.GetFiles(TwaBot.Api.Businesses.KeyRing.FolderFor(null, database.Path, "/"), "key-*.xml"));
        var masterKey = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(keyFile), "<value>([^<]+)</value>").Groups[1].Value;
        File.WriteAllText(keyFile, System.Text.RegularExpressions.Regex.Replace(
            File.ReadAllText(keyFile), "<expirationDate>[^<]*</expirationDate>", "<expirationDate>2026-13-01T00:00:00Z</expirationDate>"));

        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>(Verbose)
        {
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore.DataProtection"] = "Verbose",
        }, databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        server.StartServer();

        var logs = await server.Logs.AllTextOnceItHoldsAsync("cannot be decrypted");
        Assert.Contains("An exception occurred while processing the key element", logs, StringComparison.Ordinal); // the key's failure is told
        Assert.Contains("Microsoft.AspNetCore.DataProtection.KeyManagement.KeyRingBasedDataProtector", logs, StringComparison.Ordinal); // at Verbose
        Assert.DoesNotContain(masterKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(masterKey[..20], logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedRequestLineCarryingAKeyIsNotLoggedEvenAtVerbose()
    {
        await using var kestrel = new TwaBotApiFactory(Verbose);
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        var secret = "twb_test_" + new string('S', 49);
        using var socket = await kestrel.ConnectRawAsync();
        var stream = socket.GetStream();

        // A literal space in the query: Kestrel refuses the request line before the app sees it.
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"GET /api/v1/quick-send?apikey={secret}&message=hello world HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        var answer = new byte[1024];
        var read = await stream.ReadAsync(answer);

        Assert.StartsWith("HTTP/1.1 400", System.Text.Encoding.ASCII.GetString(answer, 0, read), StringComparison.Ordinal);
        Assert.DoesNotContain(secret[9..], kestrel.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALineBreakInAPathCannotForgeALogLine()
    {
        using var client = _factory.CreateClient();

        await client.GetAsync("/nothing%0A%5B20:00:00%20INF%5D%20FORGED");

        var line = Assert.Single(_factory.Logs.Events, e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["RequestPath"].ToString().Contains("FORGED", StringComparison.Ordinal));
        Assert.DoesNotContain('\n', line.RenderMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task EachRequestIsOneStructuredLine()
    {
        var (_, client, _) = await _factory.CreateTenantAsync();

        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        var line = Assert.Single(_factory.Logs.Events, e =>
            e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["RequestPath"].ToString() == "\"/api/v1/health\"");
        Assert.Equal("200", line.Properties["StatusCode"].ToString());
        Assert.True(line.Properties.ContainsKey("ApiKeyId"));
        Assert.True(line.Properties.ContainsKey("BusinessId"));
    }

    [Fact]
    public async Task ARefusedKeyOrAThrottledRetryAddsNoLinesBesideTheRequestsOwn()
    {
        var tenant = await _factory.CreateSendingTenantAsync();
        using var wrongKey = _factory.CreateApiClient("twb_test_" + new string('W', 49));

        await wrongKey.GetAsync("/api/v1/health");
        // The emulator throttles this number: Polly retries it, and its handled attempts were logged as errors.
        await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876540429", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        static string Source(Serilog.Events.LogEvent e) => e.Properties.TryGetValue("SourceContext", out var source) ? source.ToString() : "";
        Assert.DoesNotContain(_factory.Logs.Events, e => Source(e).Contains("AuthenticationHandler", StringComparison.Ordinal));
        Assert.DoesNotContain(_factory.Logs.Events, e => Source(e).StartsWith("\"Polly", StringComparison.Ordinal));
        Assert.Contains(_factory.Logs.Events, e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["StatusCode"].ToString() == "401");
    }

    [Fact]
    public async Task ByDefaultTheFrameworksRequestAndHttpClientLinesAreNotLogged()
    {
        // Routing's "Executing endpoint", the HTTP client's "Sending HTTP request" and EF Core's "Executed DbCommand" would be several lines per request.
        await using var quiet = new TwaBotApiFactory();
        var tenant = await quiet.CreateSendingTenantAsync();

        (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } })).EnsureSuccessStatusCode();

        await quiet.Logs.AllTextOnceItHoldsAsync("\"/api/v1/send-template\" responded 200");
        static string Source(Serilog.Events.LogEvent e) => e.Properties.TryGetValue("SourceContext", out var source) ? source.ToString() : "";
        Assert.DoesNotContain(quiet.Logs.Events, e => e.Level < Serilog.Events.LogEventLevel.Warning
            && (Source(e).StartsWith("\"Microsoft.AspNetCore", StringComparison.Ordinal) || Source(e).StartsWith("\"System.Net.Http", StringComparison.Ordinal)
                || Source(e).StartsWith("\"Microsoft.EntityFrameworkCore", StringComparison.Ordinal))); // each command it ran
        // Nor Data Protection's warning that the key it made for the token is kept unencrypted: our documented choice.
        Assert.DoesNotContain(quiet.Logs.Events, e => e.Level < Serilog.Events.LogEventLevel.Error
            && Source(e).StartsWith("\"Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARequestsLineHasItsPathWithoutTheQuery()
    {
        // On a real socket (the in-memory server has no raw request target): quick-send's query holds phones and messages.
        await using var kestrel = new TwaBotApiFactory();
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        using var client = kestrel.CreateClient();

        await client.GetAsync("/api/v1/quick-send?phone=919876543210&message=private%20words");

        var logs = await kestrel.Logs.AllTextOnceItHoldsAsync("\"/api/v1/quick-send\" responded 401");
        Assert.DoesNotContain("919876543210", logs, StringComparison.Ordinal);
        Assert.DoesNotContain("private", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHealthyLivenessProbeIsLoggedAtDebugNotInformation()
    {
        using var client = _factory.CreateClient();

        (await client.GetAsync("/healthz")).EnsureSuccessStatusCode();
        (await client.GetAsync("/HEALTHZ")).EnsureSuccessStatusCode(); // a probe configured in capitals is routed there too
        (await client.GetAsync("/api/v1/health")).Dispose();

        var probes = _factory.Logs.Events.Where(e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && string.Equals(e.Properties["RequestPath"].ToString(), "\"/healthz\"", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Equal(2, probes.Count);
        Assert.All(probes, probe => Assert.Equal(Serilog.Events.LogEventLevel.Debug, probe.Level));
        Assert.Contains(_factory.Logs.Events, e => e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
            && e.Properties["RequestPath"].ToString() == "\"/api/v1/health\"" && e.Level == Serilog.Events.LogEventLevel.Information);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
