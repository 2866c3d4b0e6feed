using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// The emulated Graph API under <c>/sandbox/graph/{version}/…</c>: sends and template management, with
/// Meta's JSON, error codes and wamid-style ids, and the magic recipient numbers of the README.
/// Mapped only in sandbox mode; it plays Meta, so it is not part of our OpenAPI document.
/// </summary>
public static class SandboxGraphApi
{
    private const string Version = "{version:regex(^v[0-9]+\\.[0-9]+$)}";

    public static void MapSandboxGraph(this IEndpointRouteBuilder app)
    {
        var graph = app.MapGroup($"/sandbox/graph/{Version}").ExcludeFromDescription();
        graph.MapPost("/{phoneNumberId}/messages", SendMessage);
        graph.MapGet("/{wabaId}/message_templates", ListTemplates);
        graph.MapPost("/{wabaId}/message_templates", CreateTemplate);
    }

    private static async Task<IResult> SendMessage(
        string phoneNumberId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, SandboxWebhookSender webhooks,
        IOptions<TwaBotOptions> options, CancellationToken cancellationToken)
    {
        var sandbox = options.Value.Sandbox;
        if (sandbox.GraphLatencyMilliseconds > 0)
        {
            // Real time, not the injected TimeProvider: this stands in for the network, and tests fake that clock.
            await Task.Delay(sandbox.GraphLatencyMilliseconds, cancellationToken);
        }

        var connection = await db.WhatsAppConnections.AsNoTracking()
            .SingleOrDefaultAsync(w => w.PhoneNumberId == phoneNumberId && w.IsSandbox, cancellationToken);
        if (connection is null)
        {
            return GraphErrors.UnknownObject(phoneNumberId, request.Method);
        }

        if (!BearerMatches(request, tokens.Unprotect(connection)))
        {
            return GraphErrors.InvalidToken();
        }

        if (await ReadJsonAsync(request, cancellationToken) is not JsonObject body)
        {
            return GraphErrors.InvalidParameter("The request body must be a JSON object.");
        }

        if (Str(body, "messaging_product") != "whatsapp")
        {
            return GraphErrors.InvalidParameter("messaging_product is required and must be whatsapp.");
        }

        var to = new string((Str(body, "to") ?? "").Where(char.IsAsciiDigit).ToArray());
        if (to.Length == 0)
        {
            return GraphErrors.InvalidParameter("The parameter to is required.");
        }

        if (MagicNumbers.Refusal(to) is { } refusal)
        {
            return refusal;
        }

        var type = Str(body, "type");
        var check = type switch
        {
            "text" => Str(body["text"] as JsonObject, "body") is { Length: > 0 } ? null : GraphErrors.InvalidParameter("text.body is required."),
            "image" or "document" or "video" or "audio" => Str(body[type] as JsonObject, "link") is not null || Str(body[type] as JsonObject, "id") is not null
                ? null
                : GraphErrors.InvalidParameter($"{type}.link or {type}.id is required."),
            "template" => await CheckTemplateAsync(body["template"] as JsonObject, connection, db, cancellationToken),
            _ => GraphErrors.UnsupportedType(type),
        };
        if (check is not null)
        {
            return check;
        }

        var wamid = Wamid.Outbound(to);
        var category = type == "template" ? await TemplateCategoryAsync(body, connection, db, cancellationToken) : "service";
        var waId = WaIdFor(to);
        var send = new SandboxSend(connection.WabaId, connection.PhoneNumberId, connection.DisplayPhoneNumber ?? WhatsAppConnection.SandboxDisplayPhoneNumber, wamid, waId,
            Str(body, "biz_opaque_callback_data"), category, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        // The benchmark's pass-through reference has no database, so its sends must not park statuses in ours.
        if (!(sandbox.BenchmarkReferences && send.CallbackData == BenchmarkReferenceApi.CallbackData))
        {
            webhooks.ReportStatuses(send, MagicNumbers.Statuses(to, category));
        }

        var message = new JsonObject { ["id"] = wamid };
        if (type == "template")
        {
            message["message_status"] = "accepted"; // Meta reports pacing only for templates
        }

        return Results.Json(new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["contacts"] = new JsonArray(new JsonObject { ["input"] = Str(body, "to"), ["wa_id"] = waId }),
            ["messages"] = new JsonArray(message),
        });
    }

    /// <summary>
    /// The wa_id Meta answers for a number. Like Meta for many Brazilian mobiles (55, a two-digit area,
    /// then a ninth digit 9 and eight more), the emulator drops that ninth digit; any other number is its own.
    /// </summary>
    internal static string WaIdFor(string to) =>
        to.Length == 13 && to.StartsWith("55", StringComparison.Ordinal) && to[4] == '9' ? to.Remove(4, 1) : to;

