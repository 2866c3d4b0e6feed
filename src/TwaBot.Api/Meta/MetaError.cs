using System.Text.Json;

namespace TwaBot.Api.Meta;

/// <summary>
/// Meta's error object (<c>{"error": {message, type, code, error_subcode, error_data: {details}, fbtrace_id}}</c>).
/// Meta advises branching on <see cref="Code"/> and <see cref="Details"/>, not the HTTP status or the title.
/// </summary>
public sealed record MetaError(int Code, int? Subcode, string Message, string? Type, string? Details, string? FbtraceId, int HttpStatus)
{
    /// <summary>Throughput limits: the app (4), the WABA (80007), the phone number (130429).</summary>
    public bool IsThrottling => Code is 4 or 80007 or 130429;

    /// <summary>The business's token or permissions are not valid (expired token 190, OAuth, 200-299).</summary>
    public bool IsAuthorization => Code is 0 or 10 or 190 or (>= 200 and <= 299);

    /// <summary>Meta's message and details are a sentence or two; longer ones are cut to this many characters.</summary>
    public const int MaxTextLength = 1000;

    /// <summary>Meta's type is a word and its fbtrace id some 27 characters; longer ones are cut to this many.</summary>
    public const int MaxIdLength = 100;

    /// <summary>
    /// This error with the business's token, and anything shaped like a token or key, taken out of its texts:
    /// they reach callers' answers and stored failure reasons, and the log (the fbtrace id, which the log's
    /// redaction cannot tell from a token that is not shaped like Meta's). Each text is then cut to a length Meta's
    /// never reach, so that an answer of megabytes from whatever stands at Meta's address is not repeated whole
    /// to the caller, into the message's row and into a log line (cut after the redaction, never through a token).
    /// </summary>
    public MetaError WithoutSecrets(string accessToken) => this with
    {
        Message = Clean(Message, accessToken, MaxTextLength),
        Type = Type is null ? null : Clean(Type, accessToken, MaxIdLength),
        Details = Details is null ? null : Clean(Details, accessToken, MaxTextLength),
        FbtraceId = FbtraceId is null ? null : Clean(FbtraceId, accessToken, MaxIdLength),
    };

    private static string Clean(string text, string accessToken, int maxLength) => Cut(Redact(text, accessToken), maxLength);

    /// <summary>The text's first <paramref name="maxLength"/> characters and an ellipsis, never half of a surrogate pair.</summary>
    private static string Cut(string text, int maxLength) =>
        text.Length <= maxLength ? text : string.Concat(Unicode.TextCut.Prefix(text, maxLength), "…");

    private static string Redact(string text, string accessToken)
    {
        if (accessToken.Length > 0)
        {
            // As sent, and as an upstream may echo it back: URL-encoded, or with its '+' read as a space.
            foreach (var form in new[] { accessToken, Uri.EscapeDataString(accessToken), System.Net.WebUtility.UrlEncode(accessToken), accessToken.Replace('+', ' ') })
            {
                text = text.Replace(form, Logging.SecretRedaction.Redacted, StringComparison.OrdinalIgnoreCase);
            }
        }

        return Logging.SecretRedaction.Redact(text);
    }

    /// <summary>Parses Meta's error JSON; null when the body is not one.</summary>
    public static MetaError? TryParse(ReadOnlySpan<byte> body, int httpStatus)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (!MetaJson.Has(document.RootElement, "error", out var error) || MetaJson.WholeNumber(error, "code") is not { } codeValue)
            {
                return null;
            }

            return new MetaError(
                codeValue,
                MetaJson.WholeNumber(error, "error_subcode"),
                MetaJson.Str(error, "message") ?? "",
                MetaJson.Str(error, "type"),
                DetailsOf(error),
                MetaJson.Str(error, "fbtrace_id"),
                httpStatus);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // error_data is usually {messaging_product, details}, but some answers carry a plain string. Graph calls such as a
    // template's creation explain instead in error_user_title and error_user_msg (why Meta refused the template).
    // Blank details count as none: an answer built from them would quote nothing of what Meta said.
    private static string? DetailsOf(JsonElement error)
    {
        var details = !MetaJson.Has(error, "error_data", out var data) ? null
            : data.ValueKind == JsonValueKind.String ? MetaJson.Text(data)
            : MetaJson.Str(data, "details");
        if (!string.IsNullOrWhiteSpace(details))
        {
            return details;
        }

        return MetaJson.Str(error, "error_user_msg") is { Length: > 0 } userMessage
            ? (MetaJson.Str(error, "error_user_title") is { Length: > 0 } title ? $"{title}: {userMessage}" : userMessage)
            : null;
    }
}
