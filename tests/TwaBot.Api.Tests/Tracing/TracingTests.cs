using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Serilog.Events;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Tracing;

/// <summary>Traces exported over OTLP: what spans a send makes, what they never hold, and the log lines that join them.</summary>
public class TracingTests
{
    [Fact]
    public async Task ASendIsTracedFromTheRequestToTheCallToMetaWithoutItsSecretsAndItsLogLinesCarryTheTrace()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var server = new TracedServer(collector.Address);
        server.UseKestrel(0); // real sockets: the in-memory server's handler has no HTTP client spans
        server.StartServer();
        var tenant = await server.CreateSendingTenantAsync();
        var token = await server.AccessTokenOfAsync(tenant.BusinessId);

        (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } })).EnsureSuccessStatusCode();

        // The test's own client is traced too (the sources are the process's), and starts the trace.
        var request = await server.SpanAsync(
            s => s.DisplayName == "POST /api/v1/send-template" && Equals(s.GetTagItem("server.port"), tenant.Client.BaseAddress!.Port), "the send's request span");
        var trace = request.TraceId;
        // The emulator's span ends once its answer is out, which can be after the send has answered the test.
        var spans = await server.SpansOfAsync(trace, IsTheEmulators, "the emulator's span of the call to Meta");
        Assert.Equal(ActivityKind.Server, request.Kind);
        Assert.Single(spans, s => s.DisplayName == "send checks" && s.ParentSpanId == request.SpanId);
        var dispatch = Assert.Single(spans, s => s.DisplayName == "send dispatch" && s.ParentSpanId == request.SpanId);
        Assert.Equal("accepted", dispatch.GetTagItem("twabot.result"));
        var meta = Assert.Single(spans, s => s.Kind == ActivityKind.Client && s.ParentSpanId == dispatch.SpanId);
        Assert.Equal("POST", meta.DisplayName);
        Assert.Contains($"/sandbox/graph/", (string?)meta.GetTagItem("url.full"), StringComparison.Ordinal);
        // The emulator's side of the call is a child of it (in the sandbox Meta is this server).
        Assert.Contains(spans, s => IsTheEmulators(s) && s.ParentSpanId == meta.SpanId);
        AssertNoneHolds(spans, token!, tenant.Key, "Bearer");

        var exported = await collector.WaitForAsync(["POST /api/v1/send-template"], TimeSpan.FromSeconds(20), "traces");
        Assert.Contains("POST /api/v1/send-template", exported, StringComparison.Ordinal);
        Assert.DoesNotContain(token!, exported, StringComparison.Ordinal);
        Assert.DoesNotContain(tenant.Key, exported, StringComparison.Ordinal);

        // The request's log line names the request's span; as JSON, in the documented formatter, too.
        var line = Assert.Single(server.Logs.Events, e => e.TraceId?.ToHexString() == trace.ToHexString()
            && e.RenderMessage(CultureInfo.InvariantCulture).StartsWith("HTTP \"POST\" \"/api/v1/send-template\" responded 200", StringComparison.Ordinal));
        Assert.Equal(request.SpanId.ToHexString(), line.SpanId?.ToHexString());
        using var json = new StringWriter(CultureInfo.InvariantCulture);
        new Serilog.Formatting.Compact.CompactJsonFormatter().Format(line, json);
        Assert.Contains($"\"@tr\":\"{trace.ToHexString()}\",\"@sp\":\"{request.SpanId.ToHexString()}\"", json.ToString(), StringComparison.Ordinal);

        // The emulator's status webhooks come, like Meta's, without the send's trace context: none in its trace.
        await server.SettleStatusesAsync();
        List<LogEvent> StatusPosts() => [.. server.Logs.Events.Where(e => e.RenderMessage(CultureInfo.InvariantCulture).StartsWith("HTTP \"POST\" \"/webhooks/meta\"", StringComparison.Ordinal))];
        await Poll.UntilAsync(() => StatusPosts().Count > 0, "the log line of a status POST"); // written just after its answer, like the send's
        Assert.All(StatusPosts(), e => Assert.NotEqual(trace.ToHexString(), e.TraceId?.ToHexString()));

        static bool IsTheEmulators(Activity span) =>
            span.Kind == ActivityKind.Server && span.DisplayName.Contains("/sandbox/graph/", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("true")] // an operator who wants query values in spans still gets no key in them
    public async Task AQuickSendsApiKeyIsRedactedFromItsSpan(string? disableRedaction)
    {
        await using var server = new TracedServer("http://127.0.0.1:9", new Dictionary<string, string?>
        {
            ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = disableRedaction,
        });
        var tenant = await server.CreateSendingTenantAsync();
        var trace = ActivityTraceId.CreateRandom();
        using var anonymous = server.CreateClient();

        using var quickSend = Traced(HttpMethod.Get, $"/api/v1/quick-send?apikey={tenant.Key}&phone=919876543210&template=order_confirmation&params=a,b,c", trace);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.SendAsync(quickSend)).StatusCode);

        var spans = await server.SpansOfAsync(trace, s => s.Kind == ActivityKind.Server, "the quick send's request span");
        var request = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Contains("apikey=", (string?)request.GetTagItem("url.query"), StringComparison.Ordinal);
        AssertNoneHolds(spans, tenant.Key, tenant.Key[..^4]); // nor a long part of it
    }

    [Fact]
    public async Task AConfiguredAdminKeyInAPathIsNotInItsSpan()
    {
        // As in the logs: the admin key has no shape a pattern could know, so its own text is taken out.
        await using var server = new TracedServer("http://127.0.0.1:9");
        using var client = server.CreateClient();
        var trace = ActivityTraceId.CreateRandom();

        using var request = Traced(HttpMethod.Get, $"/nowhere/{TwaBotApiFactory.AdminKey}/x?next={TwaBotApiFactory.AdminKey}", trace);
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(request)).StatusCode);

        var spans = await server.SpansOfAsync(trace, s => s.Kind == ActivityKind.Server, "the request's span");
        var span = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.StartsWith("/nowhere/", (string?)span.GetTagItem("url.path"), StringComparison.Ordinal);
        AssertNoneHolds(spans, TwaBotApiFactory.AdminKey);
    }

    [Fact]
    public async Task AConfiguredAdminKeyInTheUrlOfACallOutIsNotInItsSpan()
    {
        // Calls out are the process's: here the test's own client, over a real socket, to a URL with the key in its path.
        await using var server = new TracedServer("http://127.0.0.1:9");
        server.UseKestrel(0);
        server.StartServer();
        using var client = server.CreateClient();
        using var parent = new Activity("test") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.Start(); // sampled, so its child is too

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/nowhere/{TwaBotApiFactory.AdminKey}/x")).StatusCode);

        var spans = await server.SpansOfAsync(parent.TraceId, s => s.Kind == ActivityKind.Client, "the call's client span");
        var call = Assert.Single(spans, s => s.Kind == ActivityKind.Client);
        Assert.Contains("/nowhere/", (string?)call.GetTagItem("url.full"), StringComparison.Ordinal);
        AssertNoneHolds(spans, TwaBotApiFactory.AdminKey);
    }

    [Fact]
    public async Task KeysEscapedIntoAUrlAreNotInItsSpan()
    {
        // A query is recorded as the client wrote it, escapes and all; a value-less part is not one the instrumentation redacts.
        const string adminKey = "Zq8+Vw/Xy3kLmN0pQr/s==";
        var apiKey = "twb_test_" + new string('K', 49);
        await using var server = new TracedServer("http://127.0.0.1:9", new Dictionary<string, string?> { ["TwaBot:AdminKey"] = adminKey });
        server.UseKestrel(0); // the in-memory server cannot take a URL whose escapes are kept as written
        server.StartServer();
        using var client = server.CreateClient();
        using var parent = new Activity("test") { ActivityTraceFlags = ActivityTraceFlags.Recorded }.Start(); // the test's client passes it on
        var url = new Uri($"{client.BaseAddress}nowhere/{Uri.EscapeDataString(adminKey)}?{apiKey.Replace("_", "%5F", StringComparison.Ordinal)}",
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(url)).StatusCode);

        var spans = await server.SpansOfAsync(parent.TraceId, s => s.Kind == ActivityKind.Server, "the request's span");
        var span = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.StartsWith("?twb%5Ftest%5F", (string?)span.GetTagItem("url.query"), StringComparison.Ordinal);
        AssertNoneHolds(spans, "KKKKKKKK", "Vw%2FXy3", "Vw/Xy3");
    }

    [Fact]
    public async Task AWebhookBatchIsASpanAndItsLogLinesCarryIt()
    {
        await using var server = new TracedServer("http://127.0.0.1:9");
        await server.ApplyWebhooksAsync();
        (await server.PostWebhookAsync("not json")).EnsureSuccessStatusCode(); // stored, then fails to apply: logged

        await server.ApplyWebhooksAsync();

        var failed = Assert.Single(server.Logs.Events, e => e.Level == LogEventLevel.Error && e.MessageTemplate.Text.StartsWith("A webhook delivery", StringComparison.Ordinal));
        Assert.NotNull(failed.TraceId);
        var batch = Assert.Single(await server.SpansOfAsync(failed.TraceId.Value, s => s.DisplayName == "apply webhook batch", "the batch's span"));
        Assert.Equal(failed.SpanId, batch.SpanId);
        Assert.Equal(default, batch.ParentSpanId); // a root: the deliveries came in other requests
        Assert.Equal("inbox", batch.GetTagItem("twabot.webhooks.source"));
        Assert.Equal(1, batch.GetTagItem("twabot.webhooks.deliveries"));
        Assert.Equal(ActivityStatusCode.Error, batch.Status);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", true)]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true)]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", false)] // metrics alone: no spans, nor an exporter sending them to localhost
    public async Task SpansAreRecordedOnlyWhenTracesHaveAnEndpoint(string? setting, bool traced)
    {
        await using var server = new TracedServer(null, setting is null ? null : new Dictionary<string, string?> { [setting] = "http://127.0.0.1:9" });
        using var client = server.CreateClient();
        var trace = ActivityTraceId.CreateRandom();

        using var request = Traced(HttpMethod.Get, "/healthz", trace);
        (await client.SendAsync(request)).EnsureSuccessStatusCode();

        if (traced)
        {
            await server.SpansOfAsync(trace, _ => true, "the request's span");
        }
        else
        {
            await Task.Delay(TimeSpan.FromSeconds(1)); // time for a span to end, were one recorded: none must come
            Assert.Empty(server.SpansOf(trace));
        }
    }

    [Theory] // README: OTEL_SERVICE_NAME names the service the spans and metrics come from, twabot unless set
    [InlineData(null, "twabot")]
    [InlineData("", "twabot")] // set empty (a compose file's unset ${VARIABLE}): the server once failed to start
    [InlineData("twabot-eu", "twabot-eu")]
    public async Task TheExportedServiceIsNamedByOtelServiceName(string? serviceName, string named)
    {
        var settings = new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://127.0.0.1:9" };
        if (serviceName is not null)
        {
            settings["OTEL_SERVICE_NAME"] = serviceName;
        }

        await using var server = new TracedServer(null, settings);

        var resource = server.Services.GetRequiredService<TracerProvider>().GetResource();

        Assert.Equal(named, Assert.Single(resource.Attributes, a => a.Key == "service.name").Value);
    }

    [Theory] // a refusal's span names the error_code the caller got: in the checks, or from Meta in the dispatch
    [InlineData("12", "send checks", "INVALID_PHONE")]
    [InlineData("919876540047", "send dispatch", "WINDOW_CLOSED")]
    public async Task ARefusedSendsSpanNamesTheErrorCodeAnswered(string phone, string refusedIn, string errorCode)
    {
        await using var server = new TracedServer(null, new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://127.0.0.1:9" });
        var tenant = await server.CreateSendingTenantAsync();
        var trace = ActivityTraceId.CreateRandom();

        using var request = Traced(HttpMethod.Post, "/api/v1/send-template", trace);
        request.Content = JsonContent.Create(new { phone, template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        await (await tenant.Client.SendAsync(request)).AssertErrorAsync(HttpStatusCode.BadRequest, errorCode);

        var spans = await server.SpansOfAsync(trace, s => s.DisplayName == refusedIn, $"the {refusedIn} span");
        Assert.Equal(errorCode, Assert.Single(spans, s => s.DisplayName == refusedIn).GetTagItem("twabot.result"));
    }

    [Fact]
    public async Task OnlyTheTraceGoesOnToMetaNotTheCallersTraceStateOrBaggage()
    {
        // A caller's baggage holds what it chose to tell its own services (a user id, a tenant, a feature flag); Meta is
        // a third party, and needs nothing of it. The trace id goes on, so a call can be found from either side.
        await using var meta = await Meta.FakeMetaUpstream.StartAsync();
        meta.Reply(Meta.FakeMetaUpstream.Json(200, """{"data":[]}"""));
        await using var live = LiveMode.Against(meta);
        var businessId = await live.CreateBusinessAsync();
        using var admin = live.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = "EAAGtraceTestToken0123456789" })).EnsureSuccessStatusCode();
        var trace = ActivityTraceId.CreateRandom();

        using var request = Traced(HttpMethod.Post, $"/admin/v1/businesses/{businessId}/templates/sync", trace);
        request.Headers.Add("tracestate", "crm=internal-state-7301");
        request.Headers.Add("baggage", "user.id=customer-7302,tenant=acme-7303");
        (await admin.SendAsync(request)).EnsureSuccessStatusCode();

        var headers = Assert.Single(meta.Calls).Headers;
        Assert.Equal(trace.ToHexString(), headers["traceparent"].Split('-')[1]);
        Assert.DoesNotContain("tracestate", headers.Keys, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain("baggage", headers.Keys, StringComparer.OrdinalIgnoreCase);
        Assert.DoesNotContain(headers.Values, value => value.Contains("internal-state", StringComparison.Ordinal)
            || value.Contains("customer-", StringComparison.Ordinal) || value.Contains("acme-", StringComparison.Ordinal)); // nor under another name
    }

    private static HttpRequestMessage Traced(HttpMethod method, string path, ActivityTraceId trace)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        return request;
    }

    /// <summary>No tag, event or name of <paramref name="spans"/> holds any of <paramref name="secrets"/>.</summary>
    private static void AssertNoneHolds(IEnumerable<Activity> spans, params string[] secrets)
    {
        foreach (var span in spans)
        {
            var texts = span.TagObjects.Select(tag => $"{tag.Key}={tag.Value}")
                .Concat(span.Events.SelectMany(e => e.Tags.Select(tag => $"{e.Name} {tag.Key}={tag.Value}")))
                .Append(span.DisplayName).Append(span.StatusDescription ?? "");
            foreach (var text in texts)
            {
                Assert.All(secrets, secret => Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    /// <summary>A server exporting traces to <paramref name="endpoint"/>, whose ended spans the test reads too.</summary>
    private sealed class TracedServer(string? endpoint, IDictionary<string, string?>? settings = null)
        : TwaBotApiFactory(Settings(endpoint, settings))
    {
        private readonly ConcurrentQueue<Activity> _spans = new();

        /// <summary>The spans of <paramref name="trace"/> once one matches <paramref name="awaited"/> (spans end after their answer is sent).</summary>
        public async Task<List<Activity>> SpansOfAsync(ActivityTraceId trace, Func<Activity, bool> awaited, string what)
        {
            await Poll.UntilAsync(() => _spans.Any(s => s.TraceId == trace && awaited(s)), what);
            return SpansOf(trace);
        }

        /// <summary>The spans of <paramref name="trace"/> ended so far.</summary>
        public List<Activity> SpansOf(ActivityTraceId trace) => [.. _spans.Where(s => s.TraceId == trace)]; // the sources are the process's: other tests' spans come too

        public async Task<Activity> SpanAsync(Func<Activity, bool> match, string what)
        {
            await Poll.UntilAsync(() => _spans.Any(match), what);
            return Assert.Single(_spans, s => match(s));
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(new Capture(_spans))));
        }

        private static Dictionary<string, string?> Settings(string? endpoint, IDictionary<string, string?>? settings)
        {
            var all = new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "600000",
            };
            foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            {
                all[key] = value;
            }

            return all;
        }
    }

    private sealed class Capture(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}
