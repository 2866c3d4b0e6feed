using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// Template and OTP sends name an approved template of the caller's business in that language, and
/// give exactly as many body parameters as it has placeholders (Meta would refuse with 132000).
/// OTPs need an AUTHENTICATION template, whose copy-code button carries the code.
/// </summary>
public sealed class TemplateIsApproved(TwaBotDbContext db, SendLookups lookups) : ISendStep
{
    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        if (!context.Route.UsesTemplate || context.Content is not ITemplateContent content)
        {
            return null;
        }

        var template = (await lookups.GetAsync(db, context.Caller.BusinessId, cancellationToken)).Approved(content.TemplateName, content.Language);
        if (template is null)
        {
            return ApiErrors.TemplateNotFound(content.TemplateName);
        }

        context.Template = template;
        var field = context.Content is OtpContent ? "template_name" : context.Route.Name == "quick-send" ? "params" : "body_params";
        if (context.Content is OtpContent && !string.Equals(template.Category, "AUTHENTICATION", StringComparison.OrdinalIgnoreCase))
        {
            return ApiErrors.TemplateParamsInvalid(field,
                $"Template '{template.Name}' is a {template.Category} template; OTPs need an approved AUTHENTICATION template.");
        }

        return template.BodyParameterCount == content.BodyParameterCount
            ? null
            : ApiErrors.TemplateParamsInvalid(field,
                $"Template '{template.Name}' has {template.BodyParameterCount} body variable(s); {field} gave {content.BodyParameterCount}.");
    }
}
