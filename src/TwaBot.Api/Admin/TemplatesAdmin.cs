using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Errors;
using TwaBot.Api.Meta;
using TwaBot.Api.OpenApi;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Admin;

/// <summary>
/// Templates live at Meta: creating one submits it for review, syncing pulls Meta's list. Our table
/// is a copy that sends check against, kept current by these calls and by template status webhooks.
/// </summary>
internal static partial class TemplatesAdmin
{
    // Meta's own limits on template names and texts.
    private const int MaxName = 512;
    private const int MaxBody = 1024;
    private const int MaxHeaderOrFooter = 60;
    private const int MaxDisplayName = 200;

    /// <summary>Where a template disappeared from Meta's list: sends refuse it and /templates hides it.</summary>
    public const string Deleted = "DELETED";

    private static readonly string[] Categories = ["MARKETING", "UTILITY", "AUTHENTICATION"];

    /// <summary>
    /// One template create or sync at a time per business (they are rare admin calls): two at once read the
    /// same rows and both insert the same name and language, which the unique index refuses.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<long, SemaphoreSlim> TemplateWrites = new();

    public static void MapTemplatesAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/businesses/{id:long}/templates", Create).WithName("AdminCreateTemplate")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status502BadGateway);
        admin.MapPost("/businesses/{id:long}/templates/sync", Sync).WithName("AdminSyncTemplates")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status502BadGateway);
    }

    private static Task<Results<Created<AdminTemplateResponse>, ApiError>> Create(
        long id, CreateTemplateRequest? request, MetaClient meta, [AsParameters] AdminServices services, CancellationToken cancellationToken)
        => OneAtATimeAsync(id, () => CreateAsync(id, request, meta, services, cancellationToken), cancellationToken);

    private static async Task<Results<Created<AdminTemplateResponse>, ApiError>> CreateAsync(
        long id, CreateTemplateRequest? request, MetaClient meta, AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        var business = await BusinessesAdmin.Find(services, id, cancellationToken);
        if (business is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (Validate(request) is { } invalid)
        {
            return invalid;
        }

        if (business.WhatsApp is not { } connection)
        {
            return ApiErrors.WhatsAppNotConnected();
        }

        var category = request.Category!.Trim().ToUpperInvariant();
        var isAuthentication = category == "AUTHENTICATION";
        // Meta writes an authentication template's body itself; the code is its one parameter.
        var body = isAuthentication ? "{{1}} is your verification code." : request.Body!.Trim();
        if (await services.Db.Templates.AnyAsync(t => t.BusinessId == id && t.Name == request.Name && t.Language == request.Language, cancellationToken))
        {
            return ApiErrors.Conflict($"Template '{request.Name}' already exists in {request.Language}. Sync templates to refresh it from Meta.");
        }

        var variables = request.Variables ?? [];
        var definition = new MetaTemplateDefinition(
            request.Name!, request.Language!, category, body, Trimmed(request.HeaderText), Trimmed(request.FooterText),
            // Meta reviews a template with example values for its placeholders; the variable names serve.
            isAuthentication ? [] : Enumerable.Range(0, Template.CountPlaceholders(body)).Select(i => i < variables.Count ? variables[i] : $"example {i + 1}").ToList());
        var created = await meta.CreateTemplateAsync(MetaConnection.From(connection), definition, cancellationToken);
        if (created.Failure is { } failure)
        {
            return ToApiError(failure);
        }

        var template = new Template
        {
            BusinessId = id,
            Name = definition.Name,
            Language = definition.Language,
            DisplayName = Trimmed(request.DisplayName),
            Content = body,
            Category = created.Value!.Category.ToUpperInvariant(),
            Status = created.Value.Status.ToUpperInvariant(),
            HeaderType = definition.HeaderText is null ? null : "text",
            HeaderText = definition.HeaderText,
            FooterText = definition.FooterText,
            Variables = variables,
            MetaTemplateId = created.Value.Id,
            UpdatedAt = services.Now,
        };
        services.Db.Templates.Add(template);
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/admin/v1/businesses/{id}/templates/{template.Id}", new AdminTemplateResponse(View(template)));
    }

    private static Task<Results<Ok<TemplateSyncResponse>, ApiError>> Sync(
        long id, MetaClient meta, [AsParameters] AdminServices services, CancellationToken cancellationToken)
        => OneAtATimeAsync(id, () => SyncAsync(id, meta, services, cancellationToken), cancellationToken);

    private static async Task<T> OneAtATimeAsync<T>(long businessId, Func<Task<T>> write, CancellationToken cancellationToken)
    {
        var writes = TemplateWrites.GetOrAdd(businessId, _ => new SemaphoreSlim(1, 1));
        await writes.WaitAsync(cancellationToken);
        try
        {
            return await write();
        }
        finally
        {
            writes.Release();
        }
    }

    private static async Task<Results<Ok<TemplateSyncResponse>, ApiError>> SyncAsync(
        long id, MetaClient meta, AdminServices services, CancellationToken cancellationToken)
    {
        var business = await BusinessesAdmin.Find(services, id, cancellationToken);
        if (business is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (business.WhatsApp is not { } connection)
        {
            return ApiErrors.WhatsAppNotConnected();
        }

        var listed = await meta.ListTemplatesAsync(MetaConnection.From(connection), cancellationToken);
        if (listed.Failure is { } failure)
        {
            return ToApiError(failure);
        }

        var ours = await services.Db.Templates.Where(t => t.BusinessId == id).ToListAsync(cancellationToken);
        var byKey = ours.ToDictionary(t => (t.Name, t.Language));
        int created = 0, updated = 0;
        // A name and language Meta lists twice (it should not) is one template: the first listing counts.
        var listing = listed.Value!.Where(t => t.Name.Length > 0 && t.Language.Length > 0).DistinctBy(t => (t.Name, t.Language)).ToList();
        foreach (var remote in listing)
        {
            if (!byKey.Remove((remote.Name, remote.Language), out var template))
            {
                template = new Template { BusinessId = id, Name = remote.Name, Language = remote.Language, Content = "", Category = "", Status = "" };
                services.Db.Templates.Add(template);
                created++;
            }
            else if (Matches(template, remote))
            {
                continue;
            }
            else
            {
                updated++;
            }

            Copy(remote, template, services.Now);
        }

        // What Meta no longer lists cannot be sent; the row stays for the history of messages that used it.
        var removed = 0;
        foreach (var gone in byKey.Values.Where(t => t.Status != Deleted))
        {
            gone.Status = Deleted;
            gone.UpdatedAt = services.Now;
            removed++;
        }

        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new TemplateSyncResponse(listing.Count, created, updated, removed));
    }

    private static ApiError? Validate(CreateTemplateRequest request)
    {
        if ((AdminRules.Text("name", request.Name, MaxName) ?? AdminRules.Text("language", request.Language, 15)
            ?? AdminRules.Text("category", request.Category, 20)) is { } missing)
        {
            return missing;
        }

        if (!TemplateName().IsMatch(request.Name!))
        {
            return ApiErrors.Validation("name", "name may hold only lowercase letters, digits and underscores, as Meta requires.");
        }

        if (!LanguageCode().IsMatch(request.Language!))
        {
            return ApiErrors.Validation("language", $"language '{request.Language}' is not a WhatsApp language code such as en, en_US or pt_BR.");
        }

        if (!Categories.Contains(request.Category!.Trim().ToUpperInvariant()))
        {
            return ApiErrors.Validation("category", "category must be one of MARKETING, UTILITY, AUTHENTICATION.");
        }

        var isAuthentication = request.Category.Trim().Equals("AUTHENTICATION", StringComparison.OrdinalIgnoreCase);
        if (!isAuthentication && AdminRules.Text("body", request.Body, MaxBody) is { } body)
        {
            return body;
        }

        if ((Longer("header_text", request.HeaderText, MaxHeaderOrFooter) ?? Longer("footer_text", request.FooterText, MaxHeaderOrFooter)
            ?? Longer("display_name", request.DisplayName, MaxDisplayName)) is { } tooLong)
        {
            return tooLong;
        }

        if (!isAuthentication && !Template.PlaceholdersAreWellNumbered(request.Body!))
        {
            return ApiErrors.Validation("body", "body placeholders must be numbered {{1}} to {{n}} without gaps (or all be named), as sends give parameters in order.");
        }

        if (request.HeaderText is { } header && !Template.PlaceholdersAreWellNumbered(header))
        {
            return ApiErrors.Validation("header_text", "header_text placeholders must be numbered {{1}} to {{n}} without gaps (or all be named).");
        }

        if (!isAuthentication && request.HeaderText is { } namedOrNot && Template.CountPlaceholders(namedOrNot) > 0
            && Template.CountPlaceholders(request.Body!) > 0
            && (Template.ParameterNames(namedOrNot) is null) != (Template.ParameterNames(request.Body) is null))
        {
            return ApiErrors.Validation("header_text", "header_text and body must both name their placeholders or both number them: Meta takes one format per template.");
        }

        var placeholders = isAuthentication ? 1 : Template.CountPlaceholders(request.Body!);
        if (request.Variables is { } variables
            && (variables.Count != placeholders || variables.Any(string.IsNullOrWhiteSpace)))
        {
            return ApiErrors.Validation("variables", $"variables must name each of the body's {placeholders} placeholder(s), in order.");
        }

        return null;
    }

    private static ApiError? Longer(string field, string? value, int maxLength) =>
        value is not null && value.Trim().Length > maxLength ? ApiErrors.Validation(field, $"{field} must be at most {maxLength} characters.") : null;

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool Matches(Template template, MetaTemplate remote) =>
        string.Equals(template.Status, remote.Status, StringComparison.OrdinalIgnoreCase)
        && string.Equals(template.Category, remote.Category, StringComparison.OrdinalIgnoreCase)
        && template.Content == (remote.Text("BODY") ?? template.Content) && template.MetaTemplateId == remote.Id
        && template.HeaderText == remote.Text("HEADER") && template.FooterText == remote.Text("FOOTER");

    private static void Copy(MetaTemplate remote, Template template, DateTime now)
    {
        template.Status = remote.Status.ToUpperInvariant();
        template.Category = remote.Category.ToUpperInvariant();
        template.Content = remote.Text("BODY") ?? template.Content;
        template.HeaderText = remote.Text("HEADER");
        template.HeaderType = remote.Component("HEADER") is { } header ? (header.Format ?? "TEXT").ToLowerInvariant() : null;
        template.FooterText = remote.Text("FOOTER");
        template.MetaTemplateId = remote.Id;
        template.UpdatedAt = now;
    }

    private static ApiError ToApiError(MetaFailure failure) => failure switch
    {
        { Kind: MetaFailureKind.Rejected, IsThrottling: true } =>
            ApiErrors.UpstreamRateLimited(Math.Max(1, (int)Math.Ceiling(failure.RetryAfter?.TotalSeconds ?? 1))),
        { Kind: MetaFailureKind.Rejected, Error: { IsAuthorization: true } } => ApiErrors.WhatsAppTokenRejected(),
        { Kind: MetaFailureKind.Rejected, Error: { } error } => ApiErrors.MetaRequestRejected(error.Code, error.Details ?? error.Message),
        { Kind: MetaFailureKind.CircuitOpen } => ApiErrors.MetaPaused(Math.Max(1, (int)Math.Ceiling(failure.RetryAfter?.TotalSeconds ?? 1))),
        _ => ApiErrors.MetaRequestUnavailable(),
    };

    private static AdminTemplateView View(Template t) => new(
        t.Id, t.Name, t.Language, t.Category, t.Status, t.DisplayName, t.Content, t.HeaderText, t.FooterText, t.Variables, t.MetaTemplateId);

    [GeneratedRegex("^[a-z0-9_]+$")]
    private static partial Regex TemplateName();

    [GeneratedRegex("^[a-z]{2,3}(_[A-Z]{2,3})?$")]
    private static partial Regex LanguageCode();
}
