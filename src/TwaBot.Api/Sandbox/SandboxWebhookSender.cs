using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// The emulator's side of webhooks: after a send it reports <c>sent</c> → <c>delivered</c> →
/// <c>read</c> (or <c>sent</c> → <c>failed</c>), and it delivers customer messages, as signed POSTs
/// to this server's <c>/webhooks/meta</c> over HTTP, like Meta. Payloads escape non-ASCII as \uXXXX,
/// as Meta's do. A delivery that does not get a 200 is retried a few times.
/// <para>
/// Like Meta under load, it batches status reports: a few posters take whatever reports have come
/// due (up to <c>TwaBot:Sandbox:StatusBatchSize</c>) into one POST, grouped by account and number.
/// A lone report still goes at once, on its own.
/// </para>
/// </summary>
public sealed partial class SandboxWebhookSender(
    IHttpClientFactory clients,
    SelfAddress self,
    MetaAppSecret secret,
    TimeProvider time,
    IOptionsMonitor<TwaBotOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<SandboxWebhookSender> logger)
{
    public const string HttpClientName = "sandbox-webhooks";
    // Meta redelivers what did not get a 200 for days; the emulator compresses that into about half a
    // minute (0.1 s, 0.4 s, 0.9 s, … between tries). A customer message is tried briefly only: the caller of
    // POST /sandbox/v1/inbound waits for its answer.
    private const int StatusAttempts = 10;
    private const int InboundAttempts = 4;
    private const int Posters = 4;
    private readonly ConcurrentDictionary<Task, bool> _running = new();
    private readonly Channel<DueReport> _due = Channel.CreateUnbounded<DueReport>();
    private int _postersStarted;

    /// <summary>The pause before the second try; the n-th retry waits n² times it. Tests shorten it to see the tries run out.</summary>
    internal TimeSpan RetryPauseUnit { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Schedules the status reports of an accepted message.</summary>
    public void ReportStatuses(SandboxSend send, params (string Status, int? ErrorCode, string? ErrorTitle)[] steps)
    {
        ArgumentNullException.ThrowIfNull(send);
        if (!options.CurrentValue.Sandbox.StatusWebhooks)
        {
            return;
        }

        StartPosters();
        Track(async () =>
        {
            var delay = TimeSpan.FromMilliseconds(options.CurrentValue.Sandbox.StatusDelayMilliseconds);
            foreach (var (status, errorCode, errorTitle) in steps)
            {
                await Task.Delay(delay, time, lifetime.ApplicationStopping);
                // Each report waits for the previous one's POST, so they arrive in order.
                var due = new DueReport(send, StatusReport(send, status, errorCode, errorTitle));
                _due.Writer.TryWrite(due);
                await due.Posted.Task.WaitAsync(lifetime.ApplicationStopping);
            }
        });
    }

    /// <summary>Delivers a customer message now; returns its wamid and whether the receiver acknowledged it.</summary>
    public async Task<(string Wamid, bool Delivered)> DeliverInboundAsync(
        string wabaId, string phoneNumberId, string displayPhone, string from, string? name, string text, DateTimeOffset at, SandboxCustomerIds ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        // Meta names a customer by their wa_id, which for many Brazilian, Mexican and Argentine mobiles is not the number as written.
        var waId = SandboxGraphApi.WaIdFor(from);
        // Meta names every customer by their BSUID too: the one asked for, else the emulator's own for the number.
        var userId = ids.UserId ?? SandboxUserIds.For(wabaId, waId);
        // A wamid names the chat it is in: the number, unless Meta withholds it.
        var wamid = Wamid.Inbound(ids.PhoneWithheld ? userId : waId);
        var value = Value(phoneNumberId, displayPhone);
        var contact = new JsonObject { ["profile"] = new JsonObject { ["name"] = name ?? "Sandbox Customer" } };
        var message = new JsonObject { ["id"] = wamid, ["timestamp"] = Seconds(at), ["type"] = "text", ["text"] = new JsonObject { ["body"] = text } };
        // A customer with a username may have their number withheld: Meta then names them by their BSUID alone.
        if (!ids.PhoneWithheld)
        {
            contact["wa_id"] = waId;
            message["from"] = waId;
        }

        contact["user_id"] = userId;
        message["from_user_id"] = userId;

        value["contacts"] = new JsonArray(contact);
        value["messages"] = new JsonArray(message);
        return (wamid, await DeliverAsync(Delivery(Entry(wabaId, Change(value))), InboundAttempts));
    }

    /// <summary>Completes when every scheduled report has been delivered (or given up).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_running.Keys);

    private JsonObject StatusReport(SandboxSend send, string status, int? errorCode, string? errorTitle)
    {
        var report = new JsonObject
        {
            ["id"] = send.Wamid,
            ["status"] = status,
            ["timestamp"] = Seconds(time.GetUtcNow()),
            ["recipient_id"] = send.To,
        };
        if (send.CallbackData is not null)
        {
            report["biz_opaque_callback_data"] = send.CallbackData;
        }

        if (errorCode is not null)
        {
            report["errors"] = new JsonArray(new JsonObject
            {
                ["code"] = errorCode,
                ["title"] = errorTitle,
                ["message"] = errorTitle,
                ["error_data"] = new JsonObject { ["details"] = errorTitle },
                ["href"] = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            });
        }
        else
        {
            // Since April 2026 Meta names the recipient by their BSUID too, except on a failed send to a number.
            report["recipient_user_id"] = SandboxUserIds.For(send.WabaId, send.To);
            report["conversation"] = new JsonObject { ["id"] = send.ConversationId, ["origin"] = new JsonObject { ["type"] = send.Category } };
            report["pricing"] = new JsonObject { ["billable"] = true, ["pricing_model"] = "PMP", ["type"] = "regular", ["category"] = send.Category };
        }

        return report;
    }

    private void StartPosters()
    {
        if (Interlocked.Exchange(ref _postersStarted, 1) == 0)
        {
            // Not tracked: WhenIdleAsync waits for the reports, which these loops outlive.
            for (var i = 0; i < Posters; i++)
            {
                _ = Task.Run(PostDueReportsAsync);
            }
        }
    }

    /// <summary>Posts whatever reports are due, together, until the server stops.</summary>
    private async Task PostDueReportsAsync()
    {
        try
        {
            await PostUntilStoppedAsync();
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private async Task PostUntilStoppedAsync()
    {
        var batch = new List<DueReport>();
        while (await _due.Reader.WaitToReadAsync(lifetime.ApplicationStopping))
        {
            batch.Clear();
            var limit = options.CurrentValue.Sandbox.StatusBatchSize;
            while (batch.Count < limit && _due.Reader.TryRead(out var due))
            {
                batch.Add(due);
            }

            if (batch.Count == 0)
            {
                continue; // another poster took them
            }

            try
            {
                await DeliverAsync(StatusDelivery(batch), StatusAttempts);
            }
            catch (Exception error) when (!lifetime.ApplicationStopping.IsCancellationRequested)
            {
                LogPostFailed(logger, error); // e.g. the client's own timeout: the poster carries on
            }
            finally
            {
                batch.ForEach(due => due.Posted.TrySetResult()); // delivered, or given up after the retries
            }
        }
    }

    /// <summary>One delivery for the reports: an entry per account, a change per number, as Meta groups them.</summary>
    internal static JsonObject StatusDelivery(IEnumerable<DueReport> reports) =>
        Delivery([.. reports.GroupBy(due => due.Send.WabaId).Select(account => Entry(account.Key,
            [.. account.GroupBy(due => (due.Send.PhoneNumberId, due.Send.DisplayPhone)).Select(number =>
            {
                var value = Value(number.Key.PhoneNumberId, number.Key.DisplayPhone);
                value["statuses"] = new JsonArray([.. number.Select(due => due.Report)]);
                return Change(value);
            })]))]);

    private static JsonObject Value(string phoneNumberId, string displayPhone) => new()
    {
        ["messaging_product"] = "whatsapp",
        ["metadata"] = new JsonObject { ["display_phone_number"] = displayPhone, ["phone_number_id"] = phoneNumberId },
    };

    private static JsonObject Change(JsonObject value) => new() { ["value"] = value, ["field"] = "messages" };

    private static JsonObject Entry(string wabaId, params JsonObject[] changes) => new()
    {
        ["id"] = wabaId,
        ["changes"] = new JsonArray([.. changes]),
    };

    private static JsonObject Delivery(params JsonObject[] entries) => new()
    {
        ["object"] = "whatsapp_business_account",
        ["entry"] = new JsonArray([.. entries]),
    };

    private async Task<bool> DeliverAsync(JsonObject payload, int attempts)
    {
        // JsonNode's default encoder escapes non-ASCII as \uXXXX, as Meta does.
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        var signature = WebhookSignature.Sign(body, secret.Value);
        // Meta's webhooks carry no trace context, nor do ours: the posters, started by the first send, would
        // otherwise put every later status POST (and its log lines) in that first send's trace.
        System.Diagnostics.Activity.Current = null;
        using var client = clients.CreateClient(HttpClientName);
        for (var attempt = 1; attempt <= attempts && !lifetime.ApplicationStopping.IsCancellationRequested; attempt++)
        {
            try
            {
                if (attempt > 1)
                {
                    // A pause before each retry, none after the last try: the caller of POST /sandbox/v1/inbound waits for this.
                    var previous = attempt - 1;
                    await Task.Delay(RetryPauseUnit * (previous * previous), lifetime.ApplicationStopping);
                }

                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                content.Headers.Add(WebhookSignature.HeaderName, signature);
                using var response = await client.PostAsync(new Uri(self.BaseAddress, "webhooks/meta"), content, lifetime.ApplicationStopping);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                {
                    return true; // Meta counts a 200 only: a 202 or 204 is delivered again
                }

                LogRefused(logger, (int)response.StatusCode, attempt);
            }
            catch (HttpRequestException error)
            {
                LogUnreachable(logger, error.HttpRequestError, attempt);
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                break; // stopping: not delivered (sandbox inbound answers delivered: false, not a 500)
            }
            catch (OperationCanceledException)
            {
                LogUnreachable(logger, HttpRequestError.Unknown, attempt); // the client's own timeout: tried again
            }
        }

        return false;
    }

    private void Track(Func<Task> work)
    {
        var task = Task.Run(async () =>
        {
            try
            {
                await work();
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        });
        _running[task] = true;
        task.ContinueWith(done => _running.TryRemove(done, out _), TaskScheduler.Default);
    }

    private static string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox status webhook could not be posted")]
    private static partial void LogPostFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox webhook refused with HTTP {Status} (attempt {Attempt})")]
    private static partial void LogRefused(ILogger logger, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox webhook could not reach the server: {Error} (attempt {Attempt})")]
    private static partial void LogUnreachable(ILogger logger, HttpRequestError error, int attempt);
}

/// <summary>A status report due to be posted; completes once its POST is done.</summary>
internal sealed record DueReport(SandboxSend Send, JsonObject Report)
{
    public TaskCompletionSource Posted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>What the emulator remembers of an accepted send, to report on it.</summary>
public sealed record SandboxSend(
    string WabaId, string PhoneNumberId, string DisplayPhone, string Wamid, string To, string? CallbackData, string Category, string ConversationId);

/// <summary>The customer's business-scoped user id, if any, and whether Meta withholds their number (a username).</summary>
public sealed record SandboxCustomerIds(string? UserId, bool PhoneWithheld);
