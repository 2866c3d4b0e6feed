using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TwaBot.Api.Tests.OpenApi;

/// <summary>
/// Checks real answers against the OpenAPI 3.0 document: the operation (path template and method), the
/// status listed for it, the media type, and the body against the response schema. The schema subset
/// the document uses is checked: <c>$ref</c>, <c>allOf</c>, <c>type</c> with <c>nullable</c>,
/// <c>required</c>, <c>properties</c>, <c>additionalProperties</c>, <c>enum</c>, <c>items</c>, and the
/// <c>date-time</c>/<c>int32</c>/<c>int64</c> formats. An answer is stricter than a request: a field the
/// schema does not declare is a mismatch even where the schema leaves objects open, because a client
/// generated from the document would drop it.
/// </summary>
internal sealed partial class ResponseContract
{
    private readonly JsonElement _schemas;
    private readonly List<(string Template, Regex Pattern, int Parameters, JsonElement Item)> _paths = [];
    private readonly List<string> _mismatches = [];
    private readonly HashSet<(string Operation, string Status)> _covered = [];
    private readonly Lock _lock = new();

    public ResponseContract(JsonElement document)
    {
        _schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            var pattern = "^" + TemplateParameter().Replace(Regex.Escape(path.Name).Replace(@"\{", "{", StringComparison.Ordinal), "[^/]+") + "$";
            _paths.Add((path.Name, new Regex(pattern, RegexOptions.CultureInvariant), TemplateParameter().Count(path.Name), path.Value));
        }

