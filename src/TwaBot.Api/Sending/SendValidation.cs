using System.Buffers;
using System.Text.RegularExpressions;
using TwaBot.Api.Errors;
using TwaBot.Api.Phones;
using TwaBot.Api.Unicode;

namespace TwaBot.Api.Sending;

/// <summary>
/// Turns each endpoint's request into <see cref="OutgoingContent"/>, or the error naming the first
/// field that is wrong. Fields are checked in the order the docs list them.
/// </summary>
public static partial class SendValidation
{
    public const int MaxTextLength = 4096;
    public const int MaxCaptionLength = 1024;
    public const int MaxParameters = 30;
    public const int MaxParameterLength = 1024;

    /// <summary>A text header's value: Meta's send reference allows 60 characters in a header, 1024 in a body.</summary>
    public const int MaxTextHeaderParameterLength = 60;
    public const int MaxFilenameLength = 240;
    public const string DefaultLanguage = "en";

    public static readonly IReadOnlyList<string> MediaTypes = ["image", "document", "video", "audio"];

    /// <summary>WhatsApp's media type for a media_type written as the file's kind ("pdf"), named in the refusal.</summary>
    private static readonly Dictionary<string, string> MediaTypeOfFileKind = new(StringComparer.OrdinalIgnoreCase)
    {
        ["pdf"] = "document", ["doc"] = "document", ["docx"] = "document", ["xls"] = "document", ["xlsx"] = "document",
        ["csv"] = "document", ["txt"] = "document", ["file"] = "document",
        ["img"] = "image", ["photo"] = "image", ["picture"] = "image", ["jpg"] = "image", ["jpeg"] = "image", ["png"] = "image",
        ["mp4"] = "video", ["movie"] = "video", ["3gp"] = "video",
        ["mp3"] = "audio", ["ogg"] = "audio", ["aac"] = "audio", ["m4a"] = "audio", ["amr"] = "audio", ["voice"] = "audio",
    };

