using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Tests.Meta;

/// <summary>
/// A stand-in for graph.facebook.com on a loopback port, answering each call with the next scripted
/// reply, and recording what it received; plus a MetaClient wired to it exactly as the server wires it.
/// A connect's check (<c>GET /{waba_id}/phone_numbers</c>) has replies of its own, so that it takes none scripted
/// for the sends: by default the WABA lists <see cref="PhoneNumbers"/>.
/// </summary>
public sealed class FakeMetaUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _replies = new();
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _numberListReplies = new();
    private readonly ServiceProvider _clientServices;

    private readonly AttemptCounter _attempts;
    private readonly ClientLog _clientLog;
    private readonly Socket? _refusing;

    private FakeMetaUpstream(WebApplication app, ServiceProvider clientServices, AttemptCounter attempts, ClientLog clientLog, Socket? refusing)
    {
        _app = app;
        _clientServices = clientServices;
        _attempts = attempts;
        _clientLog = clientLog;
        _refusing = refusing;
    }

    /// <summary>What the client logged, one rendered message per line.</summary>
    public IReadOnlyCollection<string> ClientLogLines => _clientLog.Lines;

    /// <summary>HTTP attempts the client made, including those whose connection was refused.</summary>
    public int Attempts => _attempts.Count;

    /// <summary>The calls answered by <see cref="Reply"/>'s script (sends, templates): every call but the number lists.</summary>
    public ConcurrentQueue<RecordedCall> Calls { get; } = new();

    /// <summary>The connects' checks, <c>GET /{waba_id}/phone_numbers</c>, answered by <see cref="ReplyToNumberList"/>'s script.</summary>
    public ConcurrentQueue<RecordedCall> NumberListCalls { get; } = new();

    /// <summary>The display number Meta lists for <see cref="Connection"/>'s number.</summary>
    public const string DisplayPhoneNumber = "+1 631-555-0100";

    /// <summary>
    /// The numbers (id, display number) the WABA lists when no number-list reply is scripted: <see cref="Connection"/>'s,
    /// and any a test adds, so that a live-mode connect to them passes Meta's check.
    /// </summary>
    public ConcurrentDictionary<string, string> PhoneNumbers { get; } = new(StringComparer.Ordinal)
    {
        [Connection.PhoneNumberId] = DisplayPhoneNumber,
    };

    /// <summary>
    /// Answers to one WhatsApp number's sends (<c>POST /{phone_number_id}/messages</c>), every one of them, before the script:
    /// one business's Meta slow or failing while another's answers as usual.
    /// </summary>
    public ConcurrentDictionary<string, Func<HttpContext, Task>> SendRepliesByNumber { get; } = new(StringComparer.Ordinal);

    public MetaClient Client => _clientServices.GetRequiredService<MetaClient>();

    /// <summary>The client's <c>twabot.meta.calls</c>, counted from now.</summary>
    public Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<long> CallsCounted() => new(
        _clientServices.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), TwaBot.Api.Metrics.TwaBotMetrics.MeterName, "twabot.meta.calls");

    /// <summary>Its address as <c>TwaBot:Meta:GraphBaseUrl</c>, for a whole server to call it.</summary>
    public Uri GraphBaseUrl => new(_clientServices.GetRequiredService<IMetaGraphAddress>().BaseAddress.GetLeftPart(UriPartial.Authority));

    public static readonly MetaConnection Connection = new("106540352242922", "102290129340398", "EAAGtesttoken");

    /// <summary>
    /// Starts the fake; <paramref name="resilience"/> overrides the client's pipeline settings. With
    /// <paramref name="hostNotFound"/>, the client's name lookup of Meta's host fails, as when DNS does not know it.
    /// </summary>
    public static async Task<FakeMetaUpstream> StartAsync(
        Action<MetaResilienceOptions>? resilience = null, bool listen = true, bool clientSpeaksTls = false, bool hostNotFound = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Port 0, the kernel's choice at the bind: a port found free beforehand could be another test's server's by then.
        // A fake that does not listen holds its port with a socket bound but not listening: every connection to it is refused.
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        FakeMetaUpstream? fake = null;
        app.Run(context => fake!.HandleAsync(context)); // set below, before anyone is told the port
        Socket? refusing = null;
        int port;
        if (listen)
        {
            await app.StartAsync();
            port = new Uri(app.Urls.Single()).Port;
        }
        else
        {
            refusing = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            refusing.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)refusing.LocalEndPoint!).Port;
        }

        var options = new TwaBotOptions();
        options.Meta.Resilience.RetryBaseDelayMilliseconds = 10;
        options.Meta.Resilience.AttemptTimeoutSeconds = 5;
        options.Meta.Resilience.TotalTimeoutSeconds = 15;
        resilience?.Invoke(options.Meta.Resilience);
        var clientLog = new ClientLog();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(clientLog))
            .AddSingleton(Options.Create(options))
            .AddSingleton<IMetaGraphAddress>(new FixedAddress(new Uri($"{(clientSpeaksTls ? "https" : "http")}://127.0.0.1:{port}/v23.0/")))
            .AddMetaClient();
        var attempts = new AttemptCounter();
        // Innermost, under the pipeline: counts each attempt; the primary handler stays the production one.
        services.AddHttpClient<MetaClient>().ConfigureAdditionalHttpMessageHandlers((handlers, _) => handlers.Add(attempts));
        if (hostNotFound)
        {
            // The production handler, failing where a lookup that finds no address fails: before any connection.
            services.AddHttpClient<MetaClient>().ConfigurePrimaryHttpMessageHandler((handler, _) =>
                ((SocketsHttpHandler)handler).ConnectCallback = (_, _) => throw new SocketException((int)SocketError.HostNotFound));
        }

        fake = new FakeMetaUpstream(app, services.BuildServiceProvider(), attempts, clientLog, refusing);
        return fake;
    }

    public void Reply(params Func<HttpContext, Task>[] replies)
    {
        foreach (var reply in replies)
        {
            _replies.Enqueue(reply);
        }
    }

    /// <summary>Scripts the answers to the next number lists (a connect's check), before the default one.</summary>
    public void ReplyToNumberList(params Func<HttpContext, Task>[] replies)
    {
        foreach (var reply in replies)
        {
            _numberListReplies.Enqueue(reply);
        }
    }

    /// <summary>One page of Meta's <c>GET /{waba_id}/phone_numbers</c>, with a next page at <paramref name="after"/> when given.</summary>
    public static Func<HttpContext, Task> NumberList(IEnumerable<(string Id, string Display)> numbers, string? after = null)
    {
        var data = new JsonArray([.. numbers.Select(n => (JsonNode)new JsonObject
        {
            ["verified_name"] = "Acme Retail", ["display_phone_number"] = n.Display, ["id"] = n.Id, ["quality_rating"] = "GREEN",
        })]);
        var page = new JsonObject { ["data"] = data };
        page["paging"] = after is null
            ? new JsonObject { ["cursors"] = new JsonObject { ["before"] = "QVFIUb4", ["after"] = "QVFIUa4" } }
            : new JsonObject
            {
                ["cursors"] = new JsonObject { ["before"] = "QVFIUb1", ["after"] = after },
                ["next"] = $"https://graph.facebook.com/v23.0/{Connection.WabaId}/phone_numbers?limit=100&after={after}",
            };
        return Json(200, page.ToJsonString());
    }

    public static Func<HttpContext, Task> Json(int status, string json, TimeSpan? delay = null, string? retryAfter = null) => async context =>
    {
        if (delay is { } wait)
        {
            // Ended with the call: a client that gave up (its attempt timeout) leaves nothing for the fake's stop to wait out.
            await Task.Delay(wait, context.RequestAborted);
        }

        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json);
    };

    /// <summary>Headers at once, then the body a byte at a time, one every <paramref name="pause"/>.</summary>
    public static Func<HttpContext, Task> Trickle(string json, TimeSpan pause) => async context =>
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(json))
        {
            await context.Response.Body.WriteAsync(new[] { b });
            await context.Response.Body.FlushAsync();
            await Task.Delay(pause, context.RequestAborted);
        }
    };

    public static Func<HttpContext, Task> Redirect(int status, string location) => context =>
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    };

    public static Func<HttpContext, Task> Accepted(string wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA") =>
        Json(200, $$"""{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"{{wamid}}"}]}""");

    public static Func<HttpContext, Task> Error(int status, int code, string message = "Error", int? subcode = null)
    {
        var subcodeJson = subcode is null ? "" : $"\"error_subcode\":{subcode},";
        return Json(status,
            "{\"error\":{\"message\":\"(#" + code + ") " + message + "\",\"type\":\"OAuthException\",\"code\":" + code + "," + subcodeJson
            + "\"error_data\":{\"messaging_product\":\"whatsapp\",\"details\":\"" + message + " details\"},\"fbtrace_id\":\"AbCdEf123\"}}");
    }

    public async ValueTask DisposeAsync()
    {
        await _clientServices.DisposeAsync();
        await _app.DisposeAsync();
        _refusing?.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var call = new RecordedCall(
            context.Request.Method,
            context.Request.Path + context.Request.QueryString,
            context.Request.Headers.Authorization.ToString(),
            await reader.ReadToEndAsync())
        {
            ContentType = context.Request.ContentType,
            Headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
        };
        if (HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Value?.EndsWith("/phone_numbers", StringComparison.Ordinal) == true)
        {
            NumberListCalls.Enqueue(call);
            await (_numberListReplies.TryDequeue(out var listReply) ? listReply : NumberList(PhoneNumbers.Select(n => (n.Key, n.Value))))(context);
            return;
        }

        Calls.Enqueue(call);
        var number = context.Request.Path.Value?.Split('/') is [_, _, var id, "messages"] ? id : "";
        var reply = SendRepliesByNumber.TryGetValue(number, out var numbers) ? numbers
            : _replies.TryDequeue(out var next) ? next : Accepted();
        await reply(context);
    }

    private sealed class FixedAddress(Uri address) : IMetaGraphAddress
    {
        public Uri BaseAddress { get; } = address;
    }
}