    private static async Task<IResult?> CheckTemplateAsync(JsonObject? template, WhatsAppConnection connection, TwaBotDbContext db, CancellationToken cancellationToken)
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
    /// index, a copy-code button a <c>copy_code</c> one with a <c>coupon_code</c>; other buttons take none.
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
                _ => atIndex is null,
            };
            if (!fits)
            {
                return GraphErrors.ButtonParameter($"the button at index {index} takes " + kind switch
                {
                    TemplateButtons.UrlSuffix => "one text parameter, the end of its link (sub_type url)",
                    TemplateButtons.CouponCode => "one coupon_code parameter of at most 15 letters and digits (sub_type copy_code)",
                    _ => "no parameter",
                });
            }
        }

        return given.Count == 0 ? null : GraphErrors.ButtonParameter($"the template has no button at index {given.Keys.First()}");
    }

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

    private static async Task<string> TemplateCategoryAsync(JsonObject body, WhatsAppConnection connection, TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var template = body["template"] as JsonObject;
        var stored = await FindTemplateAsync(connection.WabaId, Str(template, "name")!, Str(template?["language"] as JsonObject, "code")!, db, cancellationToken);
        return stored?.Category.ToLowerInvariant() ?? "utility";
    }

    private static Task<SandboxTemplate?> FindTemplateAsync(string wabaId, string name, string language, TwaBotDbContext db, CancellationToken cancellationToken) =>
        db.SandboxTemplates.AsNoTracking().SingleOrDefaultAsync(
            t => t.WabaId == wabaId && t.Name == name && t.Language == language && t.Status == Template.Approved, cancellationToken);

    private static async Task<IResult> ListTemplates(
        string wabaId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, string? limit, string? after, CancellationToken cancellationToken)
    {
        if (await AuthorizeWabaAsync(wabaId, request, db, tokens, cancellationToken) is { } refused)
        {
            return refused;
        }

        // Taken as text, so that a bad value gets Meta's error shape, not ours.
        if (!TryReadPage(limit, after, out var pageSize, out var offset))
        {
            return GraphErrors.InvalidParameter("limit must be a whole number and after a cursor from a previous page.");
        }

        // Meta's filters (status, name, category, language), each compared whole.
        var query = db.SandboxTemplates.AsNoTracking().Where(t => t.WabaId == wabaId);
        var filters = request.Query;
        if (filters["status"].ToString().ToUpperInvariant() is { Length: > 0 } status)
        {
            query = query.Where(t => t.Status == status);
        }

        if (filters["category"].ToString().ToUpperInvariant() is { Length: > 0 } category)
        {
            query = query.Where(t => t.Category == category);
        }

        if (filters["name"].ToString() is { Length: > 0 } name)
        {
            query = query.Where(t => t.Name == name);
        }

        if (filters["language"].ToString() is { Length: > 0 } language)
        {
            query = query.Where(t => t.Language == language);
        }

        var templates = await query.OrderBy(t => t.Id).Skip(offset).Take(pageSize + 1).ToListAsync(cancellationToken);
        var page = templates.Take(pageSize).Select(t => (JsonNode)new JsonObject
        {
            ["name"] = t.Name,
            ["parameter_format"] = Template.ParameterNames(t.Body) is null ? "POSITIONAL" : "NAMED",
            ["components"] = Components(t),
            ["language"] = t.Language,
            ["status"] = t.Status,
            ["category"] = t.Category,
            ["id"] = t.MetaId,
        }).ToArray();
        var paging = new JsonObject
        {
            ["cursors"] = new JsonObject { ["before"] = Cursor(offset), ["after"] = Cursor(offset + page.Length) },
        };
        if (templates.Count > pageSize)
        {
            // The same query (filters and fields too), on from the next cursor.
            var next = Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(
                $"{request.Scheme}://{request.Host}{request.Path}",
                filters.Where(q => q.Key is not ("after" or "limit")).SelectMany(q => q.Value.Select(v => new KeyValuePair<string, string?>(q.Key, v)))
                    .Append(new("limit", pageSize.ToString(CultureInfo.InvariantCulture))).Append(new("after", Cursor(offset + pageSize))));
            paging["next"] = next;
        }

        return Results.Json(new JsonObject { ["data"] = new JsonArray(page), ["paging"] = paging });
    }

    private static bool TryReadPage(string? limit, string? after, out int pageSize, out int offset)
    {
        pageSize = 25;
        offset = 0;
        if (limit is not null)
        {
            if (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize))
            {
                return false;
            }

            pageSize = Math.Clamp(pageSize, 1, 100);
        }

        if (after is null)
        {
            return true;
        }

        Span<byte> decoded = stackalloc byte[16];
        return after.Length <= 24 && Convert.TryFromBase64String(after, decoded, out var written)
            && int.TryParse(decoded[..written], NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    private static async Task<IResult> CreateTemplate(
        string wabaId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, CancellationToken cancellationToken)
    {
        if (await AuthorizeWabaAsync(wabaId, request, db, tokens, cancellationToken) is { } refused)
        {
            return refused;
        }

        if (await ReadJsonAsync(request, cancellationToken) is not JsonObject body
            || Str(body, "name") is not { } name || Str(body, "language") is not { } language || Str(body, "category") is not { } category)
        {
            return GraphErrors.InvalidParameter("name, language and category are required.");
        }

        if (await db.SandboxTemplates.AnyAsync(t => t.WabaId == wabaId && t.Name == name && t.Language == language, cancellationToken))
        {
            return GraphErrors.Error(400, 100, "Invalid parameter",
                $"Message template \"{name}\" already exists in {language}.", subcode: 2388024);
        }

        var components = (body["components"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        JsonObject? Component(string type) => components.FirstOrDefault(c => string.Equals(Str(c, "type"), type, StringComparison.OrdinalIgnoreCase));
        string? Text(string type) => Str(Component(type), "text");
        // Meta writes an authentication template's texts itself, from its options.
        var isAuthentication = category.Equals(Template.Authentication, StringComparison.OrdinalIgnoreCase);
        var securityNote = Component("BODY")?["add_security_recommendation"] is JsonValue security && security.TryGetValue<bool>(out var add) && add;
        int? expiresIn = Component("FOOTER")?["code_expiration_minutes"] is JsonValue expiry && expiry.TryGetValue<int>(out var minutes) ? minutes : null;
        if (Template.ParameterNames(Text("BODY")) is not null && Str(body, "parameter_format") is not "NAMED")
        {
            // Meta reads {{first_name}} as a variable only in a template submitted as NAMED.
            return GraphErrors.InvalidParameter("Variables in the body must be numbered {{1}}, {{2}}, … unless parameter_format is NAMED.");
        }

        var template = new SandboxTemplate
        {
            WabaId = wabaId,
            MetaId = RandomNumberGenerator.GetString("0123456789", 15),
            Name = name,
            Language = language,
            Category = category.ToUpperInvariant(),
            Status = Template.Approved, // the sandbox's reviewer approves everything
            Body = isAuthentication ? Template.AuthenticationBody(securityNote) : Text("BODY") ?? "",
            HeaderText = isAuthentication ? null : Text("HEADER"),
            FooterText = isAuthentication ? Template.AuthenticationFooter(expiresIn) : Text("FOOTER"),
            ButtonsJson = isAuthentication ? null : (Component("BUTTONS")?["buttons"] as JsonArray)?.ToJsonString(),
        };
        db.SandboxTemplates.Add(template);
        await db.SaveChangesAsync(cancellationToken);
        return Results.Json(new JsonObject { ["id"] = template.MetaId, ["status"] = template.Status, ["category"] = template.Category });
    }

    private static JsonArray Components(SandboxTemplate template)
    {
        var components = new JsonArray();
        if (template.HeaderText is not null)
        {
            components.Add(new JsonObject { ["type"] = "HEADER", ["format"] = "TEXT", ["text"] = template.HeaderText });
        }

        components.Add(new JsonObject { ["type"] = "BODY", ["text"] = template.Body });
        if (template.FooterText is not null)
        {
            components.Add(new JsonObject { ["type"] = "FOOTER", ["text"] = template.FooterText });
        }

        if (template.ButtonsJson is not null)
        {
            components.Add(new JsonObject { ["type"] = "BUTTONS", ["buttons"] = JsonNode.Parse(template.ButtonsJson) });
        }

        return components;
    }

    private static async Task<IResult?> AuthorizeWabaAsync(
        string wabaId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, CancellationToken cancellationToken)
    {
        var connections = await db.WhatsAppConnections.AsNoTracking()
            .Where(w => w.WabaId == wabaId && w.IsSandbox).ToListAsync(cancellationToken);
        return connections.Count == 0 ? GraphErrors.UnknownObject(wabaId, request.Method)
            : connections.Any(connection => BearerMatches(request, tokens.Unprotect(connection))) ? null
            : GraphErrors.InvalidToken();
    }

    private static bool BearerMatches(HttpRequest request, string? token)
    {
        if (token is null)
        {
            return false; // stored, but not decryptable with this key ring
        }

        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[7..]), Encoding.UTF8.GetBytes(token));
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body, cancellationToken: cancellationToken);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Cursor(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));

    private static string? Str(JsonObject? json, string name) =>
        json?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
