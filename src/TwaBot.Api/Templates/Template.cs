using System.Text.RegularExpressions;

namespace TwaBot.Api.Templates;

/// <summary>A WhatsApp message template of a business, as Meta knows it (name + language).</summary>
public sealed partial class Template
{
    public const string Approved = "APPROVED";

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

    /// <summary>Human names for the placeholders, in order.</summary>
    public List<string> Variables { get; set; } = [];

    /// <summary>Meta's template id, once Meta knows it.</summary>
    public string? MetaTemplateId { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>How many distinct <c>{{n}}</c> placeholders the body has: the body_params a send must give.</summary>
    public int BodyParameterCount => CountPlaceholders(Content);

    /// <summary>How many distinct placeholders the text header has: the header_params a send must give.</summary>
    public int HeaderParameterCount => CountPlaceholders(HeaderText ?? "");

    public static int CountPlaceholders(string text) =>
        Placeholder().Matches(text ?? "").Select(match => match.Groups[1].Value).Distinct(StringComparer.Ordinal).Count();

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")]
    private static partial Regex Placeholder();
}
