using System.Text.Json;
using static Microsoft.AspNetCore.Http.StatusCodes;

namespace TwaBot.Api.Errors;

/// <summary>
/// The catalogue of error answers, keyed by error code. Texts shown in the public docs are quoted
/// from them exactly; the rest say what went wrong and, where it helps, what to do.
/// </summary>
public static class ApiErrors
{
    // --- Authentication -------------------------------------------------------------------

    /// <param name="queryAllowed">The route takes <c>apikey=</c> too (quick-send).</param>
    /// <param name="notRead">Where the request does carry something like a key, which this API does not read (the
    /// Authorization header): "required" alone reads as wrong to a developer who sent one.</param>
    public static ApiError MissingApiKey(bool queryAllowed, string? notRead = null) => Create(Status401Unauthorized, ErrorCodes.MissingApiKey,
        (queryAllowed
            ? "API key is required. Pass it in the X-API-Key header or the apikey query parameter"
            : "API key is required. Pass it in the X-API-Key header")
        + (notRead is null ? "." : $"; {notRead} is not read."));

    public static ApiError InvalidApiKey() => Create(Status401Unauthorized, ErrorCodes.InvalidApiKey, "Invalid API key.");

    public static ApiError ApiKeyWithScheme(string scheme) => Create(Status401Unauthorized, ErrorCodes.InvalidApiKey,
        $"Invalid API key: give the key alone, without \"{scheme} \" before it.");

    public static ApiError ApiKeyGivenTwice(string name) => Create(Status401Unauthorized, ErrorCodes.InvalidApiKey,
        $"Invalid API key: {name} is given more than once; give one key.");

    public static ApiError WrongModeApiKey(string expectedPrefix) => Create(Status401Unauthorized, ErrorCodes.InvalidApiKey,
        $"Invalid API key. This server only accepts {expectedPrefix} keys.");

    public static ApiError ApiKeyRevoked() => Create(Status401Unauthorized, ErrorCodes.ApiKeyRevoked,
        "This API key has been revoked. Generate a new key.");

    public static ApiError ApiKeyExpired() => Create(Status401Unauthorized, ErrorCodes.ApiKeyExpired,
        "This API key has expired. Generate a new key.");

    public static ApiError AdminUnauthorized() => Create(Status401Unauthorized, ErrorCodes.AdminUnauthorized,
        "A valid admin key is required in the X-Admin-Key header.");

    public static ApiError AdminKeyGivenTwice() => Create(Status401Unauthorized, ErrorCodes.AdminUnauthorized,
        "X-Admin-Key is given more than once; give one key.");

    // --- Limits ---------------------------------------------------------------------------

    /// <summary>The seed's 429 body, with the real seconds until a request would pass.</summary>
    public static ApiError RateLimited(int retryAfterSeconds) => RetryLater(Status429TooManyRequests, ErrorCodes.RateLimited,
        "Rate limit exceeded. Please slow down.", retryAfterSeconds);

    /// <summary>
    /// The seed's 429 body for an address that presented too many wrong keys: its right keys are refused too, and
    /// without the hint a client sending well within its own limits could not tell why.
    /// </summary>
    public static ApiError WrongKeysRateLimited(int retryAfterSeconds) => new(Status429TooManyRequests, new ErrorBody
    {
        Error = "Rate limit exceeded. Please slow down.",
        ErrorCode = ErrorCodes.RateLimited,
        RetryAfterSeconds = retryAfterSeconds,
        Hint = "Too many requests with a wrong key came from this address this minute, so every request from it is refused until the minute ends, whatever its key. Check the keys your applications send.",
    }, retryAfterSeconds);

