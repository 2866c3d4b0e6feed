using System.Text;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending;

/// <summary>
/// quick-send's query parameters (the key comes separately, as <c>apikey</c> or the header), read from
/// the raw query string. The framework's binding (and <c>QueryHelpers</c>, <c>WebUtility.UrlDecode</c>)
/// would get three things wrong for hand-written form-builder URLs: it turns a literal <c>+</c> into a
/// space, so <c>phone=+6591234567</c> lost its international mark and went to India as 916591234567 (such a
/// number is now refused as ambiguous, see <see cref="SendValidation.QuickSend"/>); it keeps an
/// undecodable escape such as Latin-1 <c>%E9</c> as literal text that went to the customer; and it joins
/// a repeated parameter's values with commas into a text nobody wrote.
/// </summary>
public sealed partial record QuickSendQuery(string? Phone, string? Template, string? Lang, string? Params, string? Message)
{
    private static readonly string[] Names = ["phone", "template", "lang", "params", "message", ButtonParamsName, Idempotency.IdempotencyRequest.QueryName];

    private const string ButtonParamsName = "button_params";

    /// <summary>
    /// send-template's names of quick-send's parameters, which a caller moving from one to the other may keep; and the
    /// header's name of idempotency_key (or a client's camelCase of it): ignored, a retry the caller believed safe would send twice.
    /// </summary>
    private static readonly (string Json, string Query)[] JsonFieldNames =
        [("template_name", "template"), ("body_params", "params"), ("language", "lang"),
         (Idempotency.IdempotencyRequest.HeaderName, Idempotency.IdempotencyRequest.QueryName), ("idempotencyKey", Idempotency.IdempotencyRequest.QueryName)];

    private const string MangledParams = "¶ms=";

    private const string HtmlAmpersand = "amp;";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A parameter that is given twice, cannot be decoded or would be read otherwise than meant; answered at the validation step.</summary>
    public ApiError? Problem { get; init; }

    /// <summary>
    /// The phone began with a literal '+', read as the country-code mark, though a form encoder also writes a
    /// leading space that way; see <see cref="SendValidation.QuickSend"/> for when that is ambiguous.
    /// </summary>
    public bool PhoneHasLiteralPlus { get; init; }

    /// <summary><c>button_params</c>: the values of the template's buttons that take one, comma-separated as <c>params</c>.</summary>
    public string? ButtonParams { get; init; }

    /// <summary>The <c>idempotency_key</c> parameter, for form builders that cannot set the header.</summary>
    public string? IdempotencyKey { get; init; }

    public bool IsTemplate => !string.IsNullOrWhiteSpace(Template);

    public bool IsText => !string.IsNullOrWhiteSpace(Message);

