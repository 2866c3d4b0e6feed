using TwaBot.Api.Errors;
using TwaBot.Api.Meta;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Admin;

/// <summary>
/// The buttons an admin may submit with a template, checked against Meta's rules before Meta is asked:
/// at most 10, two links, one phone number and one copy code, a link varying only in its end.
/// </summary>
internal static class TemplateButtonRules
{
    private const int MaxButtons = 10;
    private const int MaxLabel = 25;
    private const int MaxUrl = 2000;
    private const int MaxPhoneNumber = 20;
    private const string DefaultUrlExample = "example";
    private const string VariableEnd = "{{1}}";

    // Meta's button types, and how many of each one template may have.
    private static readonly Dictionary<string, int> Allowed = new(StringComparer.Ordinal)
    {
        ["QUICK_REPLY"] = MaxButtons, ["URL"] = 2, ["PHONE_NUMBER"] = 1, ["COPY_CODE"] = 1,
    };

    public static ApiError? Validate(IReadOnlyList<CreateTemplateButton?>? buttons, string category)
    {
        if (buttons is null)
        {
            return null;
        }

        if (category == Template.Authentication)
        {
            return ApiErrors.Validation("buttons", "buttons is not allowed for an AUTHENTICATION template: Meta gives it a copy-code button for the code.");
        }

        if (buttons.Count > MaxButtons)
        {
            return ApiErrors.Validation("buttons", $"buttons may have at most {MaxButtons} buttons.");
        }

        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var groups = 0;
        string? previous = null;
        for (var i = 0; i < buttons.Count; i++)
        {
            var field = $"buttons[{i}]";
            if (buttons[i] is not { } button)
            {
                return ApiErrors.Validation(field, $"{field} must be an object with type and, for most types, text.");
            }

            var type = button.Type?.Trim().ToUpperInvariant();
            if (type is null || !Allowed.TryGetValue(type, out var most))
            {
                return ApiErrors.Validation($"{field}.type", $"{field}.type must be one of QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE.");
            }

            counts[type] = counts.GetValueOrDefault(type) + 1;
            if (counts[type] > most)
            {
                return ApiErrors.Validation($"{field}.type", $"A template may have at most {most} {type} button(s), as Meta allows.");
            }

            // Meta takes quick replies and the other buttons in two groups, whichever comes first.
            groups += previous is null || (type == "QUICK_REPLY") != (previous == "QUICK_REPLY") ? 1 : 0;
            previous = type;
            if (groups > 2)
            {
                return ApiErrors.Validation($"{field}.type",
                    "Quick replies and the other buttons must each be together (the quick replies first or last), as Meta requires.");
            }

            if (Fields(field, type, button, category) is { } invalid)
            {
                return invalid;
            }
        }

        return null;
    }

    /// <summary>The button in Meta's create format: a varying link's example is the whole link, as Meta reviews it.</summary>
    public static MetaTemplateButton ToMeta(CreateTemplateButton button)
    {
        var type = button.Type!.Trim().ToUpperInvariant();
        var url = button.Url?.Trim();
        var example = type switch
        {
            "URL" when Template.CountPlaceholders(url!) > 0 => Template.ReplacePlaceholders(url!, Uri.EscapeDataString(string.IsNullOrWhiteSpace(button.Example) ? DefaultUrlExample : button.Example.Trim())),
            "COPY_CODE" => button.Example!.Trim(),
            _ => null,
        };
        return new MetaTemplateButton(type, type == "COPY_CODE" ? null : button.Text!.Trim(), url, button.PhoneNumber?.Trim(), example);
    }

    /// <summary>What a send gives each button (<see cref="TemplateButtons"/>).</summary>
    public static List<string> Kinds(IReadOnlyList<CreateTemplateButton?>? buttons) =>
        [.. (buttons ?? []).Select(b => TemplateButtons.Of(b!.Type?.Trim(), b.Url?.Trim()))];