    /// <summary>
    /// The seed's daily body (<c>Daily send limit reached (150/day on Growth plan). Resets at midnight. …</c>),
    /// with <c>retry_after: "midnight"</c> and <c>Retry-After</c> in seconds to the business's midnight.
    /// </summary>
    public static ApiError DailyLimitReached(int limit, int used, string plan, int secondsToMidnight) =>
        new(Status429TooManyRequests, new ErrorBody
        {
            Error = $"Daily send limit reached ({limit.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)}/day on {plan} plan). Resets at midnight."
                + (plan == nameof(Businesses.Plan.Pro) ? "" : " Upgrade to Pro for higher limits."),
            ErrorCode = ErrorCodes.DailyLimitReached,
            DailyLimit = limit,
            DailyUsed = used,
            Plan = plan,
            RetryAfter = "midnight",
        }, secondsToMidnight);

    /// <summary>The recipient's hourly OTP cap, with the seconds until its oldest OTP of the hour stops counting.</summary>
    public static ApiError OtpRecipientLimitReached(string phone, int limit, int retryAfterSeconds) => RetryLater(Status429TooManyRequests, ErrorCodes.OtpRecipientLimitReached,
        $"Too many OTPs to {phone}: at most {limit} per hour {(limit == 1 ? "is" : "are")} sent to one number. Try again in {Waiting(retryAfterSeconds)}.",
        retryAfterSeconds);

    private static string Waiting(int seconds)
    {
        if (seconds < 60)
        {
            return seconds == 1 ? "1 second" : $"{seconds} seconds";
        }

        var minutes = (seconds + 59) / 60; // a started minute counts
        return minutes == 1 ? "1 minute" : $"{minutes} minutes";
    }

    // --- Sending --------------------------------------------------------------------------

    public static ApiError PlanNotAllowed(string plan) => Create(Status403Forbidden, ErrorCodes.PlanNotAllowed,
        $"Sending is not available on the {plan} plan. Upgrade to Growth or Pro to send messages.");

    public static ApiError PermissionDenied(string permission) => Create(Status403Forbidden, ErrorCodes.PermissionDenied,
        $"This API key lacks the '{permission}' permission needed for this request.");

    /// <summary>The docs' text for a send; <paramref name="before"/> names what else waits for a connection.</summary>
    public static ApiError WhatsAppNotConnected(string before = "sending") => Create(Status400BadRequest, ErrorCodes.WhatsAppNotConnected,
        $"WhatsApp is not connected for this business. Connect a WhatsApp Business number before {before}.");

    public static ApiError WhatsAppTokenRejected() => Create(Status400BadRequest, ErrorCodes.WhatsAppNotConnected,
        "Meta rejected this business's WhatsApp access token (expired or revoked). Reconnect WhatsApp to keep sending.");

    /// <summary>The server cannot decrypt the stored token (its key ring was lost); the operator is told in the log.</summary>
    public static ApiError WhatsAppTokenUnreadable() => Create(Status400BadRequest, ErrorCodes.WhatsAppNotConnected,
        "This business's WhatsApp access token cannot be read by the server. Reconnect WhatsApp to keep sending.");

    /// <summary>
    /// The docs' text: <c>Template 'wrong_name' not found or not approved.</c> A zero-width space pasted with the name
    /// is shown (as for a phone): unseen, the error would name a template that /templates lists.
    /// </summary>
    public static ApiError TemplateNotFound(string name, string field, string? hint = null) =>
        new(Status400BadRequest, new ErrorBody
        {
            Error = $"Template '{Visible(name, 512)}' not found or not approved.",
            ErrorCode = ErrorCodes.TemplateNotFound,
            Field = field,
            Hint = hint,
        });

    public static ApiError TemplateParamsInvalid(string field, string message, string? hint = null) =>
        new(Status400BadRequest, new ErrorBody { Error = message, ErrorCode = ErrorCodes.TemplateParamsInvalid, Field = field, Hint = hint });

    /// <summary>The docs' text and <c>suppression_state</c>.</summary>
    public static ApiError Suppressed(string phone, string state) =>
        new(Status400BadRequest, new ErrorBody
        {
            Error = $"Phone {phone} is suppressed ({state}). Message not sent to protect your quality rating.",
            ErrorCode = ErrorCodes.Suppressed,
            SuppressionState = state,
            Hint = state == Conversations.SuppressionStates.MarketingOptedOut
                ? "The customer stopped marketing messages from this business in WhatsApp, and Meta would not deliver this MARKETING template (131050). Utility and authentication templates still reach them; this lifts when they resume marketing messages."
                : null,
        });