    /// <param name="queryString">The raw query, still percent-encoded, with or without its leading <c>?</c>.</param>
    public static QuickSendQuery Parse(string? queryString)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        ApiError? problem = null;
        var literalPlus = false;
        string? previousText = null;
        var misnamed = new List<(string Given, string Meant)>();
        foreach (var pair in (queryString ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var rawValue = equals < 0 ? "" : pair[(equals + 1)..];
            var nameDecoded = TryDecode(equals < 0 ? pair : pair[..equals], out var decodedName);
            if (!nameDecoded || Array.Find(Names, known => known.Equals(decodedName, StringComparison.OrdinalIgnoreCase)) is not { } name)
            {
                // "message=Rock+&+Roll": the '&' was not encoded, so the text was cut short and its rest reads as
                // a parameter no tool would name (no '=', or a space in its name). Sending "Rock " is worse than refusing.
                if (previousText is not null && (equals < 0 || !nameDecoded || decodedName.Any(char.IsWhiteSpace)))
                {
                    problem ??= ApiErrors.Validation(previousText,
                        $"{previousText} is cut short by an '&' that is not encoded (the text after it reads as another parameter): write & inside a value as %26.");
                }

                // A URL copied from an HTML page or email as written there: "&amp;phone=" is "&phone=" escaped for HTML.
                if (nameDecoded && decodedName.StartsWith(HtmlAmpersand, StringComparison.OrdinalIgnoreCase)
                    && Array.Find(Names, known => known.Equals(decodedName[HtmlAmpersand.Length..], StringComparison.OrdinalIgnoreCase)) is { } escaped)
                {
                    problem ??= ApiErrors.Validation(escaped,
                        $"{escaped} follows '&amp;', which is how an HTML page writes '&': write & in the URL.");
                }

                if (nameDecoded && MeantName(decodedName) is { } ours)
                {
                    misnamed.Add(ours);
                }

                previousText = null;
                continue; // apikey, and anything we do not read
            }

            previousText = name is "message" or "params" or ButtonParamsName ? name : null;

            if (!TryDecode(rawValue, out var value))
            {
                problem ??= ApiErrors.Validation(name,
                    $"{name} is not valid URL encoding of UTF-8 text (e.g. é is %C3%A9, not %E9); encode the value as UTF-8.");
                continue;
            }

            problem ??= MiswrittenValue(name, rawValue, value);

            if (name == "phone" && rawValue.StartsWith('+'))
            {
                value = string.Concat("+", value.AsSpan(1)); // a literal '+' before a number is its country-code mark, not a space
                literalPlus = true;
            }

            if (!values.TryAdd(name, value))
            {
                problem ??= ApiErrors.Validation(name, name == "params"
                    ? "params is given more than once; give all values in one params=, separated by commas."
                    : $"{name} is given more than once; give it once.");
            }
        }

        // Read as absent, "params[]=Rahul&params[]=ORD-1" would answer "params gave 0", pointing nowhere near the cause,
        // and "language=hi" would send in English. A form's own "language" field beside a text (a blank template= too) is left alone.
        if (misnamed.Find(m => !values.ContainsKey(m.Meant) && (m.Meant != "lang" || !string.IsNullOrWhiteSpace(values.GetValueOrDefault("template")))) is ({ } given, { } meant))
        {
            problem ??= ApiErrors.Validation(meant, $"quick-send reads {meant}=, not {given}=: "
                + (meant is "params" or ButtonParamsName ? $"give all values in one {meant}=, separated by commas." : $"write {meant}= once."));
        }

        return new QuickSendQuery(
            values.GetValueOrDefault("phone"), values.GetValueOrDefault("template"), values.GetValueOrDefault("lang"),
            values.GetValueOrDefault("params"), values.GetValueOrDefault("message"))
        {
            Problem = problem, PhoneHasLiteralPlus = literalPlus, ButtonParams = values.GetValueOrDefault(ButtonParamsName),
            IdempotencyKey = values.GetValueOrDefault(Idempotency.IdempotencyRequest.QueryName),
        };
    }

    /// <summary>
    /// The first sign that a decoded value holds more than its own text, as a URL built by hand or copied from a page
    /// leaves it; null for a value as meant.
    /// </summary>
    private static ApiError? MiswrittenValue(string name, string rawValue, string value)
    {
        // The public docs' own example shows "&params=" as "¶ms=" (an HTML page read "&para" as the ¶ entity);
        // copied as shown, params would be part of lang's (or template's) value, refused as a bad language.
        if (value.Contains(MangledParams, StringComparison.Ordinal))
        {
            return ApiErrors.Validation(name,
                $"{name} contains '{MangledParams}', which is '&params=' as an HTML page shows it (&para is the ¶ sign): write &params= in the URL.");
        }

        // "phone=919876543210;message=hi": ';' as the separator (old CGI style) leaves the next parameter inside this
        // value, and the answer would say it is missing. Looked for as sent: a text's own "; phone=" arrives encoded.
        if (ParameterAfterSemicolon(rawValue) is { } hidden)
        {
            return ApiErrors.Validation(hidden,
                $"{hidden} follows ';' inside {name}'s value: separate parameters with &, not ';'.");
        }

        return name is "message" or "params" && EscapeLeftByEncodingTwice(value) is { } escape
            ? ApiErrors.Validation(name, $"{name} reads as URL-encoded twice ({EncodedTwice(escape)}): encode the value once.")
            : null;
    }

