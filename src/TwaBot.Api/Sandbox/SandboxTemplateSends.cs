using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Businesses;
using TwaBot.Api.Data;
using TwaBot.Api.Templates;
using static TwaBot.Api.Sandbox.GraphRequest;

namespace TwaBot.Api.Sandbox;

/// <summary>A template send as the emulator checks it against its stored template: parameters of the body, header and buttons, as Meta does.</summary>
internal static class SandboxTemplateSends
{
    internal static async Task<IResult?> CheckTemplateAsync(JsonObject? template, WhatsAppConnection connection, TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var name = Str(template, "name");
        var language = Str(template?["language"] as JsonObject, "code");
        if (name is null || language is null)
        {
            return GraphErrors.InvalidParameter("template.name and template.language.code are required.");
        }

        var stored = await FindTemplateAsync(connection.WabaId, name, language, db, cancellationToken);
        if (stored is null)
        {
            return GraphErrors.TemplateMissing(name, language);
        }

        var components = (template!["components"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var parameters = ParametersOf(components, "body");
        var expected = Template.CountPlaceholders(stored.Body);
        if (parameters.Count != expected)
        {
            return GraphErrors.TemplateParameters(parameters.Count, expected);
        }

        if (string.Equals(stored.Category, Template.Authentication, StringComparison.OrdinalIgnoreCase) && !HasCodeButton(components))
        {
            return GraphErrors.CodeButtonParameter();
        }

        if (CheckHeader(stored, components) is { } badHeader)
        {
            return badHeader;
        }

        // A named-parameter template takes each value by its name, as Meta does.
        return Template.ParameterNames(stored.Body) is { } names
            && !parameters.Select(p => Str(p, "parameter_name") ?? "").Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal))
                ? GraphErrors.NamedParameters(names)
                : CheckButtons(stored, components);
    }

    /// <summary>
    /// A text header's placeholders take as many text parameters in a header component. The emulator keeps no
    /// media headers (a template synced with one has no header text here), so a file parameter passes there.
    /// </summary>
    private static IResult? CheckHeader(SandboxTemplate stored, List<JsonObject> components)
    {
        var headerParameters = ParametersOf(components, "header");
        var textParameters = headerParameters.Count(p => Str(p, "type") == "text");
        var headerExpected = Template.CountPlaceholders(stored.HeaderText ?? "");
        if (stored.HeaderText is not null && textParameters < headerParameters.Count)
        {
            return GraphErrors.HeaderFormat();
        }

        return textParameters != headerExpected ? GraphErrors.HeaderParameters(textParameters, headerExpected) : null;
    }

    /// <summary>The parameters of a send's components of one type (body, header), in order.</summary>
    private static List<JsonObject> ParametersOf(List<JsonObject> components, string type) => components
        .Where(c => string.Equals(Str(c, "type"), type, StringComparison.OrdinalIgnoreCase))
        .SelectMany(c => (c["parameters"] as JsonArray)?.OfType<JsonObject>() ?? []).ToList();

    /// <summary>
    /// A button whose link ends in a variable takes a <c>url</c> button component with one text parameter at its
    /// index, a copy-code button a <c>copy_code</c> one with a <c>coupon_code</c>; a quick reply none, or a
    /// <c>quick_reply</c> one with the <c>payload</c> its tap sends back (meta-cloud-api.md §1.2); other buttons none.
    /// </summary>
    private static IResult? CheckButtons(SandboxTemplate stored, List<JsonObject> components)
    {
        if (string.Equals(stored.Category, Template.Authentication, StringComparison.OrdinalIgnoreCase))
        {
            return null; // its copy-code button is checked above
        }

        var buttons = stored.ButtonsJson is null ? [] : JsonNode.Parse(stored.ButtonsJson)!.AsArray().OfType<JsonObject>().ToList();
        var given = components.Where(c => string.Equals(Str(c, "type"), "button", StringComparison.OrdinalIgnoreCase))
            .GroupBy(c => c["index"]?.ToString() ?? "").ToDictionary(g => g.Key, g => g.ToList());
        for (var index = 0; index < buttons.Count; index++)
        {
            var kind = TemplateButtons.Of(Str(buttons[index], "type"), Str(buttons[index], "url"));
            var parameters = given.Remove(index.ToString(CultureInfo.InvariantCulture), out var atIndex) && atIndex is [var component]
                && component["parameters"] is JsonArray { Count: 1 } list && list[0] is JsonObject parameter
                ? (SubType: Str(component, "sub_type")?.ToLowerInvariant(), Parameter: parameter) : default;
            var fits = kind switch
            {
                TemplateButtons.UrlSuffix => parameters.SubType == "url" && Str(parameters.Parameter, "type") == "text"
                    && Str(parameters.Parameter, "text") is { Length: > 0 },
                TemplateButtons.CouponCode => parameters.SubType == "copy_code" && Str(parameters.Parameter, "type") == "coupon_code"
                    && TemplateButtons.IsCouponCode(Str(parameters.Parameter, "coupon_code")),
                _ when IsQuickReply(buttons[index]) => atIndex is null
                    || (parameters.SubType == "quick_reply" && Str(parameters.Parameter, "type") == "payload" && Str(parameters.Parameter, "payload") is { Length: > 0 }),
                _ => atIndex is null,
            };
            if (!fits)
            {
                return GraphErrors.ButtonParameter($"the button at index {index} takes " + kind switch
                {
                    TemplateButtons.UrlSuffix => "one text parameter, the end of its link (sub_type url)",
                    TemplateButtons.CouponCode => "one coupon_code parameter of at most 15 letters and digits (sub_type copy_code)",
                    _ when IsQuickReply(buttons[index]) => "no parameter, or one payload parameter (sub_type quick_reply)",
                    _ => "no parameter",
                });
            }
        }

        return given.Count == 0 ? null : GraphErrors.ButtonParameter($"the template has no button at index {given.Keys.First()}");
    }

    private static bool IsQuickReply(JsonObject button) => string.Equals(Str(button, "type"), "QUICK_REPLY", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// An authentication template's copy-code button became a URL button at Meta, so a send gives it the code:
    /// <c>{type: button, sub_type: url, index: 0, parameters: [{type: text, text: code}]}</c>.
    /// </summary>
    private static bool HasCodeButton(List<JsonObject> components) => components.Any(c =>
        string.Equals(Str(c, "type"), "button", StringComparison.OrdinalIgnoreCase)
        && string.Equals(Str(c, "sub_type"), "url", StringComparison.OrdinalIgnoreCase)
        && c["index"]?.ToString() == "0"
        && c["parameters"] is JsonArray { Count: 1 } buttonParameters
        && buttonParameters[0] is JsonObject parameter && Str(parameter, "type") == "text"
        && Str(parameter, "text") is { Length: > 0 and <= 15 });

    internal static async Task<string> TemplateCategoryAsync(JsonObject body, WhatsAppConnection connection, TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var template = body["template"] as JsonObject;
        var stored = await FindTemplateAsync(connection.WabaId, Str(template, "name")!, Str(template?["language"] as JsonObject, "code")!, db, cancellationToken);
        return stored?.Category.ToLowerInvariant() ?? "utility";
    }

    private static Task<SandboxTemplate?> FindTemplateAsync(string wabaId, string name, string language, TwaBotDbContext db, CancellationToken cancellationToken) =>
        db.SandboxTemplates.AsNoTracking().SingleOrDefaultAsync(
            t => t.WabaId == wabaId && t.Name == name && t.Language == language && t.Status == Template.Approved, cancellationToken);
}
