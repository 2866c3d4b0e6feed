using System.Text.RegularExpressions;
using TwaBot.Api.Errors;
using TwaBot.Api.Phones;

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
    public const string DefaultLanguage = "en";

    public static readonly IReadOnlyList<string> MediaTypes = ["image", "document", "video", "audio"];

    public static ApiErrorOr<OutgoingContent> Template(SendTemplateRequest? request)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        return PhoneGiven("phone", request.Phone) ?? TemplateName("template_name", request.TemplateName)
            ?? Language("language", request.Language) ?? Parameters("body_params", request.BodyParams)
            ?? Parameters("header_params", request.HeaderParams)
            ?? Phone("phone", request.Phone, out var phone)
            ?? (ApiErrorOr<OutgoingContent>)new TemplateContent(
                phone, request.TemplateName!.Trim(), LanguageOrDefault(request.Language),
                request.BodyParams ?? [], request.HeaderParams ?? []);
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
            return ApiErrors.Validation("media_type", "media_type is required and must be one of: image, document, video, audio.");
        }

        if (!Uri.TryCreate(request.MediaUrl?.Trim(), UriKind.Absolute, out var url)
            || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp) || url.Host.Length == 0)
        {
            return ApiErrors.Validation("media_url", "media_url is required and must be an absolute http(s) URL of a publicly accessible file.");
        }

        if (request.Caption is { } caption && Characters(caption) > MaxCaptionLength)
        {
            return ApiErrors.Validation("caption", $"caption must be at most {MaxCaptionLength} characters.");
        }

        if (request.Filename is { Length: > 240 })
        {
            return ApiErrors.Validation("filename", "filename must be at most 240 characters.");
        }

        if (Phone("phone", request.Phone, out var phone) is { } phoneError)
        {
            return phoneError;
        }

        return new MediaContent(phone, request.MediaType.Trim().ToLowerInvariant(), url, request.Caption, request.Filename);
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

        if (request.Otp is not null && !OtpCode.IsValid(request.Otp))
        {
            return ApiErrors.Validation("otp", "otp must be 4 to 15 digits, or left out to have a 6-digit code generated.");
        }

        return Language("language", request.Language)
            ?? Phone("phone", request.Phone, out var phone)
            ?? (ApiErrorOr<OutgoingContent>)new OtpContent(
                phone, request.TemplateName!.Trim(), LanguageOrDefault(request.Language), request.Otp ?? OtpCode.Generate());
    }

    /// <summary>quick-send's query: <c>template=</c> (with <c>lang</c>, <c>params</c>) or <c>message=</c>.</summary>
    public static ApiErrorOr<OutgoingContent> QuickSend(QuickSendQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (PhoneGiven("phone", query.Phone) is { } missing)
        {
            return missing;
        }

        if (query.IsTemplate)
        {
            var parameters = QuickSendParams.Split(query.Params);
            return TemplateName("template", query.Template) ?? Language("lang", query.Lang) ?? Parameters("params", parameters)
                ?? Phone("phone", query.Phone, out var phone)
                ?? (ApiErrorOr<OutgoingContent>)new TemplateContent(phone, query.Template!.Trim(), LanguageOrDefault(query.Lang), parameters, []);
        }

        if (string.IsNullOrWhiteSpace(query.Message)) // and no template either
        {
            return ApiErrors.Validation("message", "template or message is required: template= for an approved template, message= for free-form text.");
        }

        return Message("message", query.Message) ?? Phone("phone", query.Phone, out var to)
            ?? (ApiErrorOr<OutgoingContent>)new TextContent(to, query.Message!);
    }

    // PRODUCT §2's order: a missing or bad field answers before a badly formed phone number, so the
    // number's format is checked last (PhoneGiven first, Phone at the end).
    private static ApiError? PhoneGiven(string field, string? value) => string.IsNullOrWhiteSpace(value)
        ? ApiErrors.Validation(field, $"{field} is required: the customer's number with country code, e.g. 919876543210.")
        : null;

    private static ApiError? Phone(string field, string? value, out string phone) =>
        PhoneNumber.TryNormalize(value, out phone) ? null : ApiErrors.InvalidPhone(field, value ?? "");

    private static ApiError? TemplateName(string field, string? value) =>
        string.IsNullOrWhiteSpace(value) ? ApiErrors.Validation(field, $"{field} is required: the name of an approved template.")
        : value.Trim().Length > 512 ? ApiErrors.Validation(field, $"{field} must be at most 512 characters.")
        : null;

    private static ApiError? Language(string field, string? value) =>
        string.IsNullOrWhiteSpace(value) || LanguageCode().IsMatch(value) // empty is left out: form builders send every parameter
            ? null
            : ApiErrors.Validation(field, $"{field} must be a template language code such as en, en_US or pt_BR.");

    private static string LanguageOrDefault(string? value) => string.IsNullOrWhiteSpace(value) ? DefaultLanguage : value;

    private static ApiError? Message(string field, string? value) =>
        string.IsNullOrWhiteSpace(value) ? ApiErrors.Validation(field, $"{field} is required.")
        : Characters(value) is var count && count > MaxTextLength
            ? ApiErrors.Validation(field, $"{field} must be at most {MaxTextLength} characters (got {count}).")
        : null;

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

    private static ApiError? Parameters(string field, IReadOnlyList<string?>? values)
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
            if (string.IsNullOrWhiteSpace(values[i]) || Characters(values[i]!) > MaxParameterLength)
            {
                return ApiErrors.Validation(field,
                    $"{field}[{i}] must be a non-empty text of at most {MaxParameterLength} characters (WhatsApp rejects empty parameters).");
            }

            if (ParameterSpacing().IsMatch(values[i]!))
            {
                return ApiErrors.Validation(field,
                    $"{field}[{i}] must not contain line breaks, tabs or more than 4 spaces in a row (WhatsApp rejects such parameters).");
            }
        }

        return null;
    }

    // Meta refuses a template parameter with "Param text cannot have new-line/tab characters or more than 4
    // consecutive spaces" (quoted in netflie/whatsapp-cloud-api#201); refusing it here names the parameter
    // and spends neither a call to Meta nor a message row.
    [GeneratedRegex("[\\r\\n\\t]| {5}")]
    private static partial Regex ParameterSpacing();

    [GeneratedRegex("^[a-z]{2,3}(_[A-Z]{2,4})?$")]
    private static partial Regex LanguageCode();
}

/// <summary>quick-send's query parameters (the key comes separately, as <c>apikey</c> or the header).</summary>
public sealed record QuickSendQuery(string? Phone, string? Template, string? Lang, string? Params, string? Message)
{
    public bool IsTemplate => !string.IsNullOrWhiteSpace(Template);
}