    /// <summary>The docs' body exactly, with the error and hint of the endpoint that was called.</summary>
    public static ApiError WindowClosed(Sending.WindowClosedText text, DateTime? lastInboundAt) =>
        new(Status400BadRequest, new ErrorBody
        {
            Error = text.Error,
            ErrorCode = ErrorCodes.WindowClosed,
            SessionWindow = new SessionWindowState(false, lastInboundAt),
            Hint = text.Hint,
        });

    public static ApiError RecipientUndeliverable(string phone) => Create(Status400BadRequest, ErrorCodes.RecipientUndeliverable,
        $"Message undeliverable — {phone} cannot receive WhatsApp messages from this number.");

    public static ApiError SenderNotRegistered() => Create(Status400BadRequest, ErrorCodes.RecipientUndeliverable,
        "Message undeliverable — this business's WhatsApp number is not registered on Meta's Cloud API (133010). Register the number in WhatsApp Manager, then send again.");

    /// <summary>A send Meta throttled; <paramref name="metaCode"/> says whose limit: the app's (4), the business account's (80007), else the number's.</summary>
    public static ApiError UpstreamRateLimited(int retryAfterSeconds, int? metaCode = null) => RetryLater(Status429TooManyRequests, ErrorCodes.UpstreamRateLimited,
        metaCode switch
        {
            4 => "Meta's rate limit for this server's Meta app, which every business here shares, was reached. Retry after the given seconds.",
            80007 => "Meta's rate limit for this business's WhatsApp account was reached. Retry after the given seconds.",
            _ => "Meta's sending rate limit for this WhatsApp number was reached. Retry shortly.",
        }, retryAfterSeconds);

    public static ApiError PairRateLimited(int retryAfterSeconds) => RetryLater(Status429TooManyRequests, ErrorCodes.PairRateLimited,
        "Too many messages to this recipient in a short time. Wait before messaging them again.", retryAfterSeconds);

    /// <param name="mayHaveBeenSent">False when the call certainly never reached Meta (connection refused).</param>
    /// <param name="messageId">
    /// For a send that may have been sent: our reference to its row (<see cref="Messages.MessageReferences"/>), which message-status takes
    /// until Meta's status webhook (or the sweep) settles it.
    /// </param>
    public static ApiError MetaUnavailable(bool mayHaveBeenSent, string? messageId = null) => !mayHaveBeenSent
        ? Create(Status502BadGateway, ErrorCodes.MetaUnavailable,
            "WhatsApp (Meta) could not be reached, or what answered was not Meta, so the message was not sent. Try again shortly.")
        : new(Status502BadGateway, new ErrorBody
        {
            Error = "WhatsApp (Meta) failed or did not answer, so whether it took the message is unknown; it may still be delivered, and sending it again may deliver it twice."
                + (messageId is null ? "" : " Follow it with GET /api/v1/message-status/{message_id}."),
            ErrorCode = ErrorCodes.MetaUnavailable,
            MessageId = messageId,
        });

    public static ApiError MetaPaused(int retryAfterSeconds) => RetryLater(Status503ServiceUnavailable, ErrorCodes.MetaUnavailable,
        "WhatsApp (Meta) is failing; sends are paused briefly. Retry after the given seconds.", retryAfterSeconds);

    public static ApiError MetaRejected(int code, string? details) => Create(Status400BadRequest, ErrorCodes.MetaRejected,
        $"WhatsApp (Meta) refused the message {CodeAndDetails(code, details)}");

    /// <summary>An admin call to Meta (template submission or sync) that Meta refused.</summary>
    public static ApiError MetaRequestRejected(int code, string? details) => Create(Status400BadRequest, ErrorCodes.MetaRejected,
        $"WhatsApp (Meta) refused the request {CodeAndDetails(code, details)}");

