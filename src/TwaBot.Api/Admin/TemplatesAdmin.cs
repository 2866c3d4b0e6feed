using System.Diagnostics.CodeAnalysis;
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
    // Meta's own limits on a template's texts (its name's is Template.MaxNameLength); display_name, never sent to Meta, has ours.
    private const int MaxBody = 1024;
    private const int MaxHeaderOrFooter = 60;
    private const int MaxDisplayName = 200;

    // Bounds on the fields themselves: a longer value is no language code or category, refused before it is read as one.
    private const int MaxLanguageField = 15;
    private const int MaxCategoryField = 20;

    /// <summary>
    /// How many listed templates a sync writes per turn at the write gate: some tens of milliseconds of it, as the webhook
    /// processor's turns take, where a WABA's 10,000 in one turn kept every business's sends waiting 3 to 7 s (2 cores).
    /// </summary>
    internal const int SyncTemplatesPerTurn = 100;

    private static readonly string[] Categories = [Template.Marketing, Template.Utility, Template.Authentication];

    public static void MapTemplatesAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/businesses/{id:long}/templates", Create).WithName("AdminCreateTemplate")
            .WithSummary("Submit a template to Meta for review and store it with Meta's status.").ReadsJsonBody()
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status429TooManyRequests,
                StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
        admin.MapGet("/businesses/{id:long}/templates", List).WithName("AdminListTemplates")
            .WithSummary("List every template stored for the business, whatever its status, with Meta's reason for it.")
            .NeverAnswers(StatusCodes.Status400BadRequest);
        admin.MapGet("/businesses/{id:long}/templates/{templateId:long}", Get).WithName("AdminGetTemplate")
            .WithSummary("Read a template as stored here.").NeverAnswers(StatusCodes.Status400BadRequest);
        admin.MapPost("/businesses/{id:long}/templates/sync", Sync).WithName("AdminSyncTemplates")
            .WithSummary("Pull every template of the business's WhatsApp account from Meta and update the stored ones.")
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status429TooManyRequests,
                StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// The business's templates as stored here, pending, paused, rejected and deleted ones too: /templates lists only
    /// the approved, and this is where the business learns what became of the others, and why.
    /// </summary>
    private static async Task<Results<Ok<AdminTemplateListResponse>, ApiError>> List(
        long id, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        var templates = await services.Db.Templates.AsNoTracking().Where(t => t.BusinessId == id)
            .OrderBy(t => t.Name).ThenBy(t => t.Language).ToListAsync(cancellationToken);
        return TypedResults.Ok(new AdminTemplateListResponse([.. templates.Select(View)]));
    }

    /// <summary>One template as stored here (the Location of a create).</summary>
    private static async Task<Results<Ok<AdminTemplateResponse>, ApiError>> Get(
        long id, long templateId, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        var template = await services.Db.Templates.AsNoTracking()
            .SingleOrDefaultAsync(t => t.Id == templateId && t.BusinessId == id, cancellationToken);
        if (template is not null)
        {
            return TypedResults.Ok(new AdminTemplateResponse(View(template)));
        }

        return await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken)
            ? ApiErrors.AdminTemplateNotFound(templateId)
            : ApiErrors.BusinessNotFound(id);
    }

    private static Task<Results<Created<AdminTemplateResponse>, ApiError>> Create(
        long id, CreateTemplateRequest? request, MetaClient meta, Sending.SendLookups lookups, [AsParameters] AdminServices services,
        CancellationToken cancellationToken)
        => services.Turns.TemplateWrites.OneAtATimeAsync(id, () => CreateAsync(id, request, meta, lookups, services, cancellationToken), cancellationToken);

    private static async Task<Results<Created<AdminTemplateResponse>, ApiError>> CreateAsync(
        long id, CreateTemplateRequest? request, MetaClient meta, Sending.SendLookups lookups, AdminServices services, CancellationToken cancellationToken)
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

        // A form's padding is no part of a name or a language code, as in the sends that name them and in the category.
        request = request with { Name = request.Name?.Trim(), Language = request.Language?.Trim() };
        if (Validate(request) is { } invalid)
        {
            return invalid;
        }

        if (!TryOpenConnection(business, services, out var connection, out var notConnected))
        {
            return notConnected;
        }

        var category = request.Category!.Trim().ToUpperInvariant();
        var isAuthentication = category == Template.Authentication;
        // Meta writes an authentication template's texts itself; the code is its one parameter.
        var body = isAuthentication ? Template.AuthenticationBody(securityRecommendation: true) : request.Body!.Trim();
        var footer = isAuthentication ? Template.AuthenticationFooter(request.CodeExpirationMinutes) : AdminRules.Trimmed(request.FooterText);
        // Refused before it queues at the write gate; checked again in turn below, where the row is written.
        if ((await StoredAsync(services, id, request, cancellationToken)).Conflict is { } taken)
        {
            return taken;
        }

        var variables = request.Variables ?? [.. Template.PlaceholderNames(body)];
        var definition = new MetaTemplateDefinition(
            request.Name!, request.Language!, category, body, AdminRules.Trimmed(request.HeaderText), isAuthentication ? null : footer,
            // Meta reviews a template with example values for its placeholders; the variable names serve.
            isAuthentication ? [] : Enumerable.Range(0, Template.CountPlaceholders(body)).Select(i => i < variables.Count ? variables[i] : $"example {i + 1}").ToList(),
            isAuthentication ? request.CodeExpirationMinutes : null)
        {
            Buttons = [.. (request.Buttons ?? []).Select(b => TemplateButtonRules.ToMeta(b!))],
        };

        // The row is written before Meta is asked, without Meta's id yet, so that a status webhook overtaking
        // Meta's answer finds it (by name and language).
        Template template;
        bool isNew;
        using (await services.Gate.EnterAsync(cancellationToken))
        {
            // Read again in turn with the webhook processor (what was read above is tracked as it was): a deleted template
            // that Meta's event brought back since is Meta's again, and its row (its id, its status) must not become this
            // submission's, which Meta refuses as existing and whose undoing then marked the template deleted.
            services.Db.ChangeTracker.Clear();
            var (conflict, deleted) = await StoredAsync(services, id, request, cancellationToken);
            if (conflict is not null)
            {
                return conflict;
            }

            isNew = deleted is null;
            template = deleted ?? services.Db.Templates.Add(new Template
            {
                BusinessId = id, Name = definition.Name, Language = definition.Language, Content = body, Category = category, Status = Template.Pending,
            }).Entity;
            AwaitReview(template, definition, request, footer, variables, services.Now);
            await services.Db.SaveChangesAsync(cancellationToken);
        }

        var asked = WholeSeconds(services.Now);
        // Not the request's token: once Meta is asked, its answer is written even if the caller left. Cancelled, the row
        // stayed pending without Meta's id (sends refused, the name taken) until a sync, whatever Meta answered.
        var created = await meta.CreateTemplateAsync(connection, definition, CancellationToken.None);
        if (created.Failure is { } failure)
        {
            // Meta may have it: the row waits, without an id, for a sync (or a status webhook) to say.
            if (failure.MayHaveBeenSent)
            {
                return ApiErrors.MetaTemplateOutcomeUnknown(definition.Name, definition.Language);
            }

            await UndoPendingRowAsync(services, template, isNew);
            return ToApiError(failure);
        }

        // Meta's answer, in one statement: a status webhook applied meanwhile is newer than the answer and keeps its status.
        var answered = created.Value!;
        using (await services.Gate.EnterAsync(CancellationToken.None))
        {
            await services.Db.Templates.Where(t => t.Id == template.Id).ExecuteUpdateAsync(set => set
                .SetProperty(t => t.MetaTemplateId, answered.Id)
                .SetProperty(t => t.Category, t => t.CategoryEventAt == null ? answered.Category.ToUpperInvariant() : t.Category)
                .SetProperty(t => t.CategoryEventAt, t => t.CategoryEventAt ?? asked)
                .SetProperty(t => t.Status, t => t.StatusEventAt == null ? answered.Status.ToUpperInvariant() : t.Status)
                .SetProperty(t => t.StatusEventAt, t => t.StatusEventAt ?? asked), CancellationToken.None);
        }

        lookups.Invalidate(id); // a bulk update runs no SaveChanges: sends meanwhile kept the template as pending
        var stored = await services.Db.Templates.AsNoTracking().SingleAsync(t => t.Id == template.Id, CancellationToken.None);
        return TypedResults.Created($"/admin/v1/businesses/{id}/templates/{stored.Id}", new AdminTemplateResponse(View(stored)));
    }

    /// <summary>
    /// The business's row of the name and language: a conflict when it is Meta's already, else the deleted template's row
    /// a new submission takes over (null when there is none).
    /// </summary>
    private static async Task<(ApiError? Conflict, Template? Deleted)> StoredAsync(
        AdminServices services, long id, CreateTemplateRequest request, CancellationToken cancellationToken)
    {
        var template = await services.Db.Templates.SingleOrDefaultAsync(
            t => t.BusinessId == id && t.Name == request.Name && t.Language == request.Language, cancellationToken);
        // A deleted template's name may be submitted again (Meta says when it can be reused); any other is Meta's already.
        return template is null || template.Status == Template.Deleted ? (null, template)
            : (ApiErrors.Conflict($"Template '{request.Name}' already exists in {request.Language}. Sync templates to refresh it from Meta."), null);
    }

    /// <summary>
    /// The row as submitted, pending Meta's review: a new one, or a deleted template's whose name is submitted again,
    /// so nothing of what Meta said of the deleted one (its id, event times, reason, quality) stays.
    /// </summary>
    private static void AwaitReview(
        Template template, MetaTemplateDefinition definition, CreateTemplateRequest request, string? footer, List<string> variables, DateTime now)
    {
        template.DisplayName = AdminRules.Trimmed(request.DisplayName);
        template.Content = definition.Body;
        template.Category = definition.Category;
        template.Status = Template.Pending;
        template.HeaderType = definition.HeaderText is null ? null : "text";
        template.HeaderText = definition.HeaderText;
        template.FooterText = footer; // an authentication template's too, which Meta writes from its code expiry
        template.Variables = variables;
        template.Buttons = TemplateButtonRules.Kinds(request.Buttons);
        template.ButtonTexts = [.. definition.Buttons.Select(b => b.Text ?? "")];
        template.ButtonUrls = [.. definition.Buttons.Select(b => b.Url ?? "")];
        template.UnsendableComponent = null; // a deleted carousel's name submitted again as a plain template
        template.MetaTemplateId = null;
        template.StatusEventAt = null;
        template.StatusReason = null;
        template.CategoryEventAt = null;
        template.ComponentsEventAt = null;
        template.QualityScore = null;
        template.QualityEventAt = null;
        template.UpdatedAt = now;
    }

    /// <summary>Refused, or never reached: nothing is at Meta, so the row written before asking goes as it came.</summary>
    private static async Task UndoPendingRowAsync(AdminServices services, Template template, bool isNew)
    {
        if (isNew)
        {
            services.Db.Templates.Remove(template);
        }
        else
        {
            template.Status = Template.Deleted; // the deleted template it replaced
        }

        await services.SaveInTurnAsync(CancellationToken.None);
    }

    private static Task<Results<Ok<TemplateSyncResponse>, ApiError>> Sync(
        long id, MetaClient meta, [AsParameters] AdminServices services, CancellationToken cancellationToken)
        => services.Turns.TemplateWrites.OneAtATimeAsync(id, () => SyncAsync(id, meta, services, cancellationToken), cancellationToken);

    private static async Task<Results<Ok<TemplateSyncResponse>, ApiError>> SyncAsync(
        long id, MetaClient meta, AdminServices services, CancellationToken cancellationToken)
    {
        var business = await BusinessesAdmin.Find(services, id, cancellationToken);
        if (business is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (!TryOpenConnection(business, services, out var connection, out var notConnected))
        {
            return notConnected;
        }

        var asked = WholeSeconds(services.Now);
        var listed = await meta.ListTemplatesAsync(connection, cancellationToken);
        if (listed.Failure is { } failure)
        {
            return ToApiError(failure);
        }

        // Our rows are read and written in turns at the write gate, where the webhook processor applies template events:
        // read before the turn, a row missed an event applied meanwhile (Meta's pause a minute after its list), and the
        // list's older status was written over it. A part of the list a turn, not all of it: one turn for the thousands
        // of templates a WABA may list held every business's sends and webhooks until it ended (seconds). Between turns
        // only webhook events change these rows (creates and other syncs wait for the business's turn), and each turn
        // reads its rows again.
        // A name and language Meta lists twice (it should not) is one template: the first listing counts.
        var listing = listed.Value!.Where(t => t.Name.Length > 0 && t.Language.Length > 0).DistinctBy(t => (t.Name, t.Language)).ToList();
        int created = 0, updated = 0;
        foreach (var part in listing.Chunk(SyncTemplatesPerTurn))
        {
            using (await services.Gate.EnterAsync(cancellationToken))
            {
                var names = part.Select(t => t.Name).Distinct().ToList();
                var byKey = (await services.Db.Templates.Where(t => t.BusinessId == id && names.Contains(t.Name)).ToListAsync(cancellationToken))
                    .ToDictionary(t => (t.Name, t.Language));
                foreach (var item in part)
                {
                    var isNew = !byKey.TryGetValue((item.Name, item.Language), out var template);
                    if (isNew)
                    {
                        template = new Template { BusinessId = id, Name = item.Name, Language = item.Language, Content = "", Category = "", Status = "" };
                        services.Db.Templates.Add(template);
                        created++;
                    }

                    // An item without its status, category or id (asked for, so only a broken answer lacks them) keeps ours: stored
                    // blank, an approved template could no longer be sent, a marketing one escaped the marketing stops, and
                    // status webhooks (which name the template by its id) no longer found it.
                    var remote = item with
                    {
                        Status = item.Status.Length > 0 ? item.Status : template!.Status,
                        Category = item.Category.Length > 0 ? item.Category : template!.Category,
                        Id = item.Id.Length > 0 ? item.Id : template!.MetaTemplateId ?? "",
                    };

                    var changed = isNew || !Matches(template!, remote);
                    updated += changed && !isNew ? 1 : 0;
                    Copy(remote, template!, asked); // also for the same template: the time its status was read moves
                    if (changed)
                    {
                        template!.UpdatedAt = services.Now;
                    }
                }

                await services.Db.SaveChangesAsync(cancellationToken);
            }

            services.Db.ChangeTracker.Clear(); // each turn's save looks only at its own rows
        }

        // Only once every listed template is written, so a sync that fails part way retires nothing.
        var removed = await RetireUnlistedAsync(id, listing, asked, services, cancellationToken);
        return TypedResults.Ok(new TemplateSyncResponse(listing.Count, created, updated, removed));
    }

    /// <summary>
    /// What Meta no longer lists cannot be sent; the row stays, deleted, for the history of messages that used it. Like a
    /// listed status, its absence is Meta's word as of the list (<paramref name="asked"/>): a status webhook older than that
    /// is stale, a newer one stands. Returns how many were retired.
    /// </summary>
    private static async Task<int> RetireUnlistedAsync(
        long id, IReadOnlyList<MetaTemplate> listing, DateTime asked, AdminServices services, CancellationToken cancellationToken)
    {
        var listedKeys = listing.Select(t => (t.Name, t.Language)).ToHashSet();
        using (await services.Gate.EnterAsync(cancellationToken))
        {
            var stored = await services.Db.Templates.AsNoTracking().Where(t => t.BusinessId == id && t.Status != Template.Deleted)
                .Select(t => new { t.Id, t.Name, t.Language, t.StatusEventAt }).ToListAsync(cancellationToken);
            var goneIds = stored.Where(t => !listedKeys.Contains((t.Name, t.Language)) && !(t.StatusEventAt > asked)).Select(t => t.Id).ToList();
            var retired = await services.Db.Templates.Where(t => goneIds.Contains(t.Id)).ToListAsync(cancellationToken);
            foreach (var gone in retired)
            {
                gone.Status = Template.Deleted;
                gone.StatusReason = null;
                gone.StatusEventAt = asked;
                gone.UpdatedAt = services.Now;
            }

            await services.Db.SaveChangesAsync(cancellationToken);
            return retired.Count;
        }
    }

    private static ApiError? Validate(CreateTemplateRequest request)
    {
        if ((AdminRules.Line("name", request.Name, Template.MaxNameLength) ?? AdminRules.Line("language", request.Language, MaxLanguageField)
            ?? AdminRules.Line("category", request.Category, MaxCategoryField)) is { } badLine)
        {
            return badLine;
        }

        if (!TemplateName().IsMatch(request.Name!))
        {
            return ApiErrors.Validation("name", "name may hold only lowercase letters, digits and underscores, as Meta requires.");
        }

        if (!Template.IsLanguageCode(request.Language!))
        {
            return Sending.SendValidation.NotALanguageCode("language", request.Language!);
        }

        var category = request.Category!.Trim().ToUpperInvariant();
        if (!Categories.Contains(category))
        {
            return ApiErrors.Validation("category", "category must be one of MARKETING, UTILITY, AUTHENTICATION.");
        }

        var isAuthentication = category == Template.Authentication;
        if ((isAuthentication ? AuthenticationOptions(request) : NoAuthenticationOptions(request)) is { } options)
        {
            return options;
        }

        if (!isAuthentication && AdminRules.Text("body", request.Body, MaxBody) is { } body)
        {
            return body;
        }

        if ((AdminRules.OptionalLine("header_text", request.HeaderText, MaxHeaderOrFooter) ?? AdminRules.OptionalLine("footer_text", request.FooterText, MaxHeaderOrFooter)
            ?? AdminRules.OptionalLine("display_name", request.DisplayName, MaxDisplayName)) is { } badText)
        {
            return badText;
        }

        if (!isAuthentication && !Template.PlaceholdersAreWellNumbered(request.Body!))
        {
            return ApiErrors.Validation("body", "body placeholders must be numbered {{1}} to {{n}} without gaps (or all be named), as sends give parameters in order.");
        }

        if (request.HeaderText is { } header && !Template.PlaceholdersAreWellNumbered(header))
        {
            return ApiErrors.Validation("header_text", "header_text placeholders must be numbered {{1}} to {{n}} without gaps (or all be named).");
        }

        // Meta refuses a template whose names hold anything but lowercase letters, digits and underscores: say which, before asking it.
        if ((isAuthentication ? null : Template.NameMetaRefuses(request.Body)) is { } badBodyName)
        {
            return ApiErrors.Validation("body", $"body placeholder {{{{{badBodyName}}}}} must be named with lowercase letters, digits and underscores only, as Meta requires (e.g. {{{{first_name}}}}).");
        }

        if (Template.NameMetaRefuses(request.HeaderText) is { } badHeaderName)
        {
            return ApiErrors.Validation("header_text", $"header_text placeholder {{{{{badHeaderName}}}}} must be named with lowercase letters, digits and underscores only, as Meta requires (e.g. {{{{first_name}}}}).");
        }

        if (request.HeaderText is { } oneVariable && Template.CountPlaceholders(oneVariable) > 1)
        {
            return ApiErrors.Validation("header_text", "header_text may have one placeholder at most, as Meta allows in a text header.");
        }

        if (!isAuthentication && request.HeaderText is { } namedOrNot && Template.CountPlaceholders(namedOrNot) > 0
            && Template.CountPlaceholders(request.Body!) > 0
            && (Template.ParameterNames(namedOrNot) is null) != (Template.ParameterNames(request.Body) is null))
        {
            return ApiErrors.Validation("header_text", "header_text and body must both name their placeholders or both number them: Meta takes one format per template.");
        }

        if (TemplateButtonRules.Validate(request.Buttons, category) is { } badButton)
        {
            return badButton;
        }

        var placeholders = isAuthentication ? 1 : Template.CountPlaceholders(request.Body!);
        if (request.Variables is { } variables
            && (variables.Count != placeholders || variables.Any(string.IsNullOrWhiteSpace)))
        {
            return ApiErrors.Validation("variables", $"variables must name each of the body's {placeholders} placeholder(s), in order.");
        }

        return null;
    }

    /// <summary>Meta writes an authentication template's texts; its one option here is how long the code is valid.</summary>
    private static ApiError? AuthenticationOptions(CreateTemplateRequest request)
    {
        var own = new[] { ("body", request.Body), ("header_text", request.HeaderText), ("footer_text", request.FooterText) }
            .FirstOrDefault(field => field.Item2 is not null);
        if (own.Item1 is { } field)
        {
            return ApiErrors.Validation(field,
                $"{field} is not allowed for an AUTHENTICATION template: Meta writes its texts (\"{{{{1}}}} is your verification code.\" and a security note); code_expiration_minutes adds the expiry footer.");
        }

        return request.CodeExpirationMinutes is < 1 or > Template.MaxCodeExpirationMinutes
            ? ApiErrors.Validation("code_expiration_minutes", $"code_expiration_minutes must be 1 to {Template.MaxCodeExpirationMinutes}, or left out.")
            : null;
    }

    private static ApiError? NoAuthenticationOptions(CreateTemplateRequest request) => request.CodeExpirationMinutes is null
        ? null
        : ApiErrors.Validation("code_expiration_minutes", "code_expiration_minutes is only for AUTHENTICATION templates.");

    // The quality score is left out: Meta's running assessment, not a change to the template (nor to the sync's counts).
    private static bool Matches(Template template, MetaTemplate remote) =>
        string.Equals(template.Status, remote.Status, StringComparison.OrdinalIgnoreCase)
        && string.Equals(template.Category, remote.Category, StringComparison.OrdinalIgnoreCase)
        && template.Content == (remote.Text("BODY") ?? template.Content) && (template.MetaTemplateId ?? "") == remote.Id
        && template.HeaderText == remote.Text("HEADER") && template.FooterText == remote.Text("FOOTER")
        && template.Variables.Count == Template.CountPlaceholders(remote.Text("BODY") ?? template.Content)
        && template.Buttons.SequenceEqual(Buttons(remote)) && template.ButtonTexts.SequenceEqual(ButtonTexts(remote))
        && template.ButtonUrls.SequenceEqual(ButtonUrls(remote)) && template.UnsendableComponent == remote.UnsendableComponent
        && (remote.RejectedReason is null || Tells(template.StatusReason, remote.RejectedReason));

    /// <summary>
    /// Whether a stored status reason is the rejection's <paramref name="code"/> Meta's list gives, or begins with it: a
    /// webhook's reason says more (its notice, its rejection_info's reason and recommendation) than the list's code alone.
    /// </summary>
    private static bool Tells(string? statusReason, string code) =>
        statusReason is not null && (statusReason == code || statusReason.StartsWith(code + ": ", StringComparison.Ordinal)
            || statusReason.StartsWith(code + ". Meta recommends: ", StringComparison.Ordinal));

    /// <summary>What a send gives each of Meta's buttons; none for an authentication template (its code fills its button).</summary>
    private static List<string> Buttons(MetaTemplate remote) => [.. SendFilledButtons(remote).Select(b => TemplateButtons.Of(b.Type, b.Url))];

    /// <summary>The labels of <see cref="Buttons(MetaTemplate)"/>, in the same order ("" where Meta lists none).</summary>
    private static List<string> ButtonTexts(MetaTemplate remote) => [.. SendFilledButtons(remote).Select(b => b.Text ?? "")];

    /// <summary>The links of <see cref="Buttons(MetaTemplate)"/>, in the same order ("" for a button without one).</summary>
    private static List<string> ButtonUrls(MetaTemplate remote) => [.. SendFilledButtons(remote).Select(b => b.Url ?? "")];

    /// <summary>Meta's buttons that a send may fill: none of an authentication template's, whose code fills them.</summary>
    private static IReadOnlyList<MetaTemplateButton> SendFilledButtons(MetaTemplate remote) =>
        string.Equals(remote.Category, Template.Authentication, StringComparison.OrdinalIgnoreCase) ? []
        : remote.Component("BUTTONS")?.Buttons ?? [];

    /// <summary>
    /// Meta's copy of a template, listed at <paramref name="asked"/>. Its status and category win over older
    /// webhooks, not over one Meta triggered after the list was asked for.
    /// </summary>
    private static void Copy(MetaTemplate remote, Template template, DateTime asked)
    {
        if (template.StatusEventAt is not { } latest || latest <= asked)
        {
            var status = remote.Status.ToUpperInvariant();
            // The list tells a rejection's code, not a pause's notice nor what Meta's webhook said to fix: what a webhook
            // gave stays with the status (and code) it came with.
            template.StatusReason = status == template.Status
                && (remote.RejectedReason is null || Tells(template.StatusReason, remote.RejectedReason))
                ? template.StatusReason : remote.RejectedReason;
            template.Status = status;
            template.StatusEventAt = asked;
        }

        if (template.CategoryEventAt is not { } categorized || categorized <= asked)
        {
            template.Category = remote.Category.ToUpperInvariant();
            template.CategoryEventAt = asked;
        }

        if (remote.QualityScore is { } quality && (template.QualityEventAt is not { } scored || scored <= asked))
        {
            template.QualityScore = quality;
            template.QualityEventAt = asked;
        }

        template.MetaTemplateId = remote.Id.Length > 0 ? remote.Id : null; // unknown until Meta lists it
        if (template.ComponentsEventAt is { } edited && edited > asked)
        {
            return; // an edit Meta reported after the list was asked for is newer than the list's texts
        }

        template.ComponentsEventAt = asked;
        template.Content = remote.Text("BODY") ?? template.Content;
        template.HeaderText = remote.Text("HEADER");
        template.HeaderType = remote.Component("HEADER") is { } header ? (header.Format ?? "TEXT").ToLowerInvariant() : null;
        template.FooterText = remote.Text("FOOTER");
        template.Buttons = Buttons(remote);
        template.ButtonTexts = ButtonTexts(remote);
        template.ButtonUrls = ButtonUrls(remote);
        template.UnsendableComponent = remote.UnsendableComponent;
        // Names given at creation stay while they still fit; otherwise the placeholders' own names.
        if (template.Variables.Count != Template.CountPlaceholders(template.Content))
        {
            template.Variables = [.. Template.PlaceholderNames(template.Content)];
        }
    }

    /// <summary>Meta's event times are whole seconds: a time compared with them is cut to the second.</summary>
    private static DateTime WholeSeconds(DateTime time) => new(time.Ticks - time.Ticks % TimeSpan.TicksPerSecond, time.Kind);

    private static ApiError ToApiError(MetaFailure failure) => MetaAdminAnswers.Unanswered(failure) ?? failure.Error switch
    {
        { IsAuthorization: true } => ApiErrors.WhatsAppTokenRejected(),
        { } error => ApiErrors.MetaRequestRejected(error.Code, error.Details ?? error.Message),
        null => ApiErrors.MetaRequestUnavailable(),
    };

    /// <summary>The business's connection with its token decrypted, or why there is none to call Meta with.</summary>
    private static bool TryOpenConnection(Businesses.Business business, AdminServices services,
        [NotNullWhen(true)] out MetaConnection? connection, [NotNullWhen(false)] out ApiError? notConnected)
    {
        connection = business.WhatsApp is { } stored ? MetaConnection.Open(stored, services.Tokens) : null;
        notConnected = connection is not null ? null
            : business.WhatsApp is null ? ApiErrors.WhatsAppNotConnected("submitting or syncing templates")
            : ApiErrors.WhatsAppTokenUnreadable();
        return connection is not null;
    }

    private static AdminTemplateView View(Template t) => new(
        t.Id, t.Name, t.Language, t.Category, t.Status, t.StatusReason, t.DisplayName, t.Content, t.HeaderText, t.FooterText, t.Variables, t.MetaTemplateId, t.Buttons,
        t.QualityScore, [.. t.Buttons.Select((kind, index) => new AdminTemplateButton(kind, t.ButtonText(index), t.ButtonUrl(index)))], t.UnsendableComponent);

    // \z, not $: $ also matches before a final line break.
    [GeneratedRegex(@"^[a-z0-9_]+\z")]
    private static partial Regex TemplateName();
}
