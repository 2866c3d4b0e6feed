using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// The emulator's side of webhooks: after a send it reports <c>sent</c> → <c>delivered</c> →
/// <c>read</c> (or <c>sent</c> → <c>failed</c>), and it delivers customer messages, each as a
/// signed POST to this server's <c>/webhooks/meta</c> over HTTP, like Meta. Payloads escape non-ASCII
/// as \uXXXX, as Meta's do. A delivery that does not get a 200 is retried a few times.
/// </summary>
public sealed partial class StatusWebhookSender(
    IHttpClientFactory clients,
    SelfAddress self,
    MetaAppSecret secret,
    TimeProvider time,
    IOptionsMonitor<TwaBotOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<StatusWebhookSender> logger)
{
    public const string HttpClientName = "sandbox-webhooks";
    private const int Attempts = 4;
    private readonly ConcurrentDictionary<Task, bool> _running = new();

    /// <summary>Schedules the status reports of an accepted message.</summary>
    public void ReportStatuses(SandboxSend send, params (string Status, int? ErrorCode, string? ErrorTitle)[] steps)
    {
        ArgumentNullException.ThrowIfNull(send);
        if (!options.CurrentValue.Sandbox.StatusWebhooks)
        {
            return;
        }

        Track(async () =>
        {
            var delay = TimeSpan.FromMilliseconds(options.CurrentValue.Sandbox.StatusDelayMilliseconds);
            foreach (var (status, errorCode, errorTitle) in steps)
            {
                await Task.Delay(delay, time, lifetime.ApplicationStopping);
                await DeliverAsync(StatusPayload(send, status, errorCode, errorTitle));
            }
        });
    }

    /// <summary>Delivers a customer message now; returns its wamid and whether the receiver acknowledged it.</summary>
    public async Task<(string Wamid, bool Delivered)> DeliverInboundAsync(
        string wabaId, string phoneNumberId, string displayPhone, string from, string? name, string text, DateTimeOffset at)
    {
        var wamid = Wamid.Inbound(from);
        var payload = Envelope(wabaId, phoneNumberId, displayPhone, value =>
        {
            value["contacts"] = new JsonArray(new JsonObject { ["profile"] = new JsonObject { ["name"] = name ?? "Sandbox Customer" }, ["wa_id"] = from });
            value["messages"] = new JsonArray(new JsonObject
            {
                ["from"] = from,
                ["id"] = wamid,
                ["timestamp"] = Seconds(at),
                ["type"] = "text",
                ["text"] = new JsonObject { ["body"] = text },
            });
        });
        return (wamid, await DeliverAsync(payload));
    }

    /// <summary>Completes when every scheduled report has been delivered (or given up).</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_running.Keys);

    private JsonObject StatusPayload(SandboxSend send, string status, int? errorCode, string? errorTitle) =>
        Envelope(send.WabaId, send.PhoneNumberId, send.DisplayPhone, value =>
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
                report["conversation"] = new JsonObject { ["id"] = send.ConversationId, ["origin"] = new JsonObject { ["type"] = send.Category } };
                report["pricing"] = new JsonObject { ["billable"] = true, ["pricing_model"] = "PMP", ["type"] = "regular", ["category"] = send.Category };
            }

            value["statuses"] = new JsonArray(report);
        });

    private static JsonObject Envelope(string wabaId, string phoneNumberId, string displayPhone, Action<JsonObject> fill)
    {
        var value = new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["metadata"] = new JsonObject { ["display_phone_number"] = displayPhone, ["phone_number_id"] = phoneNumberId },
        };
        fill(value);
        return new JsonObject
        {
            ["object"] = "whatsapp_business_account",
            ["entry"] = new JsonArray(new JsonObject
            {
                ["id"] = wabaId,
                ["changes"] = new JsonArray(new JsonObject { ["value"] = value, ["field"] = "messages" }),
            }),
        };
    }

    private async Task<bool> DeliverAsync(JsonObject payload)
    {
        // JsonNode's default encoder escapes non-ASCII as \uXXXX, as Meta does.
        var body = Encoding.UTF8.GetBytes(payload.ToJsonString());
        var signature = WebhookSignature.Sign(body, secret.Value);
        using var client = clients.CreateClient(HttpClientName);
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                content.Headers.Add(WebhookSignature.HeaderName, signature);
                using var response = await client.PostAsync(new Uri(self.BaseAddress, "webhooks/meta"), content, lifetime.ApplicationStopping);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }

                LogRefused(logger, (int)response.StatusCode, attempt);
            }
            catch (HttpRequestException error)
            {
                LogUnreachable(logger, error.HttpRequestError, attempt);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt * attempt), lifetime.ApplicationStopping);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox webhook refused with HTTP {Status} (attempt {Attempt})")]
    private static partial void LogRefused(ILogger logger, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox webhook could not reach the server: {Error} (attempt {Attempt})")]
    private static partial void LogUnreachable(ILogger logger, HttpRequestError error, int attempt);
}

/// <summary>What the emulator remembers of an accepted send, to report on it.</summary>
public sealed record SandboxSend(
    string WabaId, string PhoneNumberId, string DisplayPhone, string Wamid, string To, string? CallbackData, string Category, string ConversationId);
