using System.Net.Http.Headers;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace TwaBot.Api.Meta;

/// <summary>
/// The WhatsApp Cloud API (Graph API) client: sends, and template listing and creation, each with
/// the business's own token. Resilience (timeouts, the few safe retries, the breaker) is configured
/// in <see cref="MetaResilience"/>; here every outcome becomes a typed result.
/// </summary>
public sealed partial class MetaClient(HttpClient http, IMetaGraphAddress graph, ILogger<MetaClient> logger)
{
    private const int MaxTemplatePages = 20;
    private const string TemplateFields = "name,status,category,language,components,parameter_format,id";

    /// <summary>Meta's answer to a token it cannot parse (code 190), given without calling it.</summary>
    private static readonly MetaError UnusableToken = new(
        190, null, "Invalid OAuth access token - Cannot parse access token (the stored token has characters no Meta token has; connect WhatsApp again).",
        "OAuthException", null, null, 401);

    public async Task<MetaSendResult> SendAsync(MetaConnection connection, MetaOutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(message);
        var (body, status, failure) = await CallAsync(
            HttpMethod.Post, $"{connection.PhoneNumberId}/messages", connection, message.ToJsonBytes(), cancellationToken);
        if (failure is not null)
        {
            return new MetaSendResult.Failed(failure);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var sent = document.RootElement.GetProperty("messages")[0];
            var waId = document.RootElement.TryGetProperty("contacts", out var contacts) && contacts.GetArrayLength() > 0
                ? MetaTemplate.Str(contacts[0], "wa_id")
                : null;
            return new MetaSendResult.Accepted(sent.GetProperty("id").GetString()!, waId, MetaTemplate.Str(sent, "message_status"));
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            LogUnreadableAnswer(logger, status);
            return new MetaSendResult.Failed(MetaFailure.Unavailable("Meta answered 200 without a message id."));
        }
    }

    public async Task<MetaResult<IReadOnlyList<MetaTemplate>>> ListTemplatesAsync(MetaConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var templates = new List<MetaTemplate>();
        string? after = null;
        for (var page = 0; page < MaxTemplatePages; page++)
        {
            var path = $"{connection.WabaId}/message_templates?fields={TemplateFields}&limit=100"
                + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            var (body, _, failure) = await CallAsync(HttpMethod.Get, path, connection, null, cancellationToken);
            if (failure is not null)
            {
                return new(null, failure);
            }

            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array)
            {
                templates.AddRange(data.EnumerateArray().Select(MetaTemplate.Parse));
            }

            after = NextCursor(document.RootElement);
            if (after is null)
            {
                break;
            }
        }

        return new(templates, null);
    }

    public async Task<MetaResult<MetaTemplateCreated>> CreateTemplateAsync(
        MetaConnection connection, MetaTemplateDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(definition);
        var (body, _, failure) = await CallAsync(
            HttpMethod.Post, $"{connection.WabaId}/message_templates", connection, definition.ToJsonBytes(), cancellationToken);
        if (failure is not null)
        {
            return new(null, failure);
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        return new(new MetaTemplateCreated(
            MetaTemplate.Str(root, "id") ?? "", MetaTemplate.Str(root, "status") ?? "PENDING", MetaTemplate.Str(root, "category") ?? definition.Category), null);
    }

    private static string? NextCursor(JsonElement root) =>
        root.TryGetProperty("paging", out var paging) && paging.TryGetProperty("next", out _)
        && paging.TryGetProperty("cursors", out var cursors)
            ? MetaTemplate.Str(cursors, "after")
            : null;

    /// <summary>One Graph call through the resilience pipeline; a failure is described, never thrown.</summary>
    private async Task<(byte[] Body, int Status, MetaFailure? Failure)> CallAsync(
        HttpMethod method, string relativePath, MetaConnection connection, byte[]? json, CancellationToken cancellationToken)
    {
        if (!MetaAccessToken.IsWellFormed(connection.AccessToken))
        {
            // Stored before the admin API checked tokens: it cannot go in a header (a line break or NUL
            // makes .NET throw), and Meta would refuse it anyway, as this error says.
            return ([], 0, new MetaFailure(MetaFailureKind.Rejected, UnusableToken, null, UnusableToken.Message));
        }

        using var request = new HttpRequestMessage(method, new Uri(graph.BaseAddress, relativePath));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", connection.AccessToken);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (body, status, null);
            }

            var error = MetaError.TryParse(body, status);
            var retryAfter = response.Headers.RetryAfter?.Delta;
            LogRefused(logger, status, error?.Code, error?.FbtraceId);
            var failure = status < 500 && error is not null
                ? new MetaFailure(MetaFailureKind.Rejected, error, retryAfter, error.Message)
                : MetaFailure.Unavailable($"Meta answered HTTP {status}.", error, retryAfter);
            return (body, status, failure);
        }
        catch (BrokenCircuitException open)
        {
            return ([], 0, new MetaFailure(MetaFailureKind.CircuitOpen, null, open.RetryAfter, "Meta is failing; calls are paused."));
        }
        catch (TimeoutRejectedException)
        {
            return ([], 0, MetaFailure.Unavailable("Meta did not answer in time.") with { MayHaveBeenSent = true });
        }
        catch (HttpRequestException failed)
        {
            LogUnreachable(logger, failed.HttpRequestError);
            var neverSent = failed.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError;
            return ([], 0, MetaFailure.Unavailable($"Meta could not be reached ({failed.HttpRequestError}).") with { MayHaveBeenSent = !neverSent });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ([], 0, MetaFailure.Unavailable("Meta did not answer in time.") with { MayHaveBeenSent = true });
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta refused a call: HTTP {Status}, code {Code}, fbtrace {FbtraceId}")]
    private static partial void LogRefused(ILogger logger, int status, int? code, string? fbtraceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta could not be reached: {Error}")]
    private static partial void LogUnreachable(ILogger logger, HttpRequestError error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meta answered HTTP {Status} with a body we could not read")]
    private static partial void LogUnreadableAnswer(ILogger logger, int status);
}