    private static string CodeAndDetails(int code, string? details) =>
        $"(code {code}){(string.IsNullOrWhiteSpace(details) ? "." : ": " + details)}";

    /// <summary>An admin call to Meta that failed or got no answer; nothing was stored (<paramref name="unchanged"/> says what).</summary>
    public static ApiError MetaRequestUnavailable(string unchanged = "nothing was changed here") => Create(Status502BadGateway, ErrorCodes.MetaUnavailable,
        $"WhatsApp (Meta) failed or did not answer; {unchanged}. Try again shortly.");

    /// <summary>An admin call Meta throttled (codes 4, 80007, 130429, or a bare 429); nothing was stored.</summary>
    public static ApiError MetaRequestRateLimited(int retryAfterSeconds, string unchanged) => RetryLater(Status429TooManyRequests, ErrorCodes.UpstreamRateLimited,
        $"Meta's rate limit was reached; {unchanged}. Retry after the given seconds.", retryAfterSeconds);

    /// <summary>An admin call not made: Meta has been failing and calls to it are paused; nothing was stored.</summary>
    public static ApiError MetaRequestPaused(int retryAfterSeconds, string unchanged) => RetryLater(Status503ServiceUnavailable, ErrorCodes.MetaUnavailable,
        $"WhatsApp (Meta) is failing, so calls to it are paused briefly; {unchanged}. Retry after the given seconds.", retryAfterSeconds);

    /// <summary>
    /// A template submission Meta may have received (a 5xx, no answer in time, an answer without the template's id):
    /// the row stays PENDING, so submitting it again would be refused as existing; a sync tells whether Meta has it.
    /// </summary>
    public static ApiError MetaTemplateOutcomeUnknown(string name, string language) => Create(Status502BadGateway, ErrorCodes.MetaUnavailable,
        $"WhatsApp (Meta) failed or did not answer, so whether it received template '{name}' ({language}) is unknown. It is kept here as PENDING: "
        + "sync templates to learn whether Meta has it (one Meta does not list is marked DELETED and can then be submitted again).");

    /// <summary>The docs' text and hint, also for another business's message (it does not exist for the caller).</summary>
    public static ApiError MessageNotFound() => new(Status404NotFound, new ErrorBody
    {
        Error = "Message not found.",
        ErrorCode = ErrorCodes.MessageNotFound,
        Hint = "Status is available within a few seconds of sending. If message_id is correct, retry shortly.",
    });

    // --- Request shape --------------------------------------------------------------------

    public static ApiError Validation(string field, string message) =>
        new(Status400BadRequest, new ErrorBody { Error = message, ErrorCode = ErrorCodes.ValidationFailed, Field = field });

    /// <summary>
    /// Says where the reader stopped and, for the mistakes hand-written JSON makes most (a trailing comma, a comment, single
    /// quotes, a body cut short), what to write instead: "not valid JSON" alone left a CRM developer searching the body.
    /// </summary>
    /// <param name="syntaxError">The reader's error (its message is .NET's wording, so only its position and kind are used).</param>
    /// <param name="body">The body, when at hand: the reader counts bytes, an editor characters (a Hindi letter is three bytes).</param>
    public static ApiError MalformedJson(JsonException? syntaxError = null, ReadOnlySpan<byte> body = default)
    {
        var where = syntaxError is { LineNumber: { } line, BytePositionInLine: { } position }
            ? $" at line {line + 1}, position {CharactersIn(body, line, position) + 1}"
            : "";
        var reader = syntaxError?.Message ?? "";
        var why = reader.Contains("trailing comma", StringComparison.Ordinal) ? ": remove the comma after the last value, which JSON does not allow"
            : reader.StartsWith("'/'", StringComparison.Ordinal) || reader.StartsWith("'#'", StringComparison.Ordinal) ? ": JSON has no comments; remove them"
            : reader.StartsWith("'''", StringComparison.Ordinal) ? ": JSON names and strings take double quotes (\"phone\"), not single quotes"
            : reader.Contains("invalid start of a property name", StringComparison.Ordinal) ? ": each field name takes double quotes (\"phone\": …)"
            : reader.Contains("is invalid after a value", StringComparison.Ordinal) ? ": a comma is missing before it, between two values"
            // "'{' is invalid after a single JSON value. Expected end of data.": more after the object (two objects, a stray ]),
            // which the "end of data" below would call a body cut short.
            : reader.Contains("is invalid after a single JSON value", StringComparison.Ordinal)
                ? ": the JSON ends before the body does; send one object, with nothing after its closing }"
            : reader.Contains("end of data", StringComparison.Ordinal) || reader.Contains("Expected depth to be zero", StringComparison.Ordinal)
                ? ": the body ends before the JSON does (a } or ] is missing, or the body was cut short)"
            : "";
        return Create(Status400BadRequest, ErrorCodes.ValidationFailed, $"Request body is not valid JSON{where}{why}.");
    }

