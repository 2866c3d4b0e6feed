using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Businesses;
using TwaBot.Api.Data;
using TwaBot.Api.Templates;
using static TwaBot.Api.Sandbox.GraphRequest;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// The emulated account management: template management (<c>{waba-id}/message_templates</c>: Meta's list with its filters and
/// cursors, and submission, which the sandbox approves at once) and the account's numbers (<c>{waba-id}/phone_numbers</c>).
/// </summary>
internal static class SandboxTemplatesApi
{
    internal static async Task<IResult> ListTemplates(
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
            ["rejected_reason"] = t.RejectedReason ?? "NONE",
            ["quality_score"] = new JsonObject { ["score"] = t.QualityScore ?? "UNKNOWN" },
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

    /// <summary>
    /// The account's numbers (<c>{waba-id}/phone_numbers</c>), as Meta lists them to the Meta client: the sandbox
    /// connections on that WABA, verified under their business's name. An account holds a few numbers: one page.
    /// </summary>
    internal static async Task<IResult> ListPhoneNumbers(
        string wabaId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, CancellationToken cancellationToken)
    {
        if (await AuthorizeWabaAsync(wabaId, request, db, tokens, cancellationToken) is { } refused)
        {
            return refused;
        }

        var numbers = await db.WhatsAppConnections.AsNoTracking().Where(w => w.WabaId == wabaId && w.IsSandbox).OrderBy(w => w.PhoneNumberId)
            .Join(db.Businesses, w => w.BusinessId, b => b.Id, (w, b) => new { w.PhoneNumberId, w.DisplayPhoneNumber, b.Name })
            .ToListAsync(cancellationToken);
        var data = numbers.Select(n => (JsonNode)new JsonObject
        {
            ["verified_name"] = n.Name,
            ["display_phone_number"] = n.DisplayPhoneNumber ?? WhatsAppConnection.SandboxDisplayPhoneNumber,
            ["id"] = n.PhoneNumberId,
            ["quality_rating"] = "GREEN",
        }).ToArray();
        return Results.Json(new JsonObject
        {
            ["data"] = new JsonArray(data),
            ["paging"] = new JsonObject { ["cursors"] = new JsonObject { ["before"] = Cursor(0), ["after"] = Cursor(data.Length) } },
        });
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

        // Only a cursor as this emulator gives it out: base64 readers skip spaces, and "01" reads as 1, but Meta's cursors are opaque.
        Span<byte> decoded = stackalloc byte[16];
        return Convert.TryFromBase64String(after, decoded, out var written)
            && int.TryParse(decoded[..written], NumberStyles.None, CultureInfo.InvariantCulture, out offset)
            && after == Cursor(offset);
    }

    internal static async Task<IResult> CreateTemplate(
        string wabaId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, SqliteWriteGate gate, CancellationToken cancellationToken)
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

        // Refused without waiting for the write gate; checked again in turn below, where the row is written.
        if (await ExistsAsync(db, wabaId, name, language, cancellationToken))
        {
            return AlreadyExists(name, language);
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

        if ((Template.NameMetaRefuses(Text("BODY")) ?? Template.NameMetaRefuses(Text("HEADER"))) is { } badName)
        {
            // Meta's names are lowercase letters, digits and underscores; it refuses {{FirstName}}.
            return GraphErrors.InvalidParameter($"The parameter name {badName} must hold only lowercase letters, digits and underscores.");
        }

        var template = new SandboxTemplate
        {
            WabaId = wabaId,
            MetaId = NewTemplateId(),
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
        // The emulator's store is the server's database: it writes in turn with the server's writers (TemplatesAdmin).
        using (await gate.EnterAsync(cancellationToken))
        {
            // Checked again in turn: a business's creates run one at a time, but two businesses sharing the WABA may submit
            // the same name and language at once, and the second insert met the unique index (a 500, which TemplatesAdmin
            // told as Meta's outcome unknown and kept the template PENDING) where Meta refuses it as it exists.
            if (await ExistsAsync(db, wabaId, name, language, cancellationToken))
            {
                return AlreadyExists(name, language);
            }

            await db.SaveChangesAsync(cancellationToken);
        }

        return Results.Json(new JsonObject { ["id"] = template.MetaId, ["status"] = template.Status, ["category"] = template.Category });
    }

    private static Task<bool> ExistsAsync(TwaBotDbContext db, string wabaId, string name, string language, CancellationToken cancellationToken) =>
        db.SandboxTemplates.AnyAsync(t => t.WabaId == wabaId && t.Name == name && t.Language == language, cancellationToken);

    private static IResult AlreadyExists(string name, string language) => GraphErrors.Error(400, 100, "Invalid parameter",
        $"Message template \"{name}\" already exists in {language}.", subcode: 2388024);

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
        else if (string.Equals(template.Category, Template.Authentication, StringComparison.OrdinalIgnoreCase))
        {
            // Meta turns the OTP button it was given into a URL button, and lists it so: its link ends in the code each send gives.
            components.Add(new JsonObject
            {
                ["type"] = "BUTTONS",
                ["buttons"] = new JsonArray(new JsonObject
                {
                    ["type"] = "URL", ["text"] = "Copy code", ["url"] = "https://www.whatsapp.com/otp/code/?otp_type=COPY_CODE&code=otp{{1}}",
                }),
            });
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

    private static string Cursor(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// A template id as Meta writes them: 15 digits, never a leading zero (one here made clients that read the id as a
    /// number, as Meta's JSON invites, look up another template).
    /// </summary>
    internal static string NewTemplateId() => RandomNumberGenerator.GetString("123456789", 1) + RandomNumberGenerator.GetString("0123456789", 14);
}