        Listed = [.. _paths.SelectMany(p => p.Item.EnumerateObject().SelectMany(o => o.Value.GetProperty("responses").EnumerateObject()
            .Select(r => ($"{o.Name.ToUpperInvariant()} {p.Template}", r.Name))))];
        Operations = [.. Listed.Select(l => l.Operation).Distinct()];
    }

    /// <summary>Every (operation, status) the document lists.</summary>
    public IReadOnlyList<(string Operation, string Status)> Listed { get; }

    /// <summary>Every operation of the document, as "GET /api/v1/health".</summary>
    public IReadOnlyList<string> Operations { get; }

    public IReadOnlyList<string> Mismatches
    {
        get
        {
            lock (_lock)
            {
                return [.. _mismatches];
            }
        }
    }

    /// <summary>(operation, status) pairs whose answer was checked.</summary>
    public IReadOnlyCollection<(string Operation, string Status)> Covered
    {
        get
        {
            lock (_lock)
            {
                return [.. _covered];
            }
        }
    }

    /// <summary>The answer headers the document describes where they are sent; any other answer carrying one is undocumented.</summary>
    private static readonly string[] DescribedHeaders = ["Retry-After", "RateLimit", "RateLimit-Policy", "Location", "Idempotent-Replayed"];

    /// <summary>Checks one answer; mismatches are kept, to be reported together.</summary>
    public void Check(string method, string path, int status, string? mediaType, string body, IReadOnlyDictionary<string, string>? headers = null)
    {
        // The server reads repeated slashes as one, and routing ignores a trailing slash: the same operation.
        path = RepeatedSlashes().Replace(path, "/");
        path = path.Length > 1 ? path.TrimEnd('/') : path;
        var found = new List<string>();
        var statusName = status.ToString(CultureInfo.InvariantCulture);
        var template = _paths.Where(p => p.Pattern.IsMatch(path)).OrderBy(p => p.Parameters).Select(p => (Found: true, p.Template, p.Item)).FirstOrDefault();
        string where;
        if (!template.Found || !template.Item.TryGetProperty(method.ToLowerInvariant(), out var operation))
        {
            // No operation to hold it to (an unknown route, or a method the path does not have): the
            // answer must still be the error envelope every error is.
            where = $"{method} {path} (no operation) → {statusName}";
            if (status < 400)
            {
                found.Add($"{where}: a success for a request the document has no operation for");
            }
            else
            {
                CheckBody(where, mediaType, body, Ref("ErrorBody"), found);
                CheckErrorCode(where, body, found);
            }

            Keep(found, null, statusName);
            return;
        }

        var name = $"{method.ToUpperInvariant()} {template.Template}";
        where = $"{name} → {statusName}";
        if (!operation.GetProperty("responses").TryGetProperty(statusName, out var response))
        {
            found.Add($"{where}: the status is not listed for the operation (it lists {string.Join(", ", operation.GetProperty("responses").EnumerateObject().Select(r => r.Name))}); body {Excerpt(body)}");
            Keep(found, name, statusName);
            return;
        }

        foreach (var (header, value) in headers ?? new Dictionary<string, string>())
        {
            var declared = response.TryGetProperty("headers", out var listed)
                ? listed.EnumerateObject().Where(h => string.Equals(h.Name, header, StringComparison.OrdinalIgnoreCase)).Select(h => (JsonElement?)h.Value).FirstOrDefault()
                : null;
            if (declared is null && DescribedHeaders.Contains(header, StringComparer.OrdinalIgnoreCase))
            {
                found.Add($"{where}: sends header {header}: {value}, which the document does not declare for this answer");
            }
            else if (declared is { } h && h.TryGetProperty("schema", out var headerSchema) && headerSchema.TryGetProperty("type", out var headerType)
                && headerType.GetString() == "integer" && !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                found.Add($"{where}: header {header}: expected integer, found {value}");
            }
        }

        if (!response.TryGetProperty("content", out var content))
        {
            if (body.Length > 0)
            {
                found.Add($"{where}: the document declares no body, the server sent {mediaType}: {Excerpt(body)}");
            }

            Keep(found, name, statusName);
            return;
        }

        if (mediaType is null || !content.TryGetProperty(mediaType, out var media))
        {
            found.Add($"{where}: answered {mediaType ?? "no body"}, the document declares {string.Join(", ", content.EnumerateObject().Select(c => c.Name))}");
        }
        else if (media.TryGetProperty("schema", out var schema))
        {
            CheckBody(where, mediaType, body, schema, found);
            if (status >= 400)
            {
                CheckErrorCode(where, body, found);
            }
        }

        Keep(found, name, statusName);
    }

    /// <summary>
    /// An error's <c>error_code</c> must be one the document names (the envelope's <c>error_code</c> description lists
    /// them): a client generated from the document branches on the codes it knows of.
    /// </summary>
    private void CheckErrorCode(string where, string body, List<string> found)
    {
        string? code;
        try
        {
            using var parsed = JsonDocument.Parse(body);
            code = parsed.RootElement.ValueKind == JsonValueKind.Object && parsed.RootElement.TryGetProperty("error_code", out var value)
                && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return; // CheckBody reports it
        }

        var named = Ref("ErrorBody").GetProperty("properties").GetProperty("error_code").TryGetProperty("description", out var description)
            ? ErrorCodeName().Matches(description.GetString()!).Select(m => m.Value).ToHashSet(StringComparer.Ordinal)
            : [];
        if (code is not null && !named.Contains(code))
        {
            found.Add($"{where}: error_code {code} is not among the codes the document names for error_code");
        }
    }

    /// <summary>Holds the document's own response examples to their schemas (a client reads them as answers too).</summary>
    public IReadOnlyList<string> CheckExamples()
    {
        var found = new List<string>();
        foreach (var (template, _, _, item) in _paths)
        {
            foreach (var operation in item.EnumerateObject())
            {
                foreach (var response in operation.Value.GetProperty("responses").EnumerateObject())
                {
                    if (response.Value.TryGetProperty("content", out var content) && content.TryGetProperty("application/json", out var media)
                        && media.TryGetProperty("schema", out var schema))
                    {
                        // The one example, or each of several named ones.
                        var examples = media.TryGetProperty("example", out var example) ? [("example", example)]
                            : media.TryGetProperty("examples", out var named) ? named.EnumerateObject().Select(e => ($"example {e.Name}", e.Value.GetProperty("value"))).ToList()
                            : new List<(string, JsonElement)>();
                        foreach (var (name, value) in examples)
                        {
                            var errors = new List<string>();
                            Validate(value, schema, "$", errors);
                            found.AddRange(errors.Select(error => $"{operation.Name.ToUpperInvariant()} {template} → {response.Name} {name}: {error}"));
                        }
                    }
                }
            }
        }

        return found;
    }

    private void Keep(List<string> found, string? operation, string status)
    {
        lock (_lock)
        {
            _mismatches.AddRange(found);
            if (operation is not null)
            {
                _covered.Add((operation, status));
            }
        }
    }

    private void CheckBody(string where, string? mediaType, string body, JsonElement schema, List<string> found)
    {
        if (mediaType != "application/json")
        {
            if (Resolve(schema).TryGetProperty("type", out var type) && type.GetString() == "string")
            {
                return; // text/plain: a string is all there is to check
            }

            found.Add($"{where}: answered {mediaType ?? "no body"} where a JSON body was expected: {Excerpt(body)}");
            return;
        }

        JsonElement root;
        try
        {
            root = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException exception)
        {
            found.Add($"{where}: the body is not JSON ({exception.Message}): {Excerpt(body)}");
            return;
        }

        var errors = new List<string>();
        Validate(root, schema, "$", errors);
        found.AddRange(errors.Select(error => $"{where}: {error}; body {Excerpt(body)}"));
    }

    private JsonElement Ref(string name) => _schemas.GetProperty(name);

    private JsonElement Resolve(JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var reference))
        {
            const string Prefix = "#/components/schemas/";
            var target = reference.GetString()!;
            Assert.StartsWith(Prefix, target, StringComparison.Ordinal);
            schema = Ref(target[Prefix.Length..]);
        }

        return schema;
    }

    private void Validate(JsonElement value, JsonElement schema, string path, List<string> errors)
    {
        var nullable = schema.TryGetProperty("nullable", out var n) && n.GetBoolean(); // on the wrapper of a $ref/allOf too
        schema = Resolve(schema);
        nullable |= schema.TryGetProperty("nullable", out n) && n.GetBoolean();

        if (schema.TryGetProperty("allOf", out var allOf))
        {
            if (value.ValueKind == JsonValueKind.Null && nullable)
            {
                return;
            }

            foreach (var part in allOf.EnumerateArray())
            {
                Validate(value, part, path, errors);
            }
        }

        if (schema.TryGetProperty("enum", out var values)
            && !values.EnumerateArray().Any(v => v.ValueKind == value.ValueKind && v.GetRawText() == value.GetRawText()))
        {
            errors.Add($"{path}: expected one of [{string.Join(", ", values.EnumerateArray().Select(v => v.GetRawText()))}], found {Show(value)}");
            return;
        }

        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!nullable && schema.TryGetProperty("type", out var declared))
            {
                errors.Add($"{path}: expected {declared.GetString()} (not nullable), found null");
            }

            return;
        }

        var type = schema.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type is not null && !IsOfType(value, type))
        {
            errors.Add($"{path}: expected {type}, found {Show(value)}");
            return;
        }

        if (schema.TryGetProperty("format", out var format) && !HasFormat(value, format.GetString()))
        {
            errors.Add($"{path}: expected {type} of format {format.GetString()}, found {Show(value)}");
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in value.EnumerateArray())
            {
                Validate(item, items, $"{path}[{index++}]", errors);
            }
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            ValidateObject(value, schema, path, errors);
        }
    }

    private void ValidateObject(JsonElement value, JsonElement schema, string path, List<string> errors)
    {
        var properties = schema.TryGetProperty("properties", out var p) ? p : default;
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray().Select(r => r.GetString()!).Where(name => !value.TryGetProperty(name, out _)))
            {
                errors.Add($"{path}.{name}: required by the schema, missing");
            }
        }

        var additional = schema.TryGetProperty("additionalProperties", out var a) ? a : default;
        foreach (var property in value.EnumerateObject())
        {
            if (properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(property.Name, out var declared))
            {
                Validate(property.Value, declared, $"{path}.{property.Name}", errors);
            }
            else if (additional.ValueKind == JsonValueKind.Object)
            {
                Validate(property.Value, additional, $"{path}.{property.Name}", errors);
            }
            else if (additional.ValueKind == JsonValueKind.False)
            {
                errors.Add($"{path}.{property.Name}: not allowed (additionalProperties: false), found {Show(property.Value)}");
            }
            else if (!schema.TryGetProperty("allOf", out _)) // with allOf, its parts declare the fields
            {
                // Open by the schema, but an answer's field the document does not name is undocumented.
                errors.Add($"{path}.{property.Name}: not declared by the schema, found {Show(property.Value)}");
            }
        }
    }

    private static bool IsOfType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out var number) && number == decimal.Truncate(number),
        _ => throw new InvalidOperationException($"The validator does not know type {type}"),
    };

    private static bool HasFormat(JsonElement value, string? format) => format switch
    {
        "date-time" => value.ValueKind != JsonValueKind.String || RfcDateTime().IsMatch(value.GetString()!),
        "int32" => value.ValueKind != JsonValueKind.Number || value.TryGetInt32(out _),
        "int64" => value.ValueKind != JsonValueKind.Number || value.TryGetInt64(out _),
        _ => true,
    };

    private static string Show(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => $"{value.ValueKind.ToString().ToLowerInvariant()} {Excerpt(value.GetRawText())}",
    };

    private static string Excerpt(string text) => text.Length <= 300 ? text : text[..300] + "…";

    [GeneratedRegex("/{2,}")]
    private static partial Regex RepeatedSlashes();

    [GeneratedRegex(@"\{[^}/]+}")]
    private static partial Regex TemplateParameter();

    /// <summary>A code as the envelope's error_code description names it: capitals and underscores.</summary>
    [GeneratedRegex("[A-Z][A-Z_]*[A-Z]", RegexOptions.CultureInvariant)]
    private static partial Regex ErrorCodeName();

    /// <summary>RFC 3339 date-time, as OpenAPI's date-time format means.</summary>
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")]
    private static partial Regex RfcDateTime();
}
