using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Polly;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Meta;

/// <summary>Each resilience rule against a scripted upstream: what is retried, what is never, and the breaker.</summary>
public class MetaResilienceTests
{
    private static readonly MetaOutgoingMessage Text = MetaOutgoingMessage.Text("919876543210", "hi", "twb:1");

    [Fact]
    public async Task ConnectionRefusedIsRetriedTwiceThenUnavailable()
    {
        // The fake never starts listening: every connection is refused, so no request reached Meta.
        await using var meta = await FakeMetaUpstream.StartAsync(listen: false);

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.Contains("ConnectionError", failure.Description, StringComparison.Ordinal);
        Assert.Equal(3, meta.Attempts);
    }

    [Theory]
    [InlineData("SecureConnectionError")] // the client speaks TLS to a plain listener: the handshake fails
    [InlineData("NameResolutionError")]   // no address for Meta's host name: no connection at all
    public async Task AFailedTlsHandshakeOrNameLookupIsRetriedLikeARefusedConnectionAndSaysMetaWasNotReached(string error)
    {
        // Either fails before any request byte is sent, so Meta cannot have the message: retrying is safe, and "may have
        // been sent" would be untrue.
        await using var meta = await FakeMetaUpstream.StartAsync(
            clientSpeaksTls: error == "SecureConnectionError", hostNotFound: error == "NameResolutionError");

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.False(failure.MayHaveBeenSent);
        Assert.Contains($"could not be reached ({error})", failure.Description, StringComparison.Ordinal);
        Assert.Equal(3, meta.Attempts);
        Assert.Empty(meta.Calls);
    }

