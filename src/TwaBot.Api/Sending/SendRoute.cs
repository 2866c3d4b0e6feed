using TwaBot.Api.ApiKeys;

namespace TwaBot.Api.Sending;

/// <summary>
/// What a send endpoint is, for the pipeline: the permission it needs, whether it names a template
/// (template step), and whether it is free-form (24-hour window step), with the WINDOW_CLOSED
/// texts the public docs show for it.
/// </summary>
public sealed record SendRoute(string Name, string Permission, bool UsesTemplate, bool FreeForm, WindowClosedText WindowClosed)
{
    /// <summary>The request field that names the template, for errors about it.</summary>
    public string TemplateField { get; private init; } = "template_name";

    /// <summary>The request field that fills the template's variables, for errors about them.</summary>
    public string ParamsField { get; private init; } = "body_params";

    /// <summary>The request field that names the template's language, for errors about it.</summary>
    public string LanguageField { get; private init; } = "language";

    /// <summary>Whether the request can give header values (<c>header_params</c>); quick-send's URL cannot.</summary>
    public bool FillsHeaders { get; private init; } = true;

    public static readonly SendRoute SendTemplate = new("send-template", ApiKeyPermissions.SendTemplate, UsesTemplate: true, FreeForm: false, WindowClosedText.TemplateRefused);
    public static readonly SendRoute SendText = new("send-text", ApiKeyPermissions.SendText, UsesTemplate: false, FreeForm: true, WindowClosedText.SendText);
    public static readonly SendRoute SendMedia = new("send-media", ApiKeyPermissions.SendMedia, UsesTemplate: false, FreeForm: true, WindowClosedText.General);
    public static readonly SendRoute SendOtp = new("send-otp", ApiKeyPermissions.SendOtp, UsesTemplate: true, FreeForm: false, WindowClosedText.TemplateRefused) { ParamsField = "otp" };
    public static readonly SendRoute QuickSendTemplate = new("quick-send", ApiKeyPermissions.SendTemplate, UsesTemplate: true, FreeForm: false, WindowClosedText.TemplateRefused)
    { TemplateField = "template", ParamsField = "params", LanguageField = "lang", FillsHeaders = false };
    public static readonly SendRoute QuickSendText = new("quick-send", ApiKeyPermissions.SendText, UsesTemplate: false, FreeForm: true, WindowClosedText.QuickSend);
}

/// <summary>
/// The public docs' WINDOW_CLOSED error and hint, which differ by endpoint. (The docs print
/// "¶ms" in the quick-send hint: an HTML rendering of "&amp;params", written here as meant.)
/// </summary>
public sealed record WindowClosedText(string Error, string Hint)
{
    private const string Closed =
        "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business.";

    private const string PostHint = "Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead.";

    public static readonly WindowClosedText General = new($"{Closed} Use a pre-approved template for re-engagement.", PostHint);

    public static readonly WindowClosedText SendText = new(
        $"{Closed} Use a pre-approved template (send-template or quick-send with template=) for re-engagement.", PostHint);

    /// <summary>
    /// Template routes never fail our own window check (templates work at any time), so they meet
    /// WINDOW_CLOSED only when Meta refuses a template with 131047; advising a template would not help.
    /// </summary>
    public static readonly WindowClosedText TemplateRefused = new(
        "Meta refused this template message under its 24-hour customer service window rule (131047: more than 24 hours since the contact last messaged your business).",
        "Templates normally work at any time: check the template's status and category in WhatsApp Manager, or send again after the contact messages your business.");

    public static readonly WindowClosedText QuickSend = new(
        $"{Closed} Use a pre-approved template for re-engagement.",
        "Call GET /api/v1/quick-send?phone=...&template=<approved_template_name>&params=... instead.");
}
