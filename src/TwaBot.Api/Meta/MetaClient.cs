using System.Net.Http.Headers;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace TwaBot.Api.Meta;

/// <summary>
/// The WhatsApp Cloud API (Graph API) client: sends, template listing and creation, and the listing of a
/// WABA's numbers, each with the business's own token. Resilience (timeouts, the few safe retries, the breaker) is configured
/// in <see cref="MetaResilience"/>; here every outcome becomes a typed result.
/// </summary>
public sealed partial class MetaClient(
    HttpClient http, IMetaGraphAddress graph, MetaTokenRefusals refusals, Metrics.TwaBotMetrics metrics, ILogger<MetaClient> logger)
{
    /// <summary>
    /// 10,000 templates (or numbers) at 100 a page, far more than Meta lets one WABA hold; a list that goes on longer
    /// is an error, never a shorter list (a sync would mark what it did not see as deleted).
    /// </summary>
    private const int MaxListPages = 100;
    private const string TemplateFields = "name,status,category,language,components,parameter_format,rejected_reason,quality_score,id";
    private const string PhoneNumberFields = "id,display_phone_number,verified_name";

    /// <summary>Meta's answer to a token it cannot parse (code 190), given without calling it.</summary>
    private static readonly MetaError UnusableToken = new(
        190, null, "Invalid OAuth access token - Cannot parse access token (the stored token has characters no Meta token has; connect WhatsApp again).",
        "OAuthException", null, null, 401);

    public async Task<MetaSendResult> SendAsync(MetaConnection connection, MetaOutgoingMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(message);
        var (body, status, failure) = await CallAsync("send_message",
            HttpMethod.Post, $"{connection.PhoneNumberId}/messages", connection, message.ToJsonBytes(), cancellationToken);
        if (failure is not null)
        {
            return new MetaSendResult.Failed(failure);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var sent = document.RootElement.GetProperty("messages")[0];
            var waId = MetaJson.Array(document.RootElement, "contacts").Select(WaIdOf).FirstOrDefault();
            if (MetaJson.Str(sent, "id") is { Length: > 0 } wamid)
            {
                CountAnswered("send_message", readable: true);
                return new MetaSendResult.Accepted(wamid, waId);
            }
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            // reported below
        }

        // A 200 means Meta took the call: the message may well go out, and its status webhook (which carries
        // our id as callback data) will settle the row.
        LogUnreadableAnswer(logger, status, connection.PhoneNumberId);
        CountAnswered("send_message", readable: false);
        return new MetaSendResult.Failed(MetaFailure.Unavailable("Meta answered 200 without a message id.") with { MayHaveBeenSent = true });
    }

    /// <summary>
    /// The wa_id a send's answer gives the number, as its digits: written with a <c>+</c> or separators, or as a JSON number,
    /// it names the number a webhook's wa_id is read as (the key of the customer's STOP and window), and paired in any other
    /// form it would match none of them. Anything that is not 8 to 15 digits (a business-scoped user id, a word) is no number
    /// to pair, and null.
    /// </summary>
    private static string? WaIdOf(JsonElement contact) =>
        MetaJson.IdString(contact, "wa_id") is { } waId && Phones.WaIdForms.DigitsOf(waId) is { Length: >= 8 and <= 15 } digits ? digits : null;

    public Task<MetaResult<IReadOnlyList<MetaTemplate>>> ListTemplatesAsync(MetaConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return ListAllAsync("list_templates", $"{connection.WabaId}/message_templates?fields={TemplateFields}&limit=100", "template list",
            MetaTemplate.Parse, connection, stored: true, cancellationToken);
    }

    /// <summary>
    /// The WABA's numbers, asked with a connection not stored yet (the admin's connect checks its ids and token): a
    /// refusal of its token marks nothing, since the connect is refused and changes nothing, while an answer ends the
    /// mark of a refused token (<see cref="MetaTokenRefusals"/>), which is then one Meta accepts.
    /// </summary>
    public Task<MetaResult<IReadOnlyList<MetaPhoneNumber>>> ListPhoneNumbersAsync(MetaConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return ListAllAsync("list_phone_numbers", $"{connection.WabaId}/phone_numbers?fields={PhoneNumberFields}&limit=100", "list of the WABA's phone numbers",
            MetaPhoneNumber.Parse, connection, stored: false, cancellationToken);
    }

    /// <summary>
    /// Every page of a Graph list (<c>data</c>, and <c>paging.cursors.after</c> while <c>paging.next</c> is there), or a
    /// failure: never a shorter list than Meta holds.
    /// </summary>
    private async Task<MetaResult<IReadOnlyList<T>>> ListAllAsync<T>(string operation, string firstPath, string what, Func<JsonElement, T> parse,
        MetaConnection connection, bool stored, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        var cursors = new HashSet<string>(StringComparer.Ordinal);
        string? after = null;
        for (var page = 0; ; page++)
        {
            if (page == MaxListPages)
            {
                return new(null, MetaFailure.Unavailable($"Meta's {what} went on past {MaxListPages} pages."));
            }

            var path = firstPath + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            var (body, status, failure) = await CallAsync(operation, HttpMethod.Get, path, connection, null, cancellationToken, stored);
            if (failure is not null)
            {
                return new(null, failure);
            }

            if (ReadPage(body, status, parse, connection) is not { } read)
            {
                CountAnswered(operation, readable: false);
                return new(null, MetaFailure.Unavailable($"Meta answered 200 with something that is not its {what}."));
            }

            if (read.HasNext && (read.After is not { Length: > 0 } || !cursors.Add(read.After)))
            {
                // A next page without a cursor, or one seen before: the list cannot be read to its end.
                LogUnreadableAnswer(logger, status, connection.PhoneNumberId);
                CountAnswered(operation, readable: false);
                return new(null, MetaFailure.Unavailable($"Meta's {what} has a next page that cannot be followed."));
            }

            CountAnswered(operation, readable: true);
            items.AddRange(read.Items);
            if (!read.HasNext)
            {
                return new(items, null);
            }

            after = read.After;
        }
    }

    public async Task<MetaResult<MetaTemplateCreated>> CreateTemplateAsync(
        MetaConnection connection, MetaTemplateDefinition definition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(definition);
        var (body, status, failure) = await CallAsync("create_template",
            HttpMethod.Post, $"{connection.WabaId}/message_templates", connection, definition.ToJsonBytes(), cancellationToken);
        if (failure is not null)
        {
            return new(null, failure);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (MetaJson.Str(root, "id") is { Length: > 0 } id)
            {
                CountAnswered("create_template", readable: true);
                return new(new MetaTemplateCreated(id, MetaJson.Str(root, "status") ?? Templates.Template.Pending, MetaJson.Str(root, "category") ?? definition.Category), null);
            }
        }
        catch (JsonException)
        {
            // reported below
        }

        LogUnreadableAnswer(logger, status, connection.PhoneNumberId);
        CountAnswered("create_template", readable: false);
        return new(null, MetaFailure.Unavailable("Meta answered 200 without the new template's id.") with { MayHaveBeenSent = true });
    }

    /// <summary>
    /// A 401 whose body is not Meta's error but whose <c>WWW-Authenticate</c> challenge is Meta's (<c>OAuth "Facebook Platform"
    /// "invalid_token" …</c>) or OAuth 2's (<c>Bearer error="invalid_token"</c>): the token was refused, as code 190 says.
    /// The header's own text is not kept (it is not ours to echo).
    /// </summary>
    private static MetaError? TokenChallenge(HttpResponseMessage response) =>
        response.StatusCode == System.Net.HttpStatusCode.Unauthorized
        && response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var challenges)
        && challenges.Any(c => c.StartsWith("OAuth", StringComparison.OrdinalIgnoreCase) || c.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase))
            ? new MetaError(190, null, "Meta refused the access token (HTTP 401 with an OAuth challenge and no error body).", "OAuthException", null, null, 401)
            : null;

    /// <summary>One page of a Graph list (<c>GET /{waba_id}/message_templates</c>, <c>/phone_numbers</c>); null when the answer is not that.</summary>
    private (IReadOnlyList<T> Items, bool HasNext, string? After)? ReadPage<T>(byte[] body, int status, Func<JsonElement, T> parse, MetaConnection connection)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            // Without its data array, a 200 (say {} from a proxy) is not an empty list: read as one, a sync
            // would mark every template deleted, and a connect would say Meta lists none of the WABA's numbers.
            if (!MetaJson.Has(root, "data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                LogUnreadableAnswer(logger, status, connection.PhoneNumberId);
                return null;
            }

            var hasNext = MetaJson.Has(root, "paging", out var paging) && MetaJson.Has(paging, "next", out _);
            var after = hasNext && MetaJson.Has(paging, "cursors", out var cursors) ? MetaJson.Str(cursors, "after") : null;
            return ([.. data.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.Object).Select(parse)], hasNext, after);
        }
        catch (JsonException)
        {
            LogUnreadableAnswer(logger, status, connection.PhoneNumberId);
            return null;
        }
    }

    /// <summary>
    /// One Graph call; a failed one is counted here by <paramref name="operation"/> and outcome (<c>twabot.meta.calls</c>),
    /// an answered one by its reader once it knows whether the answer could be read (<see cref="CountAnswered"/>). With
    /// <paramref name="stored"/> false (a connection not stored yet), a refusal of its token is marked nowhere.
    /// </summary>
    private async Task<(byte[] Body, int Status, MetaFailure? Failure)> CallAsync(string operation, HttpMethod method, string relativePath,
        MetaConnection connection, byte[]? json, CancellationToken cancellationToken, bool stored = true)
    {
        var answer = await CallAsync(method, relativePath, connection, json, stored, cancellationToken);
        if (stored || answer.Failure is null)
        {
            await refusals.ObserveAsync(connection, answer.Failure);
        }

        if (answer.Failure is { } failure)
        {
            metrics.MetaCalled(operation, failure.Kind switch
            {
                MetaFailureKind.Rejected => "rejected",
                MetaFailureKind.CircuitOpen => "circuit_open",
                _ => "unavailable",
            }, failure.Error?.Code);
        }

        return answer;
    }

    /// <summary>
    /// Counts a call Meta answered with a 2xx: <c>ok</c>, or <c>unavailable</c> when the answer could not be read, since its
    /// caller then gets a failure (a send, the "outcome unknown" 502) and an operator's alert on <c>unavailable</c> must see it.
    /// </summary>
    private void CountAnswered(string operation, bool readable) => metrics.MetaCalled(operation, readable ? "ok" : "unavailable", null);

    /// <summary>One Graph call through the resilience pipeline; a failure is described, never thrown.</summary>
    private async Task<(byte[] Body, int Status, MetaFailure? Failure)> CallAsync(
        HttpMethod method, string relativePath, MetaConnection connection, byte[]? json, bool stored, CancellationToken cancellationToken)
    {
        if (!MetaAccessToken.IsWellFormed(connection.AccessToken))
        {
            // Stored before the admin API checked tokens: it cannot go in a header (a line break or NUL
            // makes .NET throw), and Meta would refuse it anyway, as this error says.
            return ([], 0, new MetaFailure(MetaFailureKind.Rejected, UnusableToken, null, UnusableToken.Message));
        }

        using var request = new HttpRequestMessage(method, new Uri(graph.BaseAddress, relativePath));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", connection.AccessToken);
        request.Options.Set(MetaResilience.CallStarted, System.Diagnostics.Stopwatch.GetTimestamp());
        request.Options.Set(MetaResilience.Number, connection.PhoneNumberId); // its own breaker (MetaResilience.PipelineKey)
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

            return (body, status, FailureOf(response, body, connection, stored));
        }
        catch (BrokenCircuitException open)
        {
            return ([], 0, new MetaFailure(MetaFailureKind.CircuitOpen, null, open.RetryAfter, "Not sent: Meta has been failing, so calls to it are paused for a moment."));
        }
        catch (TimeoutRejectedException)
        {
            return ([], 0, TimedOut(connection));
        }
        catch (HttpRequestException failed)
        {
            var neverSent = failed.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError;
            if (neverSent)
            {
                LogUnreachable(logger, failed.HttpRequestError, connection.PhoneNumberId);
                return ([], 0, MetaFailure.Unavailable($"Meta could not be reached ({failed.HttpRequestError})."));
            }

            // The request went out: Meta may have processed it, so "could not be reached" would be untrue.
            LogAnswerLost(logger, failed.HttpRequestError, connection.PhoneNumberId);
            var description = failed.HttpRequestError == HttpRequestError.ConfigurationLimitExceeded
                ? $"Meta's answer was larger than {MetaClientExtensions.MaxAnswerBytes / (1024 * 1024)} MB, so it was not read."
                : $"The connection to Meta broke before its answer was read ({failed.HttpRequestError}).";
            return ([], 0, MetaFailure.Unavailable(description) with { MayHaveBeenSent = true });
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ([], 0, TimedOut(connection));
        }
    }

    /// <summary>
    /// A non-success answer, logged for the operator and described as a failure; <paramref name="stored"/> false for a
    /// connection not stored (the connect's check), whose refused token is no business's to connect again.
    /// </summary>
    private MetaFailure FailureOf(HttpResponseMessage response, byte[] body, MetaConnection connection, bool stored)
    {
        var status = (int)response.StatusCode;
        var error = (MetaError.TryParse(body, status) ?? TokenChallenge(response))?.WithoutSecrets(connection.AccessToken);
        var retryAfter = MetaResilience.RetryAfterOf(response);
        if (error is { IsAuthorization: true } && stored && refusals.RefusedAt(connection) is null)
        {
            // The operator's to act on: the business must connect WhatsApp again; without this line it is only a code.
            // Once, as the refusal starts: each later send with the token is refused too (a Warning below), and an Error
            // a send paged whoever watches Errors fifty times for one expired token.
            LogTokenRefused(logger, connection.PhoneNumberId, error.Code, error.Subcode);
        }

        if (status >= 500)
        {
            // Not a refusal: Meta may have processed the call, and the log must not say it did not.
            LogFailed(logger, status, error?.Code, error?.Subcode, error?.FbtraceId, connection.PhoneNumberId);
        }
        else
        {
            LogRefused(logger, status, error?.Code, error?.Subcode, error?.FbtraceId, connection.PhoneNumberId);
        }

        var failure = status switch
        {
            // A 5xx may come after Meta processed the call (Meta: treat it as "outcome unknown").
            >= 500 => MetaFailure.Unavailable($"Meta answered HTTP {status}.", error, retryAfter) with { MayHaveBeenSent = true },
            _ when error is not null => new MetaFailure(MetaFailureKind.Rejected, error, retryAfter, error.Message),
            // Throttled before Meta looked at the call (by Meta's edge or a proxy), so not sent.
            429 => new MetaFailure(MetaFailureKind.Rejected, null, retryAfter, "Meta answered HTTP 429."),
            _ => MetaFailure.Unavailable($"Meta answered HTTP {status}.", error, retryAfter),
        };
        return failure with { HttpStatus = status };
    }

    private MetaFailure TimedOut(MetaConnection connection)
    {
        LogTimedOut(logger, connection.PhoneNumberId);
        return MetaFailure.Unavailable("Meta did not answer in time.") with { MayHaveBeenSent = true };
    }

    // The subcode tells apart refusals that share a code (100/33: a number id Meta does not know or the token cannot reach).
    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta refused a call: HTTP {Status}, code {Code}, subcode {Subcode}, fbtrace {FbtraceId}, for WhatsApp number {PhoneNumberId}")]
    private static partial void LogRefused(ILogger logger, int status, int? code, int? subcode, string? fbtraceId, string phoneNumberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta failed a call: HTTP {Status}, code {Code}, subcode {Subcode}, fbtrace {FbtraceId}, for WhatsApp number {PhoneNumberId}; whether it processed the call is unknown")]
    private static partial void LogFailed(ILogger logger, int status, int? code, int? subcode, string? fbtraceId, string phoneNumberId);

    // The caller hears "may still be delivered"; without this line an operator saw only the 502.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta did not answer in time, for WhatsApp number {PhoneNumberId}; whether it processed the call is unknown")]
    private static partial void LogTimedOut(ILogger logger, string phoneNumberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta could not be reached for WhatsApp number {PhoneNumberId}: {Error}")]
    private static partial void LogUnreachable(ILogger logger, HttpRequestError error, string phoneNumberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta's answer to a call for WhatsApp number {PhoneNumberId} was lost after the call was sent ({Error}); whether it processed the call is unknown")]
    private static partial void LogAnswerLost(ILogger logger, HttpRequestError error, string phoneNumberId);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Meta refused the access token of WhatsApp number {PhoneNumberId} (code {Code}, subcode {Subcode}): its business must connect WhatsApp again with a valid token")]
    private static partial void LogTokenRefused(ILogger logger, string phoneNumberId, int code, int? subcode);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meta answered HTTP {Status} with a body we could not read, for WhatsApp number {PhoneNumberId}")]
    private static partial void LogUnreadableAnswer(ILogger logger, int status, string phoneNumberId);
}