    [Theory]
    [InlineData(200)]
    [InlineData(400)]
    public async Task AnAnswerFarLargerThanMetasIsRefusedNotHeldInMemory(int status)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        var huge = "{\"error\":{\"code\":100,\"message\":\"" + new string('x', MetaClientExtensions.MaxAnswerBytes + 1) + "\"}}";
        meta.Reply(FakeMetaUpstream.Json(status, huge));

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        // Meta may have taken the message (the answer came), so it is not reported as refused either.
        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.True(failure.MayHaveBeenSent);
        Assert.Equal(1, meta.Attempts);
    }

    [Theory]
    [InlineData(130429)]
    [InlineData(80007)]
    [InlineData(4)]
    public async Task ThrottlingIsRetriedAndThenSucceeds(int code)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(400, code, "Rate limit hit"), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.IsType<MetaSendResult.Accepted>(result);
        Assert.Equal(2, meta.Calls.Count);
    }

    [Fact]
    public async Task RetryAfterFromMetaIsHonoured()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(429, """{"error":{"message":"slow down","code":130429}}""", retryAfter: "1"), FakeMetaUpstream.Accepted());
        var clock = Stopwatch.StartNew();

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.IsType<MetaSendResult.Accepted>(result);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(900), $"retried after {clock.Elapsed}");
    }

    [Fact]
    public async Task PersistentThrottlingEndsAsARejectionAfterTwoRetries()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(400, 130429), FakeMetaUpstream.Error(400, 130429), FakeMetaUpstream.Error(400, 130429), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.Equal(130429, failure.Error!.Code);
        Assert.Equal(3, meta.Calls.Count);
    }

    [Fact]
    public async Task A500IsNeverRetriedBecauseTheSendMayHaveGoneOut()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(500, 131000, "Something went wrong"), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.Equal(131000, failure.Error?.Code);
        Assert.True(failure.MayHaveBeenSent); // Meta: a 5xx is "outcome unknown"
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task AConnectionClosedCleanlyAfterMetaReadTheSendIsNeverSentAgain()
    {
        // Meta (or a proxy before it) read the whole send on a pooled connection, then closed its side in order, without
        // answering. To the client that reads like a pooled connection closed before the request, which HttpClient's
        // handler may send again on its own; the send may have gone out, so neither it nor the pipeline may resend it.
        // (A reset instead of a close: LiveMetaAnswersTests.AnAnswerLostAfterTheSendWentOutIsNotCalledUnreachable.)
        await using var meta = await FakeMetaUpstream.StartAsync(listen: false);
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, meta.GraphBaseUrl.Port);
        listener.Start();
        var received = 0;
        var serving = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await listener.AcceptSocketAsync();
                await using var stream = new System.Net.Sockets.NetworkStream(socket);
                while (await ReadRequestAsync(stream))
                {
                    if (Interlocked.Increment(ref received) == 2)
                    {
                        socket.Shutdown(System.Net.Sockets.SocketShutdown.Send); // FIN, no answer
                        await ReadRequestAsync(stream); // until the client closes its side
                        break;
                    }

                    var body = """{"messaging_product":"whatsapp","messages":[{"id":"wamid.first"}]}"""u8.ToArray();
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                        $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
                    await stream.WriteAsync(body);
                }
            }
        });

        try
        {
            Assert.IsType<MetaSendResult.Accepted>(await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default));
            var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

            var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
            Assert.True(failure.MayHaveBeenSent);
            Assert.Equal(2, Volatile.Read(ref received));
        }
        finally
        {
            listener.Stop();
        }

        static async Task<bool> ReadRequestAsync(System.Net.Sockets.NetworkStream stream)
        {
            // Headers to the blank line, then Content-Length bytes of body; false when the client closed the connection.
            var head = new List<byte>();
            var one = new byte[1];
            while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
            {
                if (await stream.ReadAsync(one) == 0)
                {
                    return false;
                }

                head.Add(one[0]);
            }

            var length = System.Text.Encoding.ASCII.GetString([.. head]).Split("\r\n")
                .Where(line => line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                .Select(line => int.Parse(line["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture)).FirstOrDefault();
            await stream.ReadExactlyAsync(new byte[length]);
            return true;
        }
    }

    [Fact]
    public async Task AnAttemptTimeoutIsNeverRetried()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.AttemptTimeoutSeconds = 0.3);
        meta.Reply(FakeMetaUpstream.Json(200, "{}", delay: TimeSpan.FromSeconds(2)), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.Equal(1, meta.Attempts); // counted by the client: a loaded machine may cut the attempt before the fake records it
        // An operator sees why the caller got "may still be delivered", not only the 502.
        Assert.Contains(meta.ClientLogLines, line => line.StartsWith("Meta did not answer in time", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(131056)]
    [InlineData(131047)]
    [InlineData(132001)]
    public async Task BusinessRefusalsAreAnsweredOnceAsRejections(int code)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(400, code), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Equal(MetaFailureKind.Rejected, Assert.IsType<MetaSendResult.Failed>(result).Failure.Kind);
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task RepeatedFailuresOpenTheBreakerWhichThenAnswersAtOnce()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.BreakerMinimumThroughput = 5);
        for (var i = 0; i < 5; i++)
        {
            meta.Reply(FakeMetaUpstream.Error(503, 2, "Service temporarily unavailable"));
            await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        }

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.CircuitOpen, failure.Kind);
        Assert.NotNull(failure.RetryAfter);
        Assert.Equal(5, meta.Calls.Count);
        Assert.Equal(5, meta.Attempts); // "at once": not even a connection tried, so nothing to wait for (not timed: a loaded machine pauses threads)
    }

    [Theory]
    [InlineData(500)]
    [InlineData(504)]
    public async Task EveryServerErrorCountsTowardsTheBreaker(int status)
    {
        // Meta's own unknown errors (code 1 or 2) come as HTTP 500, not only as 503.
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.BreakerMinimumThroughput = 2);
        meta.Reply(FakeMetaUpstream.Error(status, 1, "An unknown error occurred"), FakeMetaUpstream.Error(status, 1, "An unknown error occurred"));
        await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Equal(MetaFailureKind.CircuitOpen, Assert.IsType<MetaSendResult.Failed>(result).Failure.Kind);
        Assert.Equal(2, meta.Calls.Count);
    }

    [Fact]
    public async Task AnOpeningBreakerIsLoggedOnceNamingTheNumber()
    {
        // Polly's own lines are silenced: without ours, a number whose sends all answer 503 showed nothing but 503s.
        await using var meta = await FakeMetaUpstream.StartAsync(o => (o.BreakerMinimumThroughput, o.BreakerBreakSeconds) = (2, 15));
        meta.Reply(FakeMetaUpstream.Error(503, 2), FakeMetaUpstream.Error(503, 2));
        for (var i = 0; i < 3; i++)
        {
            await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        }

        var number = FakeMetaUpstream.Connection.PhoneNumberId;
        Assert.Single(meta.ClientLogLines, line => line.StartsWith($"Meta has been failing for WhatsApp number {number}: its calls are paused for 15 s", StringComparison.Ordinal));
        Assert.Equal(2, meta.ClientLogLines.Count(line => line.StartsWith("Meta failed a call: HTTP 503", StringComparison.Ordinal)
            && line.Contains($"for WhatsApp number {number};", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task MetasRefusalIsLoggedNamingTheNumber()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(400, 131047));

        await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Contains(meta.ClientLogLines, line => line.StartsWith("Meta refused a call: HTTP 400, code 131047", StringComparison.Ordinal)
            && line.EndsWith($"for WhatsApp number {FakeMetaUpstream.Connection.PhoneNumberId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BusinessRefusalsNeverOpenTheBreaker()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.BreakerMinimumThroughput = 5);
        for (var i = 0; i < 10; i++)
        {
            meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token"));
            await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        }

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.IsType<MetaSendResult.Accepted>(result);
        Assert.Equal(11, meta.Calls.Count);
    }

    [Fact]
    public async Task MaxRetriesZeroMeansOneAttempt()
    {
        // Polly's retry refuses fewer than one attempt; 0 used to make every call to Meta throw (a 500 on every send).
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.MaxRetries = 0);
        meta.Reply(FakeMetaUpstream.Error(400, 130429, "Rate limit hit"), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.True(Assert.IsType<MetaSendResult.Failed>(result).Failure.IsThrottling);
        Assert.Single(meta.Calls);
    }

    /// <summary>The bounds the start-up validation accepts, each of which Polly must accept too.</summary>
    public static TheoryData<string, double> AcceptedBounds => new()
    {
        { nameof(MetaResilienceOptions.AttemptTimeoutSeconds), 0.01 },
        { nameof(MetaResilienceOptions.AttemptTimeoutSeconds), 120 },
        { nameof(MetaResilienceOptions.TotalTimeoutSeconds), 300 },
        { nameof(MetaResilienceOptions.MaxRetries), 0 },
        { nameof(MetaResilienceOptions.MaxRetries), 5 },
        { nameof(MetaResilienceOptions.RetryBaseDelayMilliseconds), 0 },
        { nameof(MetaResilienceOptions.RetryBaseDelayMilliseconds), 60_000 },
        { nameof(MetaResilienceOptions.BreakerFailureRatio), 0.001 },
        { nameof(MetaResilienceOptions.BreakerFailureRatio), 1 },
        { nameof(MetaResilienceOptions.BreakerMinimumThroughput), 2 },
        { nameof(MetaResilienceOptions.BreakerMinimumThroughput), int.MaxValue },
        { nameof(MetaResilienceOptions.BreakerSamplingSeconds), 0.5 },
        { nameof(MetaResilienceOptions.BreakerSamplingSeconds), 86_400 },
        { nameof(MetaResilienceOptions.BreakerBreakSeconds), 0.5 },
        { nameof(MetaResilienceOptions.BreakerBreakSeconds), 86_400 },
    };

    [Theory]
    [MemberData(nameof(AcceptedBounds))]
    public void EveryValueTheStartUpCheckAcceptsBuildsThePipeline(string option, double value)
    {
        var options = new TwaBotOptions();
        var property = typeof(MetaResilienceOptions).GetProperty(option)!;
        property.SetValue(options.Meta.Resilience, Convert.ChangeType(value, property.PropertyType, CultureInfo.InvariantCulture));
        var resilience = options.Meta.Resilience;
        if (option == nameof(MetaResilienceOptions.AttemptTimeoutSeconds))
        {
            // The total is at least one attempt; the shortest comes with the longest retry delay.
            (resilience.TotalTimeoutSeconds, resilience.RetryBaseDelayMilliseconds) = value < 1 ? (value, 60_000) : (300, resilience.RetryBaseDelayMilliseconds);
        }

        Assert.Empty(ConfigurationProblems(options));
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        MetaResilience.Configure(builder, resilience);
        Assert.NotNull(builder.Build());
    }

    private static IEnumerable<string> ConfigurationProblems(TwaBotOptions options)
    {
        var configuration = new ConfigurationBuilder().Build();
        var services = new ServiceCollection()
            .AddSingleton<IHostEnvironment>(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Development" })
            .AddTwaBotOptions(configuration);
        using var provider = services.BuildServiceProvider();
        var validator = provider.GetRequiredService<IValidateOptions<TwaBotOptions>>();
        return validator.Validate(null, options).Failures ?? [];
    }

    [Fact]
    public async Task ARetryAfterLongerThanTheRetriesCouldWaitIsAnsweredAtOnce()
    {
        // Waiting 60 s would outlast the total timeout, and end as "Meta did not answer" after 20 s.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(400, """{"error":{"message":"slow down","code":130429}}""", retryAfter: "60"), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.True(failure.IsThrottling);
        Assert.Equal(TimeSpan.FromSeconds(60), failure.RetryAfter);
        Assert.Single(meta.Calls); // and not ended by the total timeout, which would read as unavailable, not as this refusal
    }

    [Fact]
    public async Task RetriesStopWhenTheirWaitsWouldOutlastTheTotalTimeout()
    {
        // Each wait fits, but two of them and the attempts do not: the total timeout would end the call as
        // "no answer, may have been sent", although Meta refused each time.
        // (Seconds, not fractions: on a loaded machine an attempt of its own can take more than a second, and one
        // cut off by its own timeout would read as "no answer" too.)
        await using var meta = await FakeMetaUpstream.StartAsync(o => (o.TotalTimeoutSeconds, o.AttemptTimeoutSeconds) = (6, 2.5));
        var throttled = FakeMetaUpstream.Json(400, """{"error":{"message":"slow down","code":130429}}""", retryAfter: "3");
        meta.Reply(throttled, throttled, throttled);

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.True(failure.IsThrottling);
        Assert.InRange(meta.Calls.Count, 1, 2); // 1 when a first attempt slower than half a second left no room for a retry
    }

    [Fact]
    public async Task OurOwnBackoffCountsWhenNoRetryAfterIsGiven()
    {
        // Without Retry-After the next wait is our backoff: 12 s and a 5 s attempt do not fit in 15 s, so the refusal is
        // answered at once instead of ending in the total timeout as "no answer, may have been sent".
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.RetryBaseDelayMilliseconds = 12_000);
        var throttled = FakeMetaUpstream.Json(400, """{"error":{"message":"slow down","code":130429}}""");
        meta.Reply(throttled, throttled, throttled);

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.True(failure.IsThrottling);
        Assert.Equal(1, meta.Attempts);
    }

    [Fact]
    public async Task TheSecondRetrysDoubledBackoffIsCountedBeforeItIsMade()
    {
        // Meta's first refusal says wait 1 s; the second says nothing, so our backoff's second step (2 × 6 s) is the wait:
        // with a 5 s attempt it does not fit in what is left of 15 s, so the refusal is answered rather than timed out.
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.RetryBaseDelayMilliseconds = 6_000);
        meta.Reply(
            FakeMetaUpstream.Json(429, """{"error":{"message":"slow down","code":130429}}""", retryAfter: "1"),
            FakeMetaUpstream.Json(400, """{"error":{"message":"slow down","code":130429}}"""),
            FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.True(failure.IsThrottling);
        Assert.Equal(2, meta.Calls.Count);
    }

    [Theory]
    [InlineData(131056)] // one recipient's pair limit: retrying at once only hits it again
    [InlineData(131048)] // spam limit: never retried automatically
    public async Task AnHttp429WithACodeThatIsNotThroughputIsNotRetried(int code)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(429, code), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Equal(code, Assert.IsType<MetaSendResult.Failed>(result).Failure.Error?.Code);
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task AnHttp429WithoutMetasErrorIsThrottlingAfterItsRetries()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(429, "Too Many Requests"), FakeMetaUpstream.Json(429, "Too Many Requests"), FakeMetaUpstream.Json(429, "Too Many Requests"));

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.True(failure.IsThrottling);
        Assert.False(failure.MayHaveBeenSent);
        Assert.Equal(3, meta.Calls.Count);
    }

    [Fact]
    public async Task AnAnswerThatTricklesInTimesOutLikeOneThatNeverCame()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.AttemptTimeoutSeconds = 0.5);
        meta.Reply(FakeMetaUpstream.Trickle("""{"messages":[{"id":"wamid.slow"}]}""", TimeSpan.FromMilliseconds(200)));

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Unavailable, failure.Kind);
        Assert.True(failure.MayHaveBeenSent);
        Assert.Equal(1, meta.Attempts); // not timed: the trickle, read to its end in 7 s, would be accepted
    }

    [Theory]
    [InlineData(302)]
    [InlineData(307)] // would post the message a second time
    public async Task ARedirectIsNotFollowed(int status)
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Redirect(status, "/elsewhere"), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.IsType<MetaSendResult.Failed>(result);
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task AnHttp400WithoutMetasErrorIsAnsweredOnce()
    {
        // Not Meta's throughput refusal (a proxy's page, say): only a 429 without Meta's code is retried.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(400, "Bad Request"), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.IsType<MetaSendResult.Failed>(result);
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task ARetryIsNotMadeWhenItsAttemptCouldOutlastTheTotalTimeout()
    {
        // The wait (2 s) fits in the total (4 s), but not with the next attempt's own timeout (3 s): that attempt,
        // slow here, would end in the total timeout as "no answer, may have been sent", although Meta refused.
        // (Whole seconds: the first attempt has 3 s to answer even on a loaded machine.)
        await using var meta = await FakeMetaUpstream.StartAsync(o => (o.TotalTimeoutSeconds, o.AttemptTimeoutSeconds) = (4, 3));
        meta.Reply(
            FakeMetaUpstream.Json(400, """{"error":{"message":"slow down","code":130429}}""", retryAfter: "2"),
            FakeMetaUpstream.Json(400, """{"error":{"message":"slow down","code":130429}}""", delay: TimeSpan.FromSeconds(2.5)));

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.Equal(MetaFailureKind.Rejected, failure.Kind);
        Assert.False(failure.MayHaveBeenSent);
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task ARetryAfterGivenAsADateIsRead()
    {
        // HTTP allows Retry-After as a date too; a date far off is answered at once, carrying the wait.
        await using var meta = await FakeMetaUpstream.StartAsync();
        var date = DateTimeOffset.UtcNow.AddMinutes(2).ToString("R", CultureInfo.InvariantCulture);
        meta.Reply(FakeMetaUpstream.Json(429, """{"error":{"message":"slow down","code":130429}}""", retryAfter: date), FakeMetaUpstream.Accepted());

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.True(failure.IsThrottling);
        Assert.InRange(failure.RetryAfter ?? TimeSpan.Zero, TimeSpan.FromSeconds(100), TimeSpan.FromSeconds(120));
        Assert.Single(meta.Calls);
    }

    [Fact]
    public async Task ARetryAfterDateAlreadyPastIsPassedOnAsNoWait()
    {
        // A clock behind Meta's (or a cached answer) makes the date past: the wait is none, never a negative one.
        await using var meta = await FakeMetaUpstream.StartAsync();
        var past = DateTimeOffset.UtcNow.AddHours(-1).ToString("R", CultureInfo.InvariantCulture);
        var throttled = FakeMetaUpstream.Json(429, """{"error":{"message":"slow down","code":130429}}""", retryAfter: past);
        meta.Reply(throttled, throttled, throttled);

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.True(failure.IsThrottling);
        Assert.Equal(TimeSpan.Zero, failure.RetryAfter);
    }

    [Theory]
    [InlineData("999999999")]                     // some 31 years
    [InlineData("Fri, 31 Dec 9999 23:59:59 GMT")] // the last date HTTP can write
    public async Task ARetryAfterOfMoreThanAnHourIsPassedOnAsAnHour(string retryAfter)
    {
        // Whatever stands at Meta's address may say anything; a CRM that obeys the answer's retry_after_seconds would stop
        // sending for years. Meta's own throttling waits are seconds to minutes.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Json(429, """{"error":{"message":"slow down","code":130429}}""", retryAfter: retryAfter));

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        var failure = Assert.IsType<MetaSendResult.Failed>(result).Failure;
        Assert.True(failure.IsThrottling);
        Assert.Equal(MetaResilience.LongestRetryAfter, failure.RetryAfter);
        Assert.Equal(TimeSpan.FromHours(1), MetaResilience.LongestRetryAfter);
    }

    [Fact]
    public async Task ConnectionFailuresOpenTheBreakerToo()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.BreakerMinimumThroughput = 5, listen: false);
        for (var i = 0; i < 2; i++)
        {
            await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        }

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Equal(MetaFailureKind.CircuitOpen, Assert.IsType<MetaSendResult.Failed>(result).Failure.Kind);
        Assert.Equal(5, meta.Attempts); // three for the first call, two for the second before the breaker opened
    }

    [Fact]
    public async Task TimeoutsOpenTheBreakerToo()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => (o.BreakerMinimumThroughput, o.AttemptTimeoutSeconds) = (2, 0.2));
        var slow = FakeMetaUpstream.Json(200, "{}", delay: TimeSpan.FromSeconds(1));
        meta.Reply(slow, slow);
        for (var i = 0; i < 2; i++)
        {
            await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        }

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Equal(MetaFailureKind.CircuitOpen, Assert.IsType<MetaSendResult.Failed>(result).Failure.Kind);
        Assert.Equal(2, meta.Attempts); // the third never left; a cut-off attempt may not reach the fake's record
    }

    [Fact]
    public async Task TemplateListsTheirCallerGaveUpOnNeverOpenTheBreaker()
    {
        // An admin who closes the page mid-sync cancels the list at Meta: no sign that Meta is failing, so the number's
        // sends must not be paused (answered 503) for it.
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.BreakerMinimumThroughput = 2);
        var slow = FakeMetaUpstream.Json(200, "{\"data\":[]}", delay: TimeSpan.FromSeconds(4));
        meta.Reply(slow, slow);
        for (var i = 1; i <= 2; i++)
        {
            using var hangUp = new CancellationTokenSource();
            var listing = meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, hangUp.Token);
            var atMeta = i;
            await Poll.UntilAsync(() => meta.Calls.Count == atMeta, "the template list at Meta");
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listing);
        }

        var result = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.IsType<MetaSendResult.Accepted>(result);
        Assert.Equal(3, meta.Calls.Count);
    }

    [Fact]
    public async Task AnOpenBreakerLetsACallThroughAfterItsBreak()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => (o.BreakerMinimumThroughput, o.BreakerBreakSeconds) = (2, 2)); // long enough that a loaded machine still finds it open
        meta.Reply(FakeMetaUpstream.Error(503, 2), FakeMetaUpstream.Error(503, 2));
        for (var i = 0; i < 2; i++)
        {
            await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        }

        var open = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the pipeline keeps the system clock (MetaResilience)
        var after = await meta.Client.SendAsync(FakeMetaUpstream.Connection, Text, default);

        Assert.Equal(MetaFailureKind.CircuitOpen, Assert.IsType<MetaSendResult.Failed>(open).Failure.Kind);
        Assert.IsType<MetaSendResult.Accepted>(after);
    }

    private static readonly Func<Microsoft.AspNetCore.Http.HttpContext, Task> OneTemplate = FakeMetaUpstream.Json(200,
        """{"data":[{"name":"order_update","language":"en","status":"APPROVED","category":"UTILITY","id":"1","components":[{"type":"BODY","text":"Hi"}]}]}""");

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task ATemplateListAnsweredWithA5xxIsAskedForAgain(int status)
    {
        // Reading twice changes nothing at Meta, so a sync does not fail for one bad moment at Meta's edge.
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(status, 2, "Service temporarily unavailable"), OneTemplate);

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Null(listed.Failure);
        Assert.Equal(["order_update"], listed.Value!.Select(t => t.Name));
        Assert.Equal(2, meta.Calls.Count);
    }

    [Fact]
    public async Task ATemplateListThatTimesOutIsAskedForAgain()
    {
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.AttemptTimeoutSeconds = 0.3);
        meta.Reply(FakeMetaUpstream.Json(200, "{\"data\":[]}", delay: TimeSpan.FromSeconds(2)), OneTemplate);

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Null(listed.Failure);
        Assert.Equal(["order_update"], listed.Value!.Select(t => t.Name));
        Assert.Equal(2, meta.Attempts);
    }

    [Fact]
    public async Task ATemplateListIsNotAskedForAgainWhenTheWaitWouldOutlastTheTotalTimeout()
    {
        // Our backoff (12 s) and another attempt (5 s) do not fit in the total (15 s): Meta's 5xx is answered at once,
        // as for a send's throttling, rather than a sync waiting out the whole timeout.
        await using var meta = await FakeMetaUpstream.StartAsync(o => o.RetryBaseDelayMilliseconds = 12_000);
        meta.Reply(FakeMetaUpstream.Error(502, 2, "Service temporarily unavailable"), OneTemplate);

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Equal(MetaFailureKind.Unavailable, listed.Failure?.Kind);
        Assert.Equal(1, meta.Attempts);
    }

    [Fact]
    public async Task ATemplateListLargerThanTheLimitIsNotAskedForAgain()
    {
        // It would be as large the next time: two more 4 MB reads would only delay the answer.
        await using var meta = await FakeMetaUpstream.StartAsync();
        var huge = "{\"data\":[],\"x\":\"" + new string('x', MetaClientExtensions.MaxAnswerBytes + 1) + "\"}";
        meta.Reply(FakeMetaUpstream.Json(200, huge), OneTemplate);

        var listed = await meta.Client.ListTemplatesAsync(FakeMetaUpstream.Connection, default);

        Assert.Equal(MetaFailureKind.Unavailable, listed.Failure?.Kind);
        Assert.Equal(1, meta.Attempts);
    }

    [Fact]
    public async Task AWabasNumberListAnsweredWithA5xxIsAskedForAgain()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.ReplyToNumberList(FakeMetaUpstream.Error(502, 2), FakeMetaUpstream.NumberList([(FakeMetaUpstream.Connection.PhoneNumberId, "+1 555-0100")]));

        var numbers = await meta.Client.ListPhoneNumbersAsync(FakeMetaUpstream.Connection, default);

        Assert.Null(numbers.Failure);
        Assert.Equal(FakeMetaUpstream.Connection.PhoneNumberId, Assert.Single(numbers.Value!).Id);
    }

    [Fact]
    public async Task ATemplatesCreationAnsweredWithA5xxIsNotRetriedBecauseItMayHaveBeenCreated()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        meta.Reply(FakeMetaUpstream.Error(503, 2), FakeMetaUpstream.Json(200, """{"id":"594425479261596","status":"PENDING","category":"MARKETING"}"""));

        var created = await meta.Client.CreateTemplateAsync(FakeMetaUpstream.Connection,
            new MetaTemplateDefinition("spring_sale", "en", "MARKETING", "Hi {{1}}", null, null, ["Rahul"]), default);

        Assert.Equal(MetaFailureKind.Unavailable, created.Failure?.Kind);
        Assert.Single(meta.Calls);
    }
}