    /// <summary>How many characters the first <paramref name="bytes"/> bytes of line <paramref name="line"/> hold; the bytes when the body is not at hand.</summary>
    private static long CharactersIn(ReadOnlySpan<byte> body, long line, long bytes)
    {
        if (body.IsEmpty)
        {
            return bytes;
        }

        for (var skipped = 0L; skipped < line && body.IndexOf((byte)'\n') is var end and >= 0; skipped++)
        {
            body = body[(end + 1)..];
        }

        var characters = 0L;
        foreach (var b in body[..(int)Math.Min(bytes, body.Length)])
        {
            characters += (b & 0xC0) == 0x80 ? 0 : 1; // a UTF-8 continuation byte is part of the character before it
        }

        return characters;
    }

    /// <summary>System.Text.Json reads 64 levels by default; no body of this API needs more than three.</summary>
    public static ApiError TooDeeplyNestedJson() => Create(Status400BadRequest, ErrorCodes.ValidationFailed,
        "Request body nests objects and arrays more than 64 levels deep, which is not read.");

    public static ApiError MissingBody() => Create(Status400BadRequest, ErrorCodes.ValidationFailed,
        "A JSON request body is required.");

    /// <summary>Valid JSON that is not an object (an array, a string, a number); the example suits the sends.</summary>
    public static ApiError BodyNotAnObject(string? example = "{\"phone\": \"919876543210\", …}") => Create(Status400BadRequest, ErrorCodes.ValidationFailed,
        example is null ? "The request body must be a JSON object ({…}), not an array, a string or a number." : $"The request body must be a JSON object, e.g. {example}.");

    public static ApiError BadRequest() => Create(Status400BadRequest, ErrorCodes.ValidationFailed,
        "The request could not be read.");

    /// <summary>
    /// Kestrel's minimum body rate (240 bytes a second after a 5-second grace): the client stopped sending before the
    /// body's end. Nothing was done, since a request acts only on its whole body.
    /// </summary>
    public static ApiError BodyStalled() => Create(Status400BadRequest, ErrorCodes.ValidationFailed,
        "The request body stopped arriving before its end (slower than 240 bytes a second for more than 5 seconds); nothing was done: send the request again.");

    /// <summary>A customer's number that is missing, in the same words on every route that takes one (sends, suppressions, the sandbox's sender).</summary>
    public static ApiError PhoneRequired(string field) => Validation(field,
        $"{field} is required: the customer's number with country code, e.g. 919876543210.");

    /// <summary>Names the value as given, with invisible characters shown (they are often why it failed) and cut short.</summary>
    public static ApiError InvalidPhone(string field, string value) =>
        new(Status400BadRequest, new ErrorBody
        {
            Error = $"Invalid phone number '{Visible(value, 40)}'. Use 8 to 15 digits with the country code, e.g. 919876543210."
                // A number typed with Arabic-Indic, Devanagari or full-width digits looks right to whoever typed it.
                + (value.Any(c => c == '\uFF0B' || (char.IsDigit(c) && !char.IsAsciiDigit(c))) ? " Type it with the digits 0-9 and +: other scripts' digits are not read." : ""),
            ErrorCode = ErrorCodes.InvalidPhone,
            Field = field,
        });

