using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Data;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Templates;

/// <summary><c>GET /api/v1/templates</c>: the caller's Meta-approved templates.</summary>
public static class TemplatesApi
{
    public static RouteGroupBuilder MapTemplates(this RouteGroupBuilder api)
    {
        api.MapGet("/templates", ListApproved)
            .WithName("ListTemplates")
            .WithTags("Templates")
            .WithSummary("List your business's Meta-approved WhatsApp templates.")
            .WithDescription("The docs' fields, and button_params (an addition): the values a send's button_params must give, in order, "
                + "each with its kind (url_suffix, coupon_code), the button it fills, that button's label and, for url_suffix, "
                + "the link whose {{1}} the value replaces; [] when no button takes one.")
            .WithExamples(responses: [(StatusCodes.Status200OK, SeedExamples.Templates), (StatusCodes.Status401Unauthorized, SeedExamples.MissingApiKey)]);
        return api;
    }

    private static async Task<Ok<TemplateListResponse>> ListApproved(
        ApiCaller caller, TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var templates = await db.Templates.AsNoTracking()
            .Where(t => t.BusinessId == caller.BusinessId && t.Status == Template.Approved)
            .OrderBy(t => t.Name).ThenBy(t => t.Language)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new TemplateListResponse([.. templates.Select(t => new TemplateView(
            t.Id, t.Name, t.DisplayName, t.Content, t.Category, t.Language,
            t.HeaderType, t.HeaderText, t.FooterText, t.Variables, t.ButtonParameterViews()))]));
    }
}

public sealed record TemplateView(
    long Id,
    string Name,
    string? DisplayName,
    string Content,
    string Category,
    string Language,
    string? HeaderType,
    string? HeaderText,
    string? FooterText,
    IReadOnlyList<string> Variables,
    [property: System.ComponentModel.Description("An addition to the TwaBot docs: what send-template's button_params (and quick-send's) must give, in order, one entry per value; empty when no button takes one.")]
    IReadOnlyList<ButtonParameter> ButtonParams);

public sealed record TemplateListResponse(IReadOnlyList<TemplateView> Templates) : SuccessResponse;