/// <summary>The client's innermost handler: counts every attempt the resilience pipeline makes.</summary>
internal sealed class AttemptCounter : DelegatingHandler
{
    private int _count;

    public int Count => _count;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Keeps the client's log messages, so tests can read what an operator would see.</summary>
internal sealed class ClientLog : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue(formatter(state, exception));

    public void Dispose()
    {
    }
}

/// <summary>
/// An answer Meta holds until told: a test puts a change in the moment a call is at Meta (<see cref="ReachedMetaAsync"/>),
/// then lets Meta answer (<see cref="Release"/>).
/// </summary>
public sealed class HeldAnswer(Func<HttpContext, Task> answer)
{
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Func<HttpContext, Task> Reply => async context =>
    {
        _reached.TrySetResult();
        await _released.Task;
        await answer(context);
    };

    /// <summary>Bounded, so that a call that never comes fails the test instead of hanging it.</summary>
    public Task ReachedMetaAsync() => _reached.Task.WaitAsync(TimeSpan.FromSeconds(30));

    public void Release() => _released.TrySetResult();
}

public sealed record RecordedCall(string Method, string PathAndQuery, string Authorization, string Body)
{
    /// <summary>The call's Content-Type, as Meta reads it (a JSON body sent without one is not read as JSON).</summary>
    public string? ContentType { get; init; }

    /// <summary>Every header of the call, by name in any case.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}