    /// <summary>
    /// <paramref name="value"/> with control, format and non-ASCII space characters written as <c>\uXXXX</c>,
    /// and at most <paramref name="maxCharacters"/> of its characters.
    /// </summary>
    private static string Visible(string value, int maxCharacters)
    {
        var text = new System.Text.StringBuilder();
        var shown = 0;
        foreach (var c in value)
        {
            if (shown++ == maxCharacters)
            {
                return text.Append('…').ToString();
            }

            if (char.IsControl(c) || (c != ' ' && Unicode.InvisibleCharacters.IsInvisible(c)))
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    public static ApiError PayloadTooLarge(long limitBytes) => Create(Status413PayloadTooLarge, ErrorCodes.PayloadTooLarge,
        $"Request body is too large. The limit is {limitBytes} bytes.");

    /// <param name="detail">What was sent instead, when that helps the caller (a form, a compressed body).</param>
    public static ApiError UnsupportedMediaType(string? detail = null) => Create(Status415UnsupportedMediaType, ErrorCodes.UnsupportedMediaType,
        "Send the request body as JSON with Content-Type: application/json." + (detail is null ? "" : " " + detail));

    /// <summary>A body labelled with a character set other than UTF-8 (<c>charset=iso-8859-1</c>, or one no encoding has).</summary>
    public static ApiError NotUtf8(string charset) => UnsupportedMediaType($"The body must be UTF-8 (it says charset={charset}).");

    /// <summary>A path no route takes; <paramref name="meant"/>, the route a near-miss path (send_template) stands for.</summary>
    public static ApiError RouteNotFound(string method, string path, string? meant = null) => Create(Status404NotFound, ErrorCodes.NotFound,
        meant is null ? $"No endpoint matches {method} {path}." : $"No endpoint matches {method} {path}: did you mean {meant}?");

    /// <summary>Names the methods the route takes (the routing's Allow header, <c>POST</c>): a CRM that sent a GET learns which to use.</summary>
    public static ApiError MethodNotAllowed(string method, string path, string? allowed = null) => Create(Status405MethodNotAllowed, ErrorCodes.MethodNotAllowed,
        string.IsNullOrWhiteSpace(allowed) ? $"Method {method} is not allowed on {path}." : $"Method {method} is not allowed on {path}: use {allowed}.");

    /// <summary>quick-send fetched by a browser's prefetch or prerender: sending then would send a message nobody asked for.</summary>
    public static ApiError SpeculativeFetch() => Create(Status400BadRequest, ErrorCodes.PrefetchRefused,
        "quick-send sends a message, so a browser's prefetch or preview of its URL sends nothing; open the URL itself to send.");

    public static ApiError Conflict(string message) => Create(Status409Conflict, ErrorCodes.Conflict, message);

    /// <summary>A send with this Idempotency-Key is still under way; once it is done, a retry gets its answer.</summary>
    public static ApiError IdempotencyKeyInUse(string key) => new(Status409Conflict, new ErrorBody
    {
        Error = $"A send with Idempotency-Key {key} is still under way. Retry in a moment to get its answer.",
        ErrorCode = ErrorCodes.IdempotencyKeyInUse,
    }, retryAfterSeconds: 1);

    /// <summary>
    /// A retry of a send whose answer was never kept (the server stopped, or could not write, after Meta was
    /// called): whether Meta took it is not known here, so it is the "outcome unknown" answer, not a second send.
    /// </summary>
    public static ApiError IdempotentSendInterrupted(string key, string messageId) => new(Status502BadGateway, new ErrorBody
    {
        Error = $"The send made with Idempotency-Key {key} was interrupted before its answer was kept, so this retry sends nothing; "
            + "the message may have been delivered. Follow it with GET /api/v1/message-status/{message_id}.",
        ErrorCode = ErrorCodes.MetaUnavailable,
        MessageId = messageId,
    });

    /// <summary>
    /// A retry of a send whose answer was kept but cannot be decrypted (the database was restored with a key ring
    /// older than it): that send went to Meta, so this is the "outcome unknown" answer, saying what is known.
    /// </summary>
    public static ApiError IdempotentAnswerUnreadable(string key, int keptStatusCode, string? messageId) => new(Status502BadGateway, new ErrorBody
    {
        Error = $"The answer kept for the send made with Idempotency-Key {key} cannot be read: the server no longer has the key "
            + "that encrypted it (a restore from a backup?). This retry sends nothing. "
            + (keptStatusCode is >= 200 and < 300
                ? "Meta accepted that send, so the message was sent"
                : "Whether Meta took that send was not known when it was answered, so the message may have been sent")
            + (messageId is null ? "." : ": follow it with GET /api/v1/message-status/{message_id}."),
        ErrorCode = ErrorCodes.MetaUnavailable,
        MessageId = messageId,
    });

    public static ApiError IdempotencyKeyReused(string key) => Create(Status422UnprocessableEntity, ErrorCodes.IdempotencyKeyReused,
        $"Idempotency-Key {key} was used for a different request in the last 24 hours. Use a new key for each new message.");

    public static ApiError Internal() => Create(Status500InternalServerError, ErrorCodes.InternalError,
        "An unexpected error occurred. It has been logged; please retry, and contact support if it persists.");

    /// <summary>The database cannot be written at the moment (<see cref="Data.SqliteFaults"/>): it passes, so a retry is the answer.</summary>
    public static ApiError StorageUnavailable() => RetryLater(Status503ServiceUnavailable, ErrorCodes.StorageUnavailable,
        "The server cannot write to its database at the moment (another program holds it, or its disk is full). "
            + "A send refused this way was not sent. Retry after the given seconds.",
        StorageRetryAfterSeconds);

    private const int StorageRetryAfterSeconds = 5;

    /// <summary>Any other status the framework produced without a body.</summary>
    public static ApiError ForStatus(int statusCode) => Create(statusCode,
        statusCode >= 500 ? ErrorCodes.InternalError : ErrorCodes.ValidationFailed,
        statusCode >= 500 ? "The server could not complete the request." : "The request could not be processed.");

    // --- Admin resources ------------------------------------------------------------------

    public static ApiError BusinessNotFound(long id) => Create(Status404NotFound, ErrorCodes.BusinessNotFound,
        $"Business {id} not found.");

    public static ApiError ApiKeyNotFound(long id) => Create(Status404NotFound, ErrorCodes.ApiKeyNotFound,
        $"API key {id} not found.");

    public static ApiError AdminTemplateNotFound(long id) => Create(Status404NotFound, ErrorCodes.TemplateNotFound,
        $"Template {id} not found.");

    public static ApiError SuppressionNotFound(string phone) => Create(Status404NotFound, ErrorCodes.SuppressionNotFound,
        $"Phone {phone} is not suppressed.");

    // --- Webhooks ------------------------------------------------------------------------

    public static ApiError InvalidSignature() => Create(Status401Unauthorized, ErrorCodes.InvalidSignature,
        "Missing or invalid X-Hub-Signature-256; the body was not stored.");

    public static ApiError WebhookVerificationFailed() => Create(Status403Forbidden, ErrorCodes.WebhookVerificationFailed,
        "Webhook verification failed: hub.mode must be subscribe and hub.verify_token must match.");

    public static ApiError WebhookChallengeMissing() => Create(Status403Forbidden, ErrorCodes.WebhookVerificationFailed,
        "Webhook verification failed: hub.challenge is missing; it is the value the handshake echoes.");

    private static ApiError Create(int status, string code, string message) =>
        new(status, new ErrorBody { Error = message, ErrorCode = code });

    /// <summary>An error that passes: <c>retry_after_seconds</c> in the body and the same in <c>Retry-After</c>.</summary>
    private static ApiError RetryLater(int status, string code, string message, int retryAfterSeconds) =>
        new(status, new ErrorBody { Error = message, ErrorCode = code, RetryAfterSeconds = retryAfterSeconds }, retryAfterSeconds);
}