    private static ApiError? Fields(string field, string type, CreateTemplateButton button, string category)
    {
        // Each type takes its own fields; another type's field is a mistake worth naming.
        var misplaced = new (string Name, string? Value, string Owner)[]
        {
            ("url", button.Url, "URL"), ("phone_number", button.PhoneNumber, "PHONE_NUMBER"),
        }.FirstOrDefault(f => f.Value is not null && f.Owner != type);
        if (misplaced.Name is not null)
        {
            return ApiErrors.Validation($"{field}.{misplaced.Name}", $"{field}.{misplaced.Name} is only for {misplaced.Owner} buttons.");
        }

        if (type == "COPY_CODE")
        {
            return CopyCode(field, button, category);
        }

        if (AdminRules.Line($"{field}.text", button.Text, MaxLabel) is { } label)
        {
            return label;
        }

        return type switch
        {
            "URL" => Link(field, button),
            "PHONE_NUMBER" => PhoneNumber(field, button),
            _ => button.Example is null ? null : ApiErrors.Validation($"{field}.example", $"{field}.example is only for URL and COPY_CODE buttons."),
        };
    }

    private static ApiError? CopyCode(string field, CreateTemplateButton button, string category)
    {
        if (category != Template.Marketing)
        {
            return ApiErrors.Validation($"{field}.type", "COPY_CODE buttons are for MARKETING templates only (coupon codes), as Meta allows.");
        }

        if (button.Text is not null)
        {
            return ApiErrors.Validation($"{field}.text", $"{field}.text is not allowed for COPY_CODE: WhatsApp writes the label.");
        }

        return TemplateButtons.IsCouponCode(button.Example?.Trim())
            ? null
            : ApiErrors.Validation($"{field}.example",
                $"{field}.example is required for COPY_CODE: a sample code of at most {TemplateButtons.MaxCouponCodeLength} letters and digits, which Meta reviews.");
    }

    private static ApiError? Link(string field, CreateTemplateButton button)
    {
        var url = button.Url?.Trim();
        if (AdminRules.Line($"{field}.url", url, MaxUrl) is { } missing)
        {
            return missing;
        }

        // Meta takes one variable, {{1}} written just so at the very end: the rest of the link is fixed, with no
        // other placeholder (a second {{1}}, a {{ 1 }}) nor braces, which Meta would refuse at review.
        var placeholders = url!.EndsWith(VariableEnd, StringComparison.Ordinal) ? 1 : 0;
        var fixedPart = url[..^(placeholders * VariableEnd.Length)];
        if (fixedPart.Contains("{{", StringComparison.Ordinal) || fixedPart.Contains("}}", StringComparison.Ordinal)
            || !Uri.TryCreate(fixedPart, UriKind.Absolute, out var link) || link.Scheme is not ("http" or "https") || fixedPart.Any(char.IsWhiteSpace))
        {
            return ApiErrors.Validation($"{field}.url",
                $"{field}.url must be an absolute http(s) link without spaces, which may end in {{{{1}}}} (each send then gives that end).");
        }

        return button.Example is not null && placeholders == 0
            ? ApiErrors.Validation($"{field}.example", $"{field}.example is only for a link that ends in {{{{1}}}}.")
            : AdminRules.OptionalLine($"{field}.example", button.Example, MaxUrl);
    }

    private static ApiError? PhoneNumber(string field, CreateTemplateButton button)
    {
        var number = button.PhoneNumber?.Trim();
        return number is { Length: > 1 and <= MaxPhoneNumber } && (number[0] == '+' || char.IsAsciiDigit(number[0])) && number[1..].All(char.IsAsciiDigit)
            ? button.Example is null ? null : ApiErrors.Validation($"{field}.example", $"{field}.example is only for URL and COPY_CODE buttons.")
            : ApiErrors.Validation($"{field}.phone_number", $"{field}.phone_number is required: the number to call with its country code, digits only, e.g. +919876543210.");
    }
}
