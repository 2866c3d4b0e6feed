using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using TwaBot.Api.Data;
using TwaBot.Api.Metrics;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using MetaPayloads = TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Metrics;

/// <summary>The TwaBot meter's instruments, and their export over OTLP.</summary>
public class MetricsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task EachSendIsCountedByEndpointAndResult()
    {
        using var sends = Collector("twabot.sends");
        var tenant = await factory.CreateSendingTenantAsync();
        using var replayable = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(Order("919876543210")) };
        replayable.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        using var again = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template") { Content = JsonContent.Create(Order("919876543210")) };
        again.Headers.Add("Idempotency-Key", replayable.Headers.GetValues("Idempotency-Key").Single());

        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.SendAsync(replayable)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.SendAsync(again)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("12"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c")).StatusCode);

        Assert.Equal(
            ["send-template accepted", "send-template replayed", "send-template INVALID_PHONE", "quick-send accepted"],
            sends.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.endpoint"]} {m.Tags["twabot.result"]}"));
        Assert.All(sends.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));
    }

    [Fact]
    public async Task RequestsThatNeverReachTheSendPipelineAreNotCountedAsSends()
    {
        // operations.md: a wrong key, a per-minute 429, a body that cannot be read and a browser's prefetch of a quick-send
        // URL are not sends; only the send the pipeline answers is counted.
        await using var server = new TwaBotApiFactory();
        using var sends = Collector(server, "twabot.sends");
        var tenant = await server.CreateSendingTenantAsync();
        var limited = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/api-keys/{limited.KeyId}", new { per_minute_limit = 1 });
        using var wrongKey = server.CreateApiClient("twb_test_" + new string('W', 40));

        await (await wrongKey.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
        using var tooLarge = new StringContent($$"""{"phone":"919876543210","message":"{{new string('a', 70_000)}}"}""", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await tenant.Client.PostAsync("/api/v1/send-text", tooLarge)).StatusCode);
        using var prefetch = new HttpRequestMessage(HttpMethod.Get, "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c");
        prefetch.Headers.Add("Sec-Purpose", "prefetch");
        await (await tenant.Client.SendAsync(prefetch)).AssertErrorAsync(HttpStatusCode.BadRequest, "PREFETCH_REFUSED");
        Assert.Equal(HttpStatusCode.OK, (await limited.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await limited.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).StatusCode);

        Assert.Equal(["send-template accepted"], sends.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.endpoint"]} {m.Tags["twabot.result"]}"));
    }

    [Fact]
    public async Task EachCallToMetaIsCountedByOperationOutcomeAndMetasCode()
    {
        using var calls = Collector("twabot.meta.calls");
        var tenant = await factory.CreateSendingTenantAsync();

        await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"));
        await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("91987654" + MagicNumbers.WindowClosed));
        await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("91987654" + MagicNumbers.ServerError));

        Assert.Equal(
            ["send_message ok -", "send_message rejected 131047", "send_message unavailable 131000"],
            calls.GetMeasurementSnapshot().Select(m =>
                $"{m.Tags["twabot.meta.operation"]} {m.Tags["twabot.meta.outcome"]} {(m.Tags.TryGetValue("twabot.meta.error_code", out var code) ? code : "-")}"));
    }

    [Fact]
    public async Task ACallTheOpenBreakerStoppedIsCountedAsCircuitOpen()
    {
        // The alert operations.md suggests: Meta's 5xx answers open the number's breaker, and the next send is not made.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:Meta:Resilience:BreakerMinimumThroughput"] = "2",
            ["TwaBot:Meta:Resilience:BreakerFailureRatio"] = "0.5",
        });
        using var calls = Collector(server, "twabot.meta.calls");
        var tenant = await server.CreateSendingTenantAsync();
        var status = HttpStatusCode.OK;
        for (var i = 0; i < 5 && status != HttpStatusCode.ServiceUnavailable; i++)
        {
            status = (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("91987654" + MagicNumbers.ServerError))).StatusCode;
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var outcomes = calls.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.meta.outcome"]} {m.Tags.ContainsKey("twabot.meta.error_code")}").ToList();
        Assert.Equal("circuit_open False", outcomes[^1]);
        Assert.All(outcomes[..^1], outcome => Assert.Equal("unavailable True", outcome));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "")]                    // the signal's path is added
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics")] // used as it is
    public async Task WithAnOtlpEndpointTheMetersAreExportedAndWithoutOneNothingIs(string setting, string path)
    {
        await using var collector = await OtlpCollector.StartAsync();
        // A process of its own: an exporter hears every meter named TwaBot in its process, and the test servers running
        // beside this one each publish one; a finished server's instruments once took this one's twabot.meta.calls with them.
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            [setting] = collector.Address + path,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
        });
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", server.SeededApiKey());

        (await client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).EnsureSuccessStatusCode();

        // The framework's meters too: requests, and the runtime's memory (operations.md lists both).
        string[] expected = ["twabot.sends", "twabot.meta.calls", "http.server.request.duration", "dotnet.process.memory.working_set"];
        var exported = await collector.WaitForAsync(expected, TimeSpan.FromSeconds(20));
        Assert.All(expected, metric => Assert.Contains(metric, exported, StringComparison.Ordinal));
        // As service "twabot" without OTEL_SERVICE_NAME (protobuf: the attribute's key, four bytes of framing, its value).
        Assert.Matches(@"service\.name[\x00-\x1f]{4}twabot\b", exported);
        Assert.Contains($"Exporting metrics over OTLP to {collector.Address}{(path.Length > 0 ? path : "/")} (http/protobuf, every 200 ms)",
            server.Output, StringComparison.Ordinal);
        Assert.Null(factory.Services.GetService<MeterProvider>()); // no endpoint: no exporter trying localhost
    }

    [Theory]
    [InlineData("https://user:secret@otlp.example.com:4318/", "https://otlp.example.com:4318/")]
    [InlineData("http://collector:4317", "http://collector:4317/")]
    [InlineData("otlp collector", "(an address that is not a URL)")]
    [InlineData("https://otlp.example.com/v1/traces?auth=c2VjcmV0LXZhbHVl#frag", "https://otlp.example.com/v1/traces")] // nor a query, whatever it names
    public void TheExportAddressIsLoggedWithoutItsUserInfo(string endpoint, string logged) =>
        Assert.Equal(logged, OtlpExportAnnouncement.WithoutUserInfo(endpoint));

    [Theory] // the line an operator reads at start: each signal's own endpoint over the shared one, gRPC and a minute unless told
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT=http://all:4317",
        "Exporting metrics over OTLP to http://all:4317/ (grpc, every 60000 ms)|Exporting traces over OTLP to http://all:4317/ (grpc)")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT=http://all:4318;OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://metrics:4318/v1/metrics;OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
        "Exporting metrics over OTLP to http://metrics:4318/v1/metrics (http/protobuf, every 60000 ms)|Exporting traces over OTLP to http://all:4318/ (http/protobuf)")]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT=http://all:4317;OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://traces:4317;OTEL_METRIC_EXPORT_INTERVAL=5000",
        "Exporting metrics over OTLP to http://all:4317/ (grpc, every 5000 ms)|Exporting traces over OTLP to http://traces:4317/ (grpc)")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://traces:4317", "Exporting traces over OTLP to http://traces:4317/ (grpc)")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://metrics:4317", "Exporting metrics over OTLP to http://metrics:4317/ (grpc, every 60000 ms)")]
    public async Task TheStartLineSaysWhereEachSignalIsExported(string settings, string lines)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Split(';').Select(s => s.Split('=', 2)).Select(kv => KeyValuePair.Create(kv[0], (string?)kv[1])))
            .Build();
        var logger = new Microsoft.Extensions.Logging.Testing.FakeLogger<OtlpExportAnnouncement>();

        await new OtlpExportAnnouncement(configuration, logger).StartAsync(CancellationToken.None);

        Assert.Equal(lines.Split('|'), logger.Collector.GetSnapshot().Select(r => r.Message));
    }

    [Fact]
    public async Task TheWebhookBacklogIsCountedWhenAReaderAsks()
    {
        await using var server = new TwaBotApiFactory();
        using var waiting = Collector(server, "twabot.webhooks.waiting");
        using var unapplied = Collector(server, "twabot.webhooks.unapplied");
        await server.ApplyWebhooksAsync();
        // A delivery that failed its last attempt stays stored, not applied, and is not tried again; one applied is no backlog.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts, applied_at) VALUES ('2026-11-26 10:00:00', 1, x'0a0b', x'7b7d', 5, NULL), ('2026-11-26 10:00:01', 1, x'0a0c', x'7b7d', 1, '2026-11-26 10:00:02')"));

        waiting.RecordObservableInstruments();
        unapplied.RecordObservableInstruments();

        Assert.Equal(0, waiting.LastMeasurement?.Value);
        Assert.Equal(1, unapplied.LastMeasurement?.Value);
    }

    [Fact]
    public async Task AfterADayOfDeliveriesOnlyTheOneGivenUpIsUnappliedAndNothingLags()
    {
        // Applied, redelivered, parked (a status of a message this server has no row for) and not JSON: only the last stays
        // unapplied (given up at once, logged once), and, given up, it does not lag.
        await using var server = new TwaBotApiFactory();
        using var waiting = Collector(server, "twabot.webhooks.waiting");
        using var unapplied = Collector(server, "twabot.webhooks.unapplied");
        using var lag = DoubleCollector(server, "twabot.webhooks.lag");
        var tenant = await server.CreateSendingTenantAsync();
        await server.ApplyWebhooksAsync();
        var parked = MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange("996",
            statuses: [MetaPayloads.Status("wamid.elsewhere", "delivered", server.Clock.GetUtcNow())])));
        await server.CustomerWritesAsync(tenant.BusinessId, "919876543210");
        (await server.PostWebhookAsync(parked)).EnsureSuccessStatusCode();
        (await server.PostWebhookAsync(parked)).EnsureSuccessStatusCode();
        (await server.PostWebhookAsync("{not json"u8.ToArray())).EnsureSuccessStatusCode();
        server.Clock.Advance(TimeSpan.FromMinutes(5));

        await server.ApplyWebhooksAsync();
        waiting.RecordObservableInstruments();
        unapplied.RecordObservableInstruments();
        lag.RecordObservableInstruments();

        Assert.Equal((0L, 1L, 0.0), (waiting.LastMeasurement?.Value, unapplied.LastMeasurement?.Value, lag.LastMeasurement?.Value));
        Assert.Single(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("A webhook delivery (webhook_events id", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebhookLagIsTheAgeOfTheOldestDeliveryStillToBeApplied()
    {
        await using var server = new TwaBotApiFactory();
        using var lag = DoubleCollector(server, "twabot.webhooks.lag");
        await server.ApplyWebhooksAsync();
        lag.RecordObservableInstruments();
        Assert.Equal(0, lag.LastMeasurement?.Value); // none: no lag

        var now = server.Clock.GetUtcNow().UtcDateTime;
        // Received "later" than now (the clock stepped back since): no lag, not a negative one.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts) VALUES ({0}, 1, x'0a0b', x'7b7d', 1)",
            PreparedCommands.Text(now.AddSeconds(30))));
        lag.RecordObservableInstruments();
        Assert.Equal(0, lag.LastMeasurement?.Value);

        // One given up long ago (left out: it waits for a restart), one failed once 90 s ago and due again later.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts) VALUES ({0}, 1, x'0a0c', x'7b7d', 5), ({1}, 1, x'0a0d', x'7b7d', 1)",
            PreparedCommands.Text(now.AddDays(-3)), PreparedCommands.Text(now.AddSeconds(-90))));
        lag.RecordObservableInstruments();

        Assert.Equal(90, lag.LastMeasurement?.Value);
    }

    [Fact]
    public async Task WebhookLagCountsADeliveryStillInTheInboxFileAndTheOlderOfTheTwoPlaces()
    {
        await using var server = new TwaBotApiFactory();
        using var waiting = Collector(server, "twabot.webhooks.waiting");
        using var lag = DoubleCollector(server, "twabot.webhooks.lag");
        await server.ApplyWebhooksAsync();
        // The main database refuses the move (as a full disk would), so the delivery waits in the inbox file; the
        // event stored below (event_time 1) still goes in.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_move BEFORE INSERT ON webhook_events WHEN NEW.event_time <> 1 BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
        var delivery = MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange("996",
            statuses: [MetaPayloads.Status("wamid.waiting", "sent", server.Clock.GetUtcNow())])));
        (await server.PostWebhookAsync(delivery)).EnsureSuccessStatusCode();
        server.Clock.Advance(TimeSpan.FromSeconds(60));

        waiting.RecordObservableInstruments();
        lag.RecordObservableInstruments();
        var inboxOnly = lag.LastMeasurement?.Value;
        // A stored event that failed once, received 90 s ago: older than the delivery in the inbox file.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts) VALUES ({0}, 1, x'0a0e', x'7b7d', 1)",
            PreparedCommands.Text(server.Clock.GetUtcNow().UtcDateTime.AddSeconds(-90))));
        lag.RecordObservableInstruments();

        Assert.Equal(1, waiting.LastMeasurement?.Value);
        Assert.Equal(60, inboxOnly);
        Assert.Equal(90, lag.LastMeasurement?.Value);
    }

    [Fact]
    public async Task TheInboxFilesGaugesCountEveryDeliveryWaitingThereAndAgeTheFirst()
    {
        await using var server = new TwaBotApiFactory();
        using var waiting = Collector(server, "twabot.webhooks.waiting");
        using var lag = DoubleCollector(server, "twabot.webhooks.lag");
        await server.ApplyWebhooksAsync();
        // The main database refuses every move (as a full disk would), so the deliveries wait in the inbox file.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
            "CREATE TRIGGER refuse_move BEFORE INSERT ON webhook_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
        foreach (var wamid in new[] { "wamid.first", "wamid.second", "wamid.third" })
        {
            var delivery = MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange("996",
                statuses: [MetaPayloads.Status(wamid, "sent", server.Clock.GetUtcNow())])));
            (await server.PostWebhookAsync(delivery)).EnsureSuccessStatusCode();
            server.Clock.Advance(TimeSpan.FromSeconds(30));
        }

        waiting.RecordObservableInstruments();
        lag.RecordObservableInstruments();
        Assert.Equal(3, waiting.LastMeasurement?.Value);
        Assert.Equal(90, lag.LastMeasurement?.Value);

        // Once moved, they leave the inbox file: none waits, nothing lags.
        await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync("DROP TRIGGER refuse_move"));
        await server.ApplyWebhooksAsync();
        waiting.RecordObservableInstruments();
        lag.RecordObservableInstruments();
        Assert.Equal(0, waiting.LastMeasurement?.Value);
        Assert.Equal(0, lag.LastMeasurement?.Value);
    }

    [Fact]
    public async Task ReadingTheGaugesDoesNotCreateADeletedDatabaseAgain()
    {
        // A gauge read at each export used to open the missing file with SQLite's create mode: an empty database
        // took its place, and /healthz, which reports the file missing, turned healthy again.
        await using var server = new TwaBotApiFactory();
        using var unapplied = Collector(server, "twabot.webhooks.unapplied");
        using var lag = DoubleCollector(server, "twabot.webhooks.lag");
        await server.ApplyWebhooksAsync();
        // The sweeps' runs at start open the database too; on a loaded machine one ran after the delete and created it.
        var sweeps = server.Services.GetServices<IHostedService>().OfType<PeriodicSweep>().ToList();
        Assert.NotEmpty(sweeps);
        await Task.WhenAll(sweeps.Select(s => s.FirstRun)).WaitAsync(Poll.Limit);
        File.Delete(server.DatabasePath);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // a pooled connection would still read the deleted file

        unapplied.RecordObservableInstruments();
        lag.RecordObservableInstruments();

        Assert.False(File.Exists(server.DatabasePath));
        Assert.Null(unapplied.LastMeasurement); // no measurement, not a count of 0 nor a lag of 0
        Assert.Null(lag.LastMeasurement);
        using var client = server.CreateClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/healthz")).StatusCode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the inbox file's oldest delivery counts as much as the database's
    public async Task AReceiptTimeThatCannotBeReadGivesNoLagMeasurementRatherThanZero(bool inInboxFile)
    {
        // A lag of 0 would tell an operator nothing is behind; no measurement says the gauge could not tell.
        await using var server = new TwaBotApiFactory();
        using var lag = DoubleCollector(server, "twabot.webhooks.lag");
        await server.ApplyWebhooksAsync();
        if (inInboxFile)
        {
            // Kept in the inbox file: the processor cannot move it on.
            await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
                "CREATE TRIGGER refuse_move BEFORE INSERT ON webhook_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"));
            await using var inbox = new Microsoft.Data.Sqlite.SqliteConnection(server.Services.GetRequiredService<WebhookInboxFile>().Connections.ConnectionString);
            await inbox.OpenAsync();
            await using var insert = inbox.CreateCommand();
            insert.CommandText = "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ('yesterday', x'0a0b', x'7b7d')";
            await insert.ExecuteNonQueryAsync();
        }
        else
        {
            await server.WithDbAsync(db => db.Database.ExecuteSqlRawAsync(
                "INSERT INTO webhook_events (received_at, event_time, body_sha256, body, attempts) VALUES ('yesterday', 1, x'0a0b', x'7b7d', 1)"));
        }

        lag.RecordObservableInstruments();

        Assert.Null(lag.LastMeasurement);
    }

    [Fact]
    public async Task ASendRefusedForStorageIsCountedAsSuchAndAsAStorageFault()
    {
        await using var server = new ShortBusyWaitServer();
        using var sends = Collector(server, "twabot.sends");
        using var faults = Collector(server, "twabot.storage.faults");
        var tenant = await server.CreateSendingTenantAsync();
        (await tenant.Client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode(); // the key's last use written, not due again this minute
        await using var held = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        var refused = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"));
        await held.ReleaseAsync();

        await refused.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
        Assert.Equal(["send-template STORAGE_UNAVAILABLE"], sends.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.endpoint"]} {m.Tags["twabot.result"]}"));
        Assert.Single(faults.GetMeasurementSnapshot(), m => (string?)m.Tags["twabot.storage.source"] == "request"); // once for the one refused request
    }

    [Fact]
    public async Task OpenBreakersAreCountedUntilTheirNumberWorksAgain()
    {
        await using var server = ServerWithABreakerPause();
        using var open = Collector(server, "twabot.meta.breakers.open");
        var failing = await server.CreateSendingTenantAsync();
        var other = await server.CreateSendingTenantAsync();
        open.RecordObservableInstruments();
        Assert.Equal(0, open.LastMeasurement?.Value);

        await OpenTheBreakerAsync(failing);

        await (await other.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).ReadJsonAsync(HttpStatusCode.OK);
        open.RecordObservableInstruments();
        Assert.Equal(1, open.LastMeasurement?.Value); // the failing business's number only

        // The break is on the real clock: refused (503, nothing sent) until it ends, then the call that closes the breaker.
        await Poll.UntilAsync(async () => (await failing.Client.PostAsJsonAsync("/api/v1/send-template", Order("919876543210"))).IsSuccessStatusCode,
            "the failing business's breaker to let a send through after its pause", interval: TimeSpan.FromMilliseconds(250));
        open.RecordObservableInstruments();
        Assert.Equal(0, open.LastMeasurement?.Value);
        // The log's lines for it (operations.md, Metrics): one as it opened, one as it closed, not one per refused send.
        Assert.Single(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Meta has been failing for WhatsApp number", StringComparison.Ordinal));
        Assert.Single(server.Logs.Events, e => e.MessageTemplate.Text.StartsWith("Calls to Meta for WhatsApp number", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABreakerIsNoLongerCountedOnceItsPauseEndsThoughNothingWasSentSince()
    {
        // Polly half-opens a breaker only when a call comes; a business that stopped sending would stay "paused" for ever.
        await using var server = ServerWithABreakerPause();
        using var open = Collector(server, "twabot.meta.breakers.open");
        var failing = await server.CreateSendingTenantAsync();
        await OpenTheBreakerAsync(failing);

        var opened = System.Diagnostics.Stopwatch.StartNew();
        open.RecordObservableInstruments();
        Assert.Equal(1, open.LastMeasurement?.Value);

        await Poll.UntilAsync(() =>
        {
            open.RecordObservableInstruments();
            return open.LastMeasurement?.Value == 0;
        }, "the breaker's pause to end on the gauge");
        Assert.True(opened.Elapsed > TimeSpan.FromSeconds(1), "counted as paused until its pause ended, not from the start");
    }

    /// <summary>
    /// Long enough that a loaded machine still finds the breaker open after the sends that follow its opening (a 1 s pause
    /// had ended before the next send's answer was read), short enough to wait for its end.
    /// </summary>
    private static readonly TimeSpan BreakerPause = TimeSpan.FromSeconds(5);

    /// <summary>A server whose breakers open after two calls with half of them failing, and pause for <see cref="BreakerPause"/>.</summary>
    private static TwaBotApiFactory ServerWithABreakerPause() => new(new Dictionary<string, string?>
    {
        ["TwaBot:Meta:Resilience:BreakerMinimumThroughput"] = "2",
        ["TwaBot:Meta:Resilience:BreakerFailureRatio"] = "0.5",
        ["TwaBot:Meta:Resilience:BreakerBreakSeconds"] = BreakerPause.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    /// <summary>Sends to the emulator's failing number until the tenant's breaker opens (the third answers fast).</summary>
    private static async Task OpenTheBreakerAsync(SendingTenant tenant)
    {
        for (var i = 0; i < 3; i++)
        {
            await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order("91987654" + MagicNumbers.ServerError));
        }
    }

    [Fact]
    public void TheGaugeForgetsAnEndedPauseAndCountsABreakerReopenedWithItsNewPause()
    {
        // No waiting: a pause of zero has ended by the time the gauge is read, a pause of an hour has not.
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = services.GetRequiredService<IMeterFactory>();
        var metrics = new TwaBotMetrics(meters);
        using var open = new MetricCollector<long>(meters, TwaBotMetrics.MeterName, "twabot.meta.breakers.open");
        long Open()
        {
            open.RecordObservableInstruments();
            return open.LastMeasurement!.Value;
        }

        metrics.BreakerOpened("919800000001", TimeSpan.Zero);
        Assert.Equal(0, Open()); // its pause is over, though Polly has heard of no call since
        metrics.BreakerOpened("919800000002", TimeSpan.Zero);
        metrics.BreakerOpened("919800000002", TimeSpan.FromHours(1)); // reopened before the gauge was read: the new pause counts
        Assert.Equal(1, Open());
        metrics.BreakerOpened("919800000001", TimeSpan.FromHours(1)); // reopened after its ended pause was forgotten
        Assert.Equal(2, Open());
        metrics.BreakerPauseEnded("919800000002");
        Assert.Equal(1, Open());
    }

    [Fact]
    public async Task TheOperationsGuideListsEachInstrumentWithItsUnit()
    {
        var published = new ConcurrentBag<(string Name, string? Unit)>();
        var meters = factory.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == TwaBotMetrics.MeterName && instrument.Meter.Scope == meters)
                {
                    published.Add((instrument.Name, instrument.Unit));
                }
            },
        };
        listener.Start();
        var documented = System.Text.RegularExpressions.Regex.Matches(
                await File.ReadAllTextAsync(Repository.PathOf("docs/operations.md")), @"^\| `(twabot\.[a-z._]+)` \| [a-z]+, `([^`]+)` \|",
                System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, (string?)m.Groups[2].Value));

        Assert.Equal(documented.Order(), published.Distinct().Order());
    }

    [Fact]
    public async Task NoValueACallerSendsBecomesATagOfAnExportedMetric()
    {
        // Each distinct tag value is a series of its own in a metrics store: one taken from requests would let anyone
        // with a script grow it without bound, and would put phone numbers there.
        await using var server = new TwaBotApiFactory();
        var meters = server.Services.GetRequiredService<IMeterFactory>();
        var tagValues = new ConcurrentBag<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter.Scope == meters && TwaBotMetricsExtensions.ExportedMeters.Contains(instrument.Meter.Name))
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record<T>(System.Diagnostics.Metrics.Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        {
            foreach (var tag in tags)
            {
                tagValues.Add($"{tag.Key}={tag.Value}");
            }
        }

        listener.SetMeasurementEventCallback<long>(Record);
        listener.SetMeasurementEventCallback<double>(Record);
        listener.SetMeasurementEventCallback<int>(Record);
        listener.Start();
        var tenant = await server.CreateSendingTenantAsync();
        using var anonymous = server.CreateClient();
        using var admin = server.CreateAdminClient();
        var sent = new List<string>();
        string Sent(string value)
        {
            sent.Add(value);
            return value;
        }

        string Token() => Sent($"zq{sent.Count}x{Random.Shared.Next(100_000, 999_999)}");
        string Phone() => Sent($"91987{Random.Shared.Next(1_000_000, 9_999_999)}");

        for (var i = 0; i < 5; i++)
        {
            await anonymous.GetAsync($"/{Token()}/{Token()}");
            using var method = new HttpRequestMessage(new HttpMethod(Token().ToUpperInvariant()), "/api/v1/health");
            await anonymous.SendAsync(method);
            using var wrongKey = server.CreateApiClient($"twb_test_{Token()}{new string('W', 40)}");
            await wrongKey.GetAsync("/api/v1/health");
            await tenant.Client.GetAsync($"/api/v1/quick-send?phone={Phone()}&template={Token()}&params={Token()}");
            using var send = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
            {
                Content = JsonContent.Create(new { phone = Phone(), template_name = Token(), body_params = new[] { Token() } }),
            };
            send.Headers.Add("Idempotency-Key", Token());
            await tenant.Client.SendAsync(send);
            await tenant.Client.PostAsJsonAsync("/api/v1/send-template", Order(Phone()));
            await tenant.Client.GetAsync($"/api/v1/message-status/{Token()}");
            await admin.GetAsync($"/admin/v1/businesses/{Random.Shared.Next(1000, 999_999)}/templates");
            await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/{Phone()}");
            await anonymous.GetAsync($"/webhooks/meta?hub.mode=subscribe&hub.verify_token={Token()}&hub.challenge={Token()}");
            await server.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(Phone(),
                statuses: [MetaPayloads.Status("wamid." + Token(), "delivered", server.Clock.GetUtcNow(), Phone())]))));
        }

        await server.ApplyWebhooksAsync();

        Assert.Contains("twabot.result=accepted", tagValues); // sends were counted
        Assert.Contains("http.route=/api/v1/quick-send", tagValues); // and requests
        Assert.All(sent, value => Assert.DoesNotContain(tagValues, tag => tag.Contains(value, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task WaitingDeliveriesAreTheRowsOfTheInboxFile()
    {
        using var database = new TemporaryDatabase();
        var inbox = new WebhookInboxFile(new SqliteConnections($"Data Source={database.Path}"));
        await inbox.EnsureCreatedAsync(default);
        await using (var connection = await inbox.Connections.OpenAsync(default))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO webhook_inbox (received_at, body_sha256, body) VALUES ('2026-11-26', x'01', x'7b7d'), ('2026-11-26', x'02', x'7b7d')";
            await command.ExecuteNonQueryAsync();
        }

        Assert.Equal(2, Assert.Single(WebhookBacklog.Count(inbox.Connections, "SELECT count(*) FROM webhook_inbox")).Value);
        Assert.Empty(WebhookBacklog.Count(inbox.Connections, "SELECT count(*) FROM no_such_table")); // unreadable: no measurement
    }

    private MetricCollector<long> Collector(string instrument) => Collector(factory, instrument);

    private static MetricCollector<long> Collector(TwaBotApiFactory server, string instrument) =>
        new(server.Services.GetRequiredService<IMeterFactory>(), TwaBotMetrics.MeterName, instrument);

    private static MetricCollector<double> DoubleCollector(TwaBotApiFactory server, string instrument) =>
        new(server.Services.GetRequiredService<IMeterFactory>(), TwaBotMetrics.MeterName, instrument);

    private static object Order(string phone) => new { phone, template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };
}
