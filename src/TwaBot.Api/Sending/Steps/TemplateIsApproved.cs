using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Templates;
using TwaBot.Api.Unicode;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// Template and OTP sends name an approved template of the caller's business in that language, and
/// give exactly as many body parameters as it has placeholders, header parameters as its text
/// header has, and button parameters as it has buttons that take a value (Meta would refuse with 132000).
/// OTPs need an AUTHENTICATION template, whose copy-code button carries the code; a template send to
/// one gives the code as its one body value.
/// </summary>
public sealed class TemplateIsApproved(TwaBotDbContext db, SendLookups lookups) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        if (!context.Route.UsesTemplate || context.Content is not ITemplateContent content)
        {
            return null;
        }

        var business = await lookups.GetAsync(db, context.Caller.BusinessId, cancellationToken);
        var template = business.Approved(content.TemplateName, content.Language);
        if (template is null)
        {
            // The docs' text stays as it is; a hint says what Meta made of the template in that language (pending,
            // paused, rejected, and why), or names the languages it is approved in, since "not found" is puzzling
            // for a template the business submitted or /templates lists; when it is approved in no language, what Meta made
            // of it in the others (a template submitted as en_US and sent as en is still pending). Read only when a send is refused.
            var languages = business.ApprovedTemplates.Where(t => t.Name == content.TemplateName).Select(t => t.Language).Order().ToList();
            var stored = await db.Templates.AsNoTracking()
                .Where(t => t.BusinessId == context.Caller.BusinessId && t.Name == content.TemplateName
                    && t.Status != Templates.Template.Approved && t.Status != Templates.Template.Deleted)
                .OrderBy(t => t.Language).Select(t => new { t.Language, t.Status, t.StatusReason }).ToListAsync(cancellationToken);
            var asked = stored.Find(t => t.Language == content.Language);
            var hint = asked is not null ? NotApprovedHint(content.TemplateName, content.Language, asked.Status, asked.StatusReason)
                : languages.Count == 0 && stored.Count > 0
                    ? $"'{content.TemplateName}' is approved in no language, and Meta has it only as "
                        + $"{string.Join(", ", stored.Select(t => $"{t.Status} in '{t.Language}'"))}, not in '{content.Language}'."
                : languages.Count == 0 ? SimilarNameHint(business.ApprovedTemplates, content, context.Route.TemplateField)
                : $"'{content.TemplateName}' is approved in {string.Join(", ", languages)}, not in '{content.Language}': "
                    + $"set {context.Route.LanguageField} to {(languages.Count == 1 ? languages[0] : "one of those")}.";
            return ApiErrors.TemplateNotFound(content.TemplateName, context.Route.TemplateField, hint);
        }

        context.Template = template;
        var field = context.Content is OtpContent ? "template_name" : context.Route.ParamsField; // an OTP's count is the template's doing
        if (context.Content is OtpContent && !template.IsAuthentication)
        {
            return NotAnOtpTemplate(template.Name, template.Category);
        }

        if (template.BodyParameterCount != content.BodyParameterCount)
        {
            return WrongBodyParameterCount(template.Name, template.BodyParameterCount, field, content.BodyParameterCount,
                content is TemplateContent templateContent ? templateContent.BodyParams : null);
        }

        if (template.IsAuthentication && content is TemplateContent { BodyParams: [var code] } && code.Length > OtpCode.MaxLength)
        {
            return ApiErrors.TemplateParamsInvalid(field,
                $"Template '{template.Name}' is an AUTHENTICATION template: its one value is the code, at most {OtpCode.MaxLength} characters, which Meta also puts on its copy-code button.");
        }

        return ComponentsFit(context, template) ?? HeaderParametersFit(context, template) ?? ButtonParametersFit(context, template);
    }

    /// <summary>A carousel's cards or a limited-time offer's expiry need values this API has no field for: Meta would refuse.</summary>
    private static ApiError? ComponentsFit(SendContext context, Templates.Template template) => template.UnsendableComponent switch
    {
        null => null,
        var type => ApiErrors.TemplateParamsInvalid(context.Route.TemplateField,
            $"Template '{template.Name}' has {type switch { "CAROUSEL" => "a carousel", "LIMITED_TIME_OFFER" => "a limited-time offer", _ => "a component" }} "
            + $"(Meta's {type} component), which this API cannot fill; use a template without one."),
    };

    /// <summary>
    /// A name that differs from an approved one only in case, or is its display name (what /templates shows people:
    /// "Order Confirmation"), is named: Meta matches names exactly, so a CRM user would otherwise see only "not found".
    /// </summary>
    private static string? SimilarNameHint(IReadOnlyList<Templates.Template> approved, ITemplateContent content, string field)
    {
        var given = content.TemplateName;
        var similar = approved.FirstOrDefault(t => t.Language == content.Language && string.Equals(t.Name, given, StringComparison.OrdinalIgnoreCase))
            ?? approved.FirstOrDefault(t => t.Language == content.Language && string.Equals(t.DisplayName, given, StringComparison.OrdinalIgnoreCase));
        return similar is null ? null
            : string.Equals(similar.Name, given, StringComparison.OrdinalIgnoreCase)
            ? $"Template names match exactly, case included: set {field} to '{similar.Name}'."
            : $"'{similar.DisplayName}' is the display name of '{similar.Name}': set {field} to its name.";
    }

    private static string NotApprovedHint(string name, string language, string status, string? reason) =>
        $"'{name}' in '{language}' is {status} at Meta{(reason is null ? "" : $" ({reason})")}, not APPROVED: "
        + (status == Templates.Template.Pending ? "it can be sent once Meta approves it." : "only approved templates can be sent.");

    /// <summary>send-otp naming a template of another category: the code has nowhere to go (the OTP's count is never the client's).</summary>
    internal static ApiError NotAnOtpTemplate(string template, string category) => ApiErrors.TemplateParamsInvalid("template_name",
        $"Template '{template}' is a {category} template; OTPs need an approved AUTHENTICATION template.");

    // Too many quick-send params are most often a value with a comma in it (₹1,499 from a form), split in two; too few,
    // values joined with another list separator (a spreadsheet's ';', a gateway's '|'), which read as one.
    internal static ApiError WrongBodyParameterCount(string template, int variables, string field, int given, IReadOnlyList<string>? values = null) =>
        ApiErrors.TemplateParamsInvalid(field, $"Template '{template}' has {variables} body variable(s); {field} gave {given}.",
            field != SendRoute.QuickSendTemplate.ParamsField ? null
            : given > variables ? @"params are split at every comma: write a comma inside a value as \, (₹1\,499 for ₹1,499, %5C%2C in a URL)."
            : values?.FirstOrDefault(value => value.AsSpan().IndexOfAny(';', '|') >= 0) is { } joined
                ? $"params are separated by commas, not by '{joined[joined.AsSpan().IndexOfAny(';', '|')]}': write params=Rahul,ORD-12345,₹1499."
                : null);

    /// <summary>
    /// Each button that takes a value needs one, in the buttons' order: the end of a link, or a coupon code of
    /// letters and digits (Meta would refuse the send with 132000, or deliver a broken link).
    /// </summary>
    private static ApiError? ButtonParametersFit(SendContext context, Templates.Template template)
    {
        var expected = template.ButtonParameters;
        if (template.Buttons.Contains(TemplateButtons.Unsupported))
        {
            return ApiErrors.TemplateParamsInvalid(context.Route.TemplateField,
                $"Template '{template.Name}' has a multi-product button, whose products this API cannot give; use a template without one.");
        }

        var given = context.Content is TemplateContent templateContent ? templateContent.ButtonParams : [];
        if (given.Count != expected.Count)
        {
            return ApiErrors.TemplateParamsInvalid("button_params", expected.Count == 0
                ? $"Template '{template.Name}' has no button that takes a value; leave button_params out."
                : $"Template '{template.Name}' has {expected.Count} button value(s) to give ({string.Join(", ", expected)}); button_params gave {given.Count}.");
        }

        for (var i = 0; i < expected.Count; i++)
        {
            if (expected[i] == TemplateButtons.CouponCode && !TemplateButtons.IsCouponCode(given[i]))
            {
                return ApiErrors.TemplateParamsInvalid($"button_params[{i}]",
                    $"button_params[{i}] is the coupon code of template '{template.Name}': at most {TemplateButtons.MaxCouponCodeLength} letters and digits (A-Z, a-z, 0-9), as Meta requires.");
            }

            // Invisible characters too (a zero-width space pasted with an order id): they would go into the link
            // unseen, and the customer would open a page that does not exist.
            if (expected[i] == TemplateButtons.UrlSuffix && given[i].Any(InvisibleCharacters.IsInvisible))
            {
                return ApiErrors.TemplateParamsInvalid($"button_params[{i}]",
                    $"button_params[{i}] ends the link of a button of template '{template.Name}': write its spaces as %20, since a link holds none, and leave out invisible characters (zero-width spaces, direction marks).");
            }
        }

        return null;
    }

    /// <summary>
    /// Meta's send reference caps a text parameter at 60 characters in a header (1024 in a body): a longer one, a link too,
    /// would be answered "queued" and then refused by Meta.
    /// </summary>
    private static ApiError? TextHeaderValuesFit(string template, IReadOnlyList<string> headerParams)
    {
        for (var i = 0; i < headerParams.Count; i++)
        {
            if (SendValidation.Characters(headerParams[i]) is var count && count > SendValidation.MaxTextHeaderParameterLength)
            {
                return ApiErrors.TemplateParamsInvalid($"header_params[{i}]",
                    $"header_params[{i}] fills the text header of template '{template}': at most {SendValidation.MaxTextHeaderParameterLength} characters, as Meta allows in a header (got {count}).");
            }
        }

        return null;
    }

    /// <summary>
    /// A text header's placeholders need as many header_params, a media header its file's URL as the one
    /// value (Meta would refuse with 132000 or 132012 too); a location header cannot be filled here.
    /// </summary>
    private static ApiError? HeaderParametersFit(SendContext context, Templates.Template template)
    {
        var headerParams = context.Content is TemplateContent templateContent ? templateContent.HeaderParams : [];
        if (template.HeaderType == "location")
        {
            return ApiErrors.TemplateParamsInvalid(context.Route.TemplateField,
                $"Template '{template.Name}' has a location header, which this API cannot fill; use a template with a text, image, video or document header.");
        }

        if (template.HasMediaHeader)
        {
            return !context.Route.FillsHeaders
                ? ApiErrors.TemplateParamsInvalid(context.Route.TemplateField,
                    $"Template '{template.Name}' has a {template.HeaderType} header, which quick-send cannot fill; use POST /api/v1/send-template with the file's URL in header_params.")
                : headerParams.Count == 1 && SendValidation.IsFileUrl(headerParams[0])
                ? SendValidation.WhyMetaCannotFetch("header_params[0]", headerParams[0]) is { } unreachable
                    ? ApiErrors.TemplateParamsInvalid("header_params[0]", unreachable)
                    : null
                : ApiErrors.TemplateParamsInvalid("header_params",
                    $"Template '{template.Name}' has a {template.HeaderType} header: give the file's public http(s) URL as the one value of header_params.");
        }

        var given = headerParams.Count;
        if (given == template.HeaderParameterCount)
        {
            return TextHeaderValuesFit(template.Name, headerParams);
        }

        return !context.Route.FillsHeaders
            ? ApiErrors.TemplateParamsInvalid(context.Route.TemplateField,
                $"Template '{template.Name}' has {template.HeaderParameterCount} header variable(s), which quick-send cannot fill; use POST /api/v1/send-template with header_params.")
            : ApiErrors.TemplateParamsInvalid("header_params",
                $"Template '{template.Name}' has {template.HeaderParameterCount} header variable(s); header_params gave {given}.");
    }
}