    public static ApiErrorOr<OutgoingContent> Template(SendTemplateRequest? request)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        return PhoneGiven("phone", request.Phone) ?? TemplateName("template_name", request.TemplateName)
            ?? Language("language", request.Language) ?? Parameters("body_params", request.BodyParams)
            ?? Parameters("header_params", request.HeaderParams, mayBeFileUrls: true)
            ?? Parameters("button_params", request.ButtonParams)
            ?? Phone("phone", request.Phone, out var phone)
            ?? (ApiErrorOr<OutgoingContent>)new TemplateContent(
                phone, request.TemplateName!.Trim(), LanguageOrDefault(request.Language),
                request.BodyParams ?? [], request.HeaderParams ?? [])
            { ButtonParams = request.ButtonParams ?? [] };
    }

    public static ApiErrorOr<OutgoingContent> Text(SendTextRequest? request)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        return PhoneGiven("phone", request.Phone) ?? Message("message", request.Message)
            ?? Phone("phone", request.Phone, out var phone)
            ?? (ApiErrorOr<OutgoingContent>)new TextContent(phone, request.Message!);
    }

    public static ApiErrorOr<OutgoingContent> Media(SendMediaRequest? request)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        if (PhoneGiven("phone", request.Phone) is { } missing)
        {
            return missing;
        }

        if (request.MediaType is null || !MediaTypes.Contains(request.MediaType.Trim().ToLowerInvariant()))
        {
            var asKind = request.MediaType is { } given && MediaTypeOfFileKind.TryGetValue(given.Trim(), out var kind)
                ? $" (a {given.Trim()} file is sent as \"{kind}\")" : "";
            return ApiErrors.Validation("media_type", $"media_type is required and must be one of: image, document, video, audio{asKind}.");
        }

        var mediaType = request.MediaType.Trim().ToLowerInvariant();
        var url = request.MediaUrl?.Trim();
        if (!IsFileUrl(url))
        {
            return ApiErrors.Validation("media_url",
                "media_url is required and must be an absolute http(s) URL of a publicly accessible file, with spaces and invisible characters percent-encoded.");
        }

        if (WhyMetaCannotFetch("media_url", url) is { } unreachable)
        {
            return ApiErrors.Validation("media_url", unreachable);
        }

        var caption = OptionalText(request.Caption);
        if (caption is not null && Caption(caption, mediaType) is { } captionError)
        {
            return captionError;
        }

        var filename = OptionalText(request.Filename);
        if (filename is not null && Filename(filename) is { } filenameError)
        {
            return filenameError;
        }

        if (Phone("phone", request.Phone, out var phone) is { } phoneError)
        {
            return phoneError;
        }

        // The URL goes to Meta as the client wrote it: Uri's normal form decodes escapes and drops
        // dot segments, which can break a signed URL.
        return new MediaContent(phone, mediaType, url, caption, filename);
    }

    private static ApiError? Caption(string caption, string mediaType)
    {
        if (mediaType == "audio")
        {
            return ApiErrors.Validation("caption", "caption is not supported for audio: WhatsApp shows captions on images, videos and documents only.");
        }

        return Unprintable("caption", caption) ?? (Characters(caption) > MaxCaptionLength
            ? ApiErrors.Validation("caption", $"caption must be at most {MaxCaptionLength} characters.")
            : null);
    }

    private static ApiError? Filename(string filename)
    {
        if (Characters(filename) > MaxFilenameLength)
        {
            return ApiErrors.Validation("filename", $"filename must be at most {MaxFilenameLength} characters.");
        }

        // A file's name is one line on the customer's phone: a line break, tab or NUL comes from a broken client.
        var controlAt = filename.AsSpan().IndexOfAny(ControlCharacters.AllAndLineSeparators);
        if (controlAt >= 0)
        {
            return ApiErrors.Validation("filename",
                $"filename must be one line without control characters ({ControlCharacters.Found(filename, controlAt)}).");
        }

        // "invoice\u202Efdp.exe" shows as "invoiceexe.pdf": a direction override in a file's name only ever disguises its type.
        var overrideAt = filename.AsSpan().IndexOfAny(DirectionOverrides);
        return overrideAt < 0 ? null : ApiErrors.Validation("filename",
            $"filename must not contain direction overrides or isolates ({ControlCharacters.Found(filename, overrideAt)}), which make a file's name read otherwise than it is.");
    }

    public static ApiErrorOr<OutgoingContent> Otp(SendOtpRequest? request)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        if ((PhoneGiven("phone", request.Phone) ?? TemplateName("template_name", request.TemplateName)) is { } error)
        {
            return error;
        }

        var otp = Optional(request.Otp); // empty is left out, as form builders send every field
        if (otp is not null && !OtpCode.IsValid(otp))
        {
            return ApiErrors.Validation("otp", "otp must be 4 to 15 digits, or left out to have a 6-digit code generated.");
        }

        return Language("language", request.Language)
            ?? Phone("phone", request.Phone, out var phone)
            ?? (ApiErrorOr<OutgoingContent>)new OtpContent(
                phone, request.TemplateName!.Trim(), LanguageOrDefault(request.Language), otp ?? OtpCode.Generate());
    }

    /// <summary>quick-send's query: <c>template=</c> (with <c>lang</c>, <c>params</c>) or <c>message=</c>.</summary>
    public static ApiErrorOr<OutgoingContent> QuickSend(QuickSendQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if ((query.Problem ?? PhoneGiven("phone", query.Phone)) is { } problem)
        {
            return problem;
        }

        // "+6591234567" is Singapore if the '+' was typed, an Indian mobile if a form encoder wrote a leading
        // space as '+'. Neither guess may send to the wrong country.
        if (query.PhoneHasLiteralPlus && PhoneNumber.IsIndianNationalForm(query.Phone))
        {
            return ApiErrors.Validation("phone",
                "phone starts with '+', which in a URL may also be an encoded space: write %2B for a country code (phone=%2B6591234567), or leave the + out for an Indian number.");
        }

        if (query.IsTemplate)
        {
            var parameters = QuickSendParams.Split(query.Params);
            var buttonParameters = QuickSendParams.Split(query.ButtonParams);
            return TemplateName("template", query.Template) ?? Language("lang", query.Lang) ?? Parameters("params", parameters)
                ?? Parameters("button_params", buttonParameters)
                ?? Phone("phone", query.Phone, out var phone)
                ?? (ApiErrorOr<OutgoingContent>)new TemplateContent(phone, query.Template!.Trim(), LanguageOrDefault(query.Lang), parameters, [])
                { ButtonParams = buttonParameters };
        }

        if (string.IsNullOrWhiteSpace(query.Message)) // and no template either
        {
            return ApiErrors.Validation("message", "template or message is required: template= for an approved template, message= for free-form text.");
        }

        // "message=Hello {{1}}&params=Rahul" would reach the customer as "Hello {{1}}": values only fill a template.
        var values = !string.IsNullOrWhiteSpace(query.Params) ? "params" : !string.IsNullOrWhiteSpace(query.ButtonParams) ? "button_params" : null;
        if (values is not null)
        {
            return ApiErrors.Validation(values,
                $"{values} fills a template's placeholders, and no template= is given: a message= text is sent as written, so write the values into it, or send a template with template=.");
        }

        return Message("message", query.Message) ?? Phone("phone", query.Phone, out var to)
            ?? (ApiErrorOr<OutgoingContent>)new TextContent(to, query.Message!);
    }

    // PRODUCT §2's order: a missing or bad field answers before a badly formed phone number, so the
    // number's format is checked last (PhoneGiven first, Phone at the end).
    internal static ApiError? PhoneGiven(string field, string? value) => string.IsNullOrWhiteSpace(value)
        ? ApiErrors.PhoneRequired(field)
        : null;

    private static ApiError? Phone(string field, string? value, out string phone) =>
        PhoneNumber.TryNormalize(value, out phone) ? null : ApiErrors.InvalidPhone(field, value ?? "");

    private static ApiError? TemplateName(string field, string? value) =>
        string.IsNullOrWhiteSpace(value) ? ApiErrors.Validation(field, $"{field} is required: the name of an approved template.")
        : value.Trim().Length > Templates.Template.MaxNameLength ? ApiErrors.Validation(field, $"{field} must be at most {Templates.Template.MaxNameLength} characters.")
        : null;

    private static ApiError? Language(string field, string? value) =>
        string.IsNullOrWhiteSpace(value) || Templates.Template.IsLanguageCode(value.Trim()) // empty is left out: form builders send every parameter
            ? null
            : NotALanguageCode(field, value);

    /// <summary>The refusal of a language code, in the same words wherever one is given (sends, quick-send, template submissions).</summary>
    internal static ApiError NotALanguageCode(string field, string value) =>
        ApiErrors.Validation(field, $"{field} must be a template language code such as en, en_US or pt_BR"
            + (LanguageCodeMeant(value.Trim()) is { } meant ? $"; language codes are case-sensitive: write {meant}" : "") + ".");

    /// <summary>The code <paramref name="value"/> names in another case or with a dash (<c>EN</c>, <c>en-us</c>); null when none.</summary>
    private static string? LanguageCodeMeant(string value)
    {
        var parts = value.Split('_', '-');
        var code = parts.Length switch
        {
            1 => parts[0].ToLowerInvariant(),
            2 => $"{parts[0].ToLowerInvariant()}_{parts[1].ToUpperInvariant()}",
            _ => "",
        };
        return code != value && Templates.Template.IsLanguageCode(code) ? code : null;
    }

    private static string LanguageOrDefault(string? value) => Optional(value) ?? DefaultLanguage;

    /// <summary>An absolute http(s) URL for Meta to fetch a file from, with nothing in it that needs encoding.</summary>
    public static bool IsFileUrl([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var parsed)
        && (parsed.Scheme == Uri.UriSchemeHttps || parsed.Scheme == Uri.UriSchemeHttp) && parsed.Host.Length > 0
        && !url.Any(c => InvisibleCharacters.IsInvisible(c) || char.IsControl(c));

    /// <summary>
    /// Why Meta's servers cannot download the file at <paramref name="url"/> (a <see cref="IsFileUrl"/>), naming
    /// <paramref name="field"/>, when its host is one they cannot reach from the internet (<see cref="PrivateFileHosts"/>);
    /// null otherwise. Refused at once rather than failed later by Meta.
    /// </summary>
    public static string? WhyMetaCannotFetch(string field, string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        // A name is judged as the ASCII name it is looked up as: fullwidth letters and digits, or ideographic full stops
        // ("１２７。0。0。1"), are the plain ones to a URL parser (IDNA mapping), so they reach the same host.
        return Uri.TryCreate(url, UriKind.Absolute, out var parsed) && PrivateFileHosts.Unreachable(AsciiHost(parsed)) is { } why
            ? $"{field} points at {parsed.Host}, {why}: Meta's servers download the file from the internet and cannot reach that address, so Meta would fail the send. Give a URL on a public host."
            : null;
    }

    /// <summary>
    /// The host as it is looked up. Fullwidth forms are mapped here rather than left to <see cref="Uri.IdnHost"/>, which maps them
    /// with ICU only (<see cref="FullwidthForms"/>); the ideographic full stops it reads as dots itself, ICU or not ("127。0。0。1").
    /// </summary>
    private static string AsciiHost(Uri parsed)
    {
        if (parsed.HostNameType != UriHostNameType.Dns)
        {
            return parsed.Host;
        }

        var ascii = FullwidthForms.AsAscii(parsed.Host);
        return Uri.CheckHostName(ascii) is UriHostNameType.IPv4 or UriHostNameType.Dns && Uri.TryCreate($"http://{ascii}/", UriKind.Absolute, out var mapped)
            ? (mapped.HostNameType == UriHostNameType.Dns ? mapped.IdnHost : mapped.Host)
            : parsed.IdnHost;
    }

    /// <summary>A trimmed optional text, or null when it is absent or blank.</summary>
    private static string? Optional(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>
    /// A trimmed optional text the customer reads (caption, filename), or null when a reader would see nothing
    /// in it: a text of only zero-width spaces or direction marks is empty, as it is for a message.
    /// </summary>
    private static string? OptionalText(string? value) => IsBlank(value) ? null : value!.Trim();

    private static ApiError? Message(string field, string? value) =>
        IsBlank(value) ? ApiErrors.Validation(field, $"{field} is required.")
        : Unprintable(field, value!)
        ?? (Characters(value!) is var count && count > MaxTextLength
            ? ApiErrors.Validation(field, $"{field} must be at most {MaxTextLength} characters (got {count}).")
            : null);

    /// <summary>Absent, or nothing a reader would see: spaces and invisible characters (zero-width space, direction marks).</summary>
    private static bool IsBlank(string? value) =>
        value is null || value.All(InvisibleCharacters.IsInvisible);

    /// <summary>
    /// Control characters other than line breaks and tabs (NUL, vertical tab, form feed, …) show as nothing or
    /// as boxes on the customer's phone and come from broken client encoding, never from a person's text.
    /// </summary>
    private static ApiError? Unprintable(string field, string value)
    {
        var at = value.AsSpan().IndexOfAny(ControlCharacters.BesideLineBreaks);
        return at < 0 ? null : ApiErrors.Validation(field, $"{field} must not contain control characters ({ControlCharacters.Found(value, at)}).");
    }

    /// <summary>Unicode's bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069); marks (LRM, RLM) stay allowed.</summary>
    private static readonly SearchValues<char> DirectionOverrides = SearchValues.Create("\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069");

    /// <summary>
    /// Characters as a reader counts them and as Meta reportedly counts its limits: Unicode code points,
    /// so an emoji is one, not the two UTF-16 units of <see cref="string.Length"/>.
    /// </summary>
    public static int Characters(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    /// <summary>Template values, by index; <paramref name="mayBeFileUrls"/> for headers, whose media value is a (long, signed) file URL.</summary>
    private static ApiError? Parameters(string field, IReadOnlyList<string?>? values, bool mayBeFileUrls = false)
    {
        if (values is null)
        {
            return null;
        }

        if (values.Count > MaxParameters)
        {
            return ApiErrors.Validation(field, $"{field} may have at most {MaxParameters} values.");
        }

        for (var i = 0; i < values.Count; i++)
        {
            var maxLength = mayBeFileUrls && IsFileUrl(values[i]) ? MaxTextLength : MaxParameterLength;
            if (IsBlank(values[i]) || Characters(values[i]!) > maxLength)
            {
                return ApiErrors.Validation($"{field}[{i}]",
                    $"{field}[{i}] must be a non-empty text of at most {maxLength} characters (WhatsApp rejects empty parameters).");
            }

            if (ParameterSpacing().IsMatch(values[i]!) || values[i]!.AsSpan().ContainsAny(ControlCharacters.BesideLineBreaks))
            {
                return ApiErrors.Validation($"{field}[{i}]",
                    $"{field}[{i}] must not contain line breaks, tabs, control characters or more than 4 spaces in a row (WhatsApp rejects such parameters).");
            }
        }

        return null;
    }

    // Meta refuses a template parameter with "Param text cannot have new-line/tab characters or more than 4
    // consecutive spaces" (quoted in netflie/whatsapp-cloud-api#201); refusing it here names the parameter
    // and spends neither a call to Meta nor a message row.
    [GeneratedRegex("[\\r\\n\\t\u2028\u2029]| {5}")]
    private static partial Regex ParameterSpacing();
}
