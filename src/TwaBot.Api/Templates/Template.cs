using System.Text.RegularExpressions;

namespace TwaBot.Api.Templates;

/// <summary>A WhatsApp message template of a business, as Meta knows it (name + language).</summary>
public sealed partial class Template
{
    // Statuses the server acts on (Meta's words; the others are stored as Meta gives them).
    public const string Approved = "APPROVED";

    /// <summary>Submitted and not reviewed yet, or not known yet whether Meta took it.</summary>
    public const string Pending = "PENDING";

    /// <summary>Where a template disappeared from Meta's list: sends refuse it and /templates hides it.</summary>
    public const string Deleted = "DELETED";

    // Meta's three categories.
    public const string Authentication = "AUTHENTICATION";

    public const string Marketing = "MARKETING";

    public const string Utility = "UTILITY";

    /// <summary>Meta's longest validity for an authentication template's code, in minutes.</summary>
    public const int MaxCodeExpirationMinutes = 90;

    /// <summary>Meta's longest template name.</summary>
    public const int MaxNameLength = 512;

    public long Id { get; set; }

    public long BusinessId { get; set; }

    public required string Name { get; set; }

    public required string Language { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>The body text with <c>{{1}}</c>-style placeholders.</summary>
    public required string Content { get; set; }

    /// <summary>MARKETING, UTILITY or AUTHENTICATION.</summary>
    public required string Category { get; set; }

    /// <summary>Meta's review status: APPROVED, PENDING, REJECTED, PAUSED, …</summary>
    public required string Status { get; set; }

    public string? HeaderType { get; set; }

    public string? HeaderText { get; set; }

    public string? FooterText { get; set; }

    /// <summary>
    /// The first of its components (Meta's type, as listed) that a send here cannot fill: a <c>CAROUSEL</c>'s cards, a
    /// <c>LIMITED_TIME_OFFER</c>'s expiry, or a kind Meta adds later; null when it has none. Sends refuse such a
    /// template before Meta would. Known from a sync only (the admin API submits none).
    /// </summary>
    public string? UnsendableComponent { get; set; }

    /// <summary>Human names for the placeholders, in order.</summary>
    public List<string> Variables { get; set; } = [];

    /// <summary>Each of its buttons in Meta's order, by what a send gives it (<see cref="TemplateButtons"/>).</summary>
    public List<string> Buttons { get; set; } = [];

    /// <summary>
    /// Each button's label, in the same order as <see cref="Buttons"/> ("" where Meta gives none, as for a copy-code
    /// button). Empty for a template stored before labels were kept, until its next sync.
    /// </summary>
    public List<string> ButtonTexts { get; set; } = [];

    /// <summary>
    /// Each button's link as Meta holds it, in the same order as <see cref="Buttons"/> (a URL button's, with its
    /// <c>{{1}}</c>; "" for any other button). Empty for a template stored before links were kept, until its next sync.
    /// </summary>
    public List<string> ButtonUrls { get; set; } = [];

    /// <summary>
    /// When Meta triggered the status webhook last applied to this template (the entry's <c>time</c>), or when
    /// a create or sync last read its status from Meta; a status webhook older than that arriving later is stale.
    /// </summary>
    public DateTime? StatusEventAt { get; set; }

    /// <summary>Why Meta gave the status, as its last status webhook said (a rejection's reason, with what to fix when Meta said, a pause's notice) or a sync (a rejection's reason); null when it gave none.</summary>
    public string? StatusReason { get; set; }

    /// <summary>
    /// When Meta triggered the category change last applied (a webhook's entry <c>time</c>), or when a create or sync
    /// last read the category from Meta; a category webhook older than that arriving later is stale.
    /// </summary>
    public DateTime? CategoryEventAt { get; set; }

    /// <summary>
    /// When Meta triggered the components event (an edit) last applied, or when a sync last read the texts from Meta;
    /// a components event older than that arriving later is stale.
    /// </summary>
    public DateTime? ComponentsEventAt { get; set; }

    /// <summary>Meta's quality score (GREEN, YELLOW, RED, UNKNOWN), as its last quality event or sync said; null until one did.</summary>
    public string? QualityScore { get; set; }

    /// <summary>
    /// One of Meta's four quality scores, upper-cased, or null for anything else: the admin API documents these four,
    /// and a sender's other text (of any length) is not stored in their place.
    /// </summary>
    public static string? KnownQualityScore(string? score) =>
        score?.Trim().ToUpperInvariant() is ("GREEN" or "YELLOW" or "RED" or "UNKNOWN") and var known ? known : null;

    /// <summary>When Meta triggered the quality event last applied, or when a sync last read the score; an older quality event is stale.</summary>
    public DateTime? QualityEventAt { get; set; }

    /// <summary>Meta's template id, once Meta knows it.</summary>
    public string? MetaTemplateId { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>
    /// An authentication (OTP) template: Meta writes its texts, its one parameter is the code, and a send gives
    /// the code again to its copy-code button.
    /// </summary>
    public bool IsAuthentication => string.Equals(Category, Authentication, StringComparison.OrdinalIgnoreCase);

    /// <summary>A marketing template: the kind a customer can stop in WhatsApp, and the only kind with a coupon button.</summary>
    public bool IsMarketing => string.Equals(Category, Marketing, StringComparison.OrdinalIgnoreCase);

    /// <summary>The body Meta writes for an authentication template, the code being its one parameter.</summary>
    public static string AuthenticationBody(bool securityRecommendation) =>
        "{{1}} is your verification code." + (securityRecommendation ? " For your security, do not share this code." : "");

    /// <summary>The footer Meta writes for an authentication template whose code expires, or null.</summary>
    public static string? AuthenticationFooter(int? codeExpirationMinutes) =>
        codeExpirationMinutes is { } minutes ? $"This code expires in {minutes} minutes." : null;

    /// <summary>How many distinct <c>{{n}}</c> placeholders the body has: the body_params a send must give.</summary>
    public int BodyParameterCount => CountPlaceholders(Content);

    /// <summary>How many distinct placeholders the text header has: the header_params a send must give.</summary>
    public int HeaderParameterCount => CountPlaceholders(HeaderText ?? "");

    /// <summary>The button values a send must give (button_params), in the buttons' order.</summary>
    public IReadOnlyList<string> ButtonParameters => TemplateButtons.Parameters(Buttons);

    /// <summary>
    /// What /templates tells a CRM about each button_params value, in order: its kind, the button it fills (its index
    /// among all the buttons, as Meta's send format names it), that button's label and, for a link, the link its value ends.
    /// </summary>
    public IReadOnlyList<ButtonParameter> ButtonParameterViews() =>
        [.. Buttons.Select((kind, index) => (kind, index))
            .Where(button => button.kind is TemplateButtons.UrlSuffix or TemplateButtons.CouponCode)
            .Select(button => new ButtonParameter(button.kind, button.index, ButtonText(button.index),
                button.kind == TemplateButtons.UrlSuffix ? ButtonUrl(button.index) : null))];

    /// <summary>The label of the button at <paramref name="index"/>, or null when it has none or it is not known.</summary>
    public string? ButtonText(int index) => index < ButtonTexts.Count && ButtonTexts[index].Length > 0 ? ButtonTexts[index] : null;

    /// <summary>The link of the button at <paramref name="index"/>, or null when it has none or it is not known.</summary>
    public string? ButtonUrl(int index) => index < ButtonUrls.Count && ButtonUrls[index].Length > 0 ? ButtonUrls[index] : null;

    /// <summary>An image, video or document header, which a send fills with the file's URL (one header_params value).</summary>
    public bool HasMediaHeader => HeaderType is "image" or "video" or "document";

    /// <summary>
    /// The names of a named-parameter text's placeholders (<c>{{first_name}}</c>), in order of first appearance:
    /// the order in which a send's parameters fill them. Null when the placeholders are numbered (or absent).
    /// </summary>
    public static IReadOnlyList<string>? ParameterNames(string? text)
    {
        var names = Names(text);
        return names.Count > 0 && names.TrueForAll(name => !name.All(char.IsAsciiDigit)) ? names : null;
    }

    /// <summary>
    /// The placeholders' own names in the order a send fills them: <c>first_name</c>, … for named ones,
    /// <c>1</c>, <c>2</c>, … for numbered ones. What /templates lists when no one named the variables.
    /// </summary>
    public static IReadOnlyList<string> PlaceholderNames(string? text) =>
        ParameterNames(text) ?? [.. Names(text).OrderBy(name => name.Length).ThenBy(name => name, StringComparer.Ordinal)];

    public static int CountPlaceholders(string text) => Names(text).Count;

    /// <summary>The text with every placeholder replaced by <paramref name="value"/>.</summary>
    public static string ReplacePlaceholders(string text, string value) => Placeholder().Replace(text, value);

    private static List<string> Names(string? text) =>
        Placeholder().Matches(text ?? "").Select(match => match.Groups[1].Value).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// True when the placeholders are all named (<c>{{first_name}}</c>) or all numbered <c>{{1}}</c> to
    /// <c>{{n}}</c> without gaps: parameters are given by position, so <c>{{1}} {{3}}</c> has no meaning.
    /// </summary>
    public static bool PlaceholdersAreWellNumbered(string text)
    {
        var names = Names(text);
        var numbers = names.Select(name => int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0)
            .Where(n => n > 0).ToHashSet();
        return numbers.Count == 0 ? names.All(name => !name.All(char.IsAsciiDigit)) // named only ({{0}} is no name)
            : numbers.Count == names.Count && numbers.Max() == numbers.Count;
    }

    /// <summary>
    /// The first name of a named-parameter text that Meta refuses, or null: Meta takes names of lowercase letters, digits and
    /// underscores only (<c>{{first_name}}</c>, never <c>{{FirstName}}</c>), and refuses the template otherwise.
    /// </summary>
    public static string? NameMetaRefuses(string? text) =>
        ParameterNames(text)?.FirstOrDefault(name => !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'));

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial Regex Placeholder();

    /// <summary>Whether <paramref name="value"/> is written as Meta writes a template's language: en, en_US, fil, pt_BR.</summary>
    public static bool IsLanguageCode(string value) => LanguageCode().IsMatch(value);

    [GeneratedRegex(@"^[a-z]{2,3}(_[A-Z]{2,4})?\z")]
    private static partial Regex LanguageCode();
}

/// <summary>
/// One value a send gives in button_params: <paramref name="Kind"/> is <c>url_suffix</c> (the end of the button's link)
/// or <c>coupon_code</c> (the code its copy-code button copies); <paramref name="ButtonIndex"/> is the button's place among
/// all the template's buttons; <paramref name="Text"/> its label, or null when not known; <paramref name="Url"/> a link
/// button's link with the <c>{{1}}</c> the value replaces, or null (a coupon, or a link not known yet).
/// </summary>
public sealed record ButtonParameter(
    [property: System.ComponentModel.Description("url_suffix: the end of the button's link, which its {{1}} stands for; coupon_code: the code its copy-code button copies (at most 15 letters and digits).")] string Kind,
    [property: System.ComponentModel.Description("The button's place among all the template's buttons, from 0, in the order WhatsApp shows them.")] int ButtonIndex,
    [property: System.ComponentModel.Description("The button's label, or null when not known (a copy-code button, whose label Meta writes; a template stored before labels were kept, until its next sync).")] string? Text,
    [property: System.ComponentModel.Description("url_suffix: the button's link as approved, whose {{1}} the value replaces (e.g. https://shop.example/track/{{1}}: give ORD-12345, not the whole link); null for coupon_code, and for a template stored before links were kept, until its next sync.")] string? Url);