    /// <summary>
    /// A parameter that is plainly one of ours under another name, as the answer can write it: PHP's and jQuery's
    /// array style (<c>params[]</c>, <c>params[0]</c>), or send-template's JSON field names.
    /// </summary>
    private static (string Given, string Meant)? MeantName(string given)
    {
        var bracket = given.IndexOf('[', StringComparison.Ordinal);
        if (bracket > 0 && Array.Find(Names, known => known.Equals(given[..bracket], StringComparison.OrdinalIgnoreCase)) is { } known)
        {
            return (known + "[]", known);
        }

        return Array.Find(JsonFieldNames, alias => alias.Json.Equals(given, StringComparison.OrdinalIgnoreCase)) is ({ } json, { } query)
            ? (json, query)
            : null;
    }

    /// <summary>One of our parameters written after a ';' in a value as sent (<c>;message=</c>), as the parameter it is.</summary>
    private static string? ParameterAfterSemicolon(string value)
    {
        for (var at = value.IndexOf(';', StringComparison.Ordinal); at >= 0; at = value.IndexOf(';', at + 1))
        {
            var equals = value.IndexOf('=', at + 1);
            var given = equals < 0 ? "" : value[(at + 1)..equals].Trim();
            if (given.Length > 0 && Array.Find(Names, known => given.Equals(known, StringComparison.OrdinalIgnoreCase)) is { } name)
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>
    /// A text encoded twice (a tool encoding a value its user had already encoded, or a URL copied from a browser's
    /// address bar) decodes to "Your%20order%20has", "ORD%2C123" or "%E2%82%B91499": the escape of a space, of a comma
    /// or of a character beyond ASCII, with no real space anywhere. No one types those to a customer; a link carries such
    /// escapes too, but always with a '/', so a value with one (or with a real space) is read as written. Returns the escape.
    /// </summary>
    private static string? EscapeLeftByEncodingTwice(string value)
    {
        if (value.Any(char.IsWhiteSpace) || value.Contains('/', StringComparison.Ordinal))
        {
            return null;
        }

        var match = EscapeNoOneTypes().Match(value);
        return match.Success ? match.Value[..3].ToUpperInvariant() : null;
    }

    /// <summary>The escape found, what it stands for and what was sent, in the answer's words.</summary>
    private static string EncodedTwice(string escape) => escape switch
    {
        "%20" => "%20 where a space was meant, sent from %2520",
        "%2C" => "%2C where a comma was meant, sent from %252C",
        _ => $"{escape}… where a character beyond ASCII was meant, sent from %25{escape[1..]}…",
    };

    /// <summary>%20 (a space), %2C (a comma), or the escaped first two bytes of a UTF-8 character beyond ASCII (%E2%82 of ₹).</summary>
    [System.Text.RegularExpressions.GeneratedRegex("%20|%2[Cc]|%[C-Fc-f][0-9A-Fa-f]%[89ABab][0-9A-Fa-f]")]
    private static partial System.Text.RegularExpressions.Regex EscapeNoOneTypes();

    /// <summary>Form-style decoding (<c>+</c> is a space) that refuses escapes which are not UTF-8.</summary>
    private static bool TryDecode(string raw, out string value)
    {
        if (raw.AsSpan().IndexOfAny('%', '+') < 0)
        {
            value = raw;
            return true;
        }

        var bytes = new List<byte>(raw.Length);
        Span<byte> encoded = stackalloc byte[4];
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c == '%' && i + 2 < raw.Length && char.IsAsciiHexDigit(raw[i + 1]) && char.IsAsciiHexDigit(raw[i + 2]))
            {
                bytes.Add(byte.Parse(raw.AsSpan(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture));
                i += 2;
            }
            else if (Rune.DecodeFromUtf16(raw.AsSpan(i), out var rune, out var consumed) == System.Buffers.OperationStatus.Done)
            {
                bytes.AddRange(encoded[..rune.EncodeToUtf8(encoded)]);
                i += consumed - 1;
            }
            else
            {
                value = "";
                return false;
            }
        }

        try
        {
            value = StrictUtf8.GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            value = "";
            return false;
        }
    }
}
