namespace TwaBot.Api.Templates;

/// <summary>
/// What a send gives each of a template's buttons, in Meta's order (a button's place is its <c>index</c> in a send):
/// a link ending in a variable takes that end, a copy-code button its coupon code, a multi-product button its
/// products (which this API cannot give), every other button nothing.
/// Authentication templates are not listed here: their copy-code button takes the OTP, which a send gives it.
/// </summary>
public static class TemplateButtons
{
    /// <summary>A URL button whose link ends in <c>{{1}}</c>: a send gives the text that replaces it.</summary>
    public const string UrlSuffix = "url_suffix";

    /// <summary>A marketing template's copy-code button: a send gives the code it copies.</summary>
    public const string CouponCode = "coupon_code";

    /// <summary>A quick reply, a phone number, a fixed link, a flow: a send gives nothing.</summary>
    public const string None = "none";

    /// <summary>A multi-product button, whose products each send must list: this API has no field for them.</summary>
    public const string Unsupported = "unsupported";

    /// <summary>Meta caps a coupon code at 15 characters, letters and digits only.</summary>
    public const int MaxCouponCodeLength = 15;

    /// <summary>A code Meta takes for a copy-code button: 1 to 15 ASCII letters and digits.</summary>
    public static bool IsCouponCode(string? code) =>
        code is { Length: > 0 and <= MaxCouponCodeLength } && code.All(char.IsAsciiLetterOrDigit);

    /// <summary>What a button of Meta's <paramref name="type"/> (URL, COPY_CODE, …) with this link takes at a send.</summary>
    public static string Of(string? type, string? url) => type?.ToUpperInvariant() switch
    {
        "URL" when Template.CountPlaceholders(url ?? "") > 0 => UrlSuffix,
        "COPY_CODE" => CouponCode,
        "MPM" => Unsupported,
        _ => None,
    };

    /// <summary>The values a send must give, in order: the buttons that take one.</summary>
    public static IReadOnlyList<string> Parameters(IReadOnlyList<string> buttons) => [.. buttons.Where(b => b is UrlSuffix or CouponCode)];
}
