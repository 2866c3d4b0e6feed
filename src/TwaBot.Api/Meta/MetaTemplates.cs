using System.Text.Json;

namespace TwaBot.Api.Meta;

/// <summary>A message template as Meta lists it (<c>GET /{waba_id}/message_templates</c>).</summary>
public sealed record MetaTemplate(
    string Id, string Name, string Language, string Status, string Category, IReadOnlyList<MetaTemplateComponent> Components)
{
    /// <summary>Meta's reason for a rejection (<c>rejected_reason</c>), or null when it lists none or NONE.</summary>
    public string? RejectedReason { get; init; }

    /// <summary>Meta's quality score (<c>quality_score.score</c>: GREEN, YELLOW, RED, UNKNOWN), or null when it lists none.</summary>
    public string? QualityScore { get; init; }

    public string? Text(string componentType) => Component(componentType)?.Text;

    /// <summary>The component of that type, read as <see cref="UnsendableComponent"/> reads types (trimmed, any case).</summary>
    public MetaTemplateComponent? Component(string componentType) =>
        Components.FirstOrDefault(c => string.Equals(c.Type.Trim(), componentType, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The first component other than the four a send fills (header, body, footer, buttons), upper case: a carousel's
    /// cards or a limited-time offer's expiry, which a send must give values for that this API has no field for.
    /// </summary>
    public string? UnsendableComponent => Components.Select(c => c.Type.Trim().ToUpperInvariant())
        .FirstOrDefault(type => type is not ("" or "HEADER" or "BODY" or "FOOTER" or "BUTTONS"));

    internal static MetaTemplate Parse(JsonElement element) => new(
        MetaJson.Str(element, "id") ?? "",
        MetaJson.Str(element, "name") ?? "",
        MetaJson.Str(element, "language") ?? "",
        MetaJson.Str(element, "status") ?? "",
        MetaJson.Str(element, "category") ?? "",
        [.. MetaJson.Array(element, "components")
            .Select(c => new MetaTemplateComponent(MetaJson.Str(c, "type") ?? "", MetaJson.Str(c, "format"), MetaJson.Str(c, "text"))
            {
                Buttons = [.. MetaJson.Array(c, "buttons").Select(MetaTemplateButton.Parse)],
            })])
    {
        RejectedReason = MetaJson.Str(element, "rejected_reason")?.Trim() is { Length: > 0 } reason
            && !reason.Equals("NONE", StringComparison.OrdinalIgnoreCase) ? reason : null,
        QualityScore = MetaJson.Has(element, "quality_score", out var quality) && quality.ValueKind == JsonValueKind.Object
            ? Templates.Template.KnownQualityScore(MetaJson.Str(quality, "score")) : null,
    };
}

public sealed record MetaTemplateComponent(string Type, string? Format, string? Text)
{
    /// <summary>A BUTTONS component's buttons, in order.</summary>
    public IReadOnlyList<MetaTemplateButton> Buttons { get; init; } = [];
}

/// <summary>
/// A template button as Meta takes and lists it: <c>type</c> QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, …; a URL
/// button's link may end in <c>{{1}}</c>, which each send fills; <c>example</c> is what Meta reviews for that
/// variable, or a copy-code button's sample code.
/// </summary>
public sealed record MetaTemplateButton(string Type, string? Text, string? Url = null, string? PhoneNumber = null, string? Example = null)
{
    internal static MetaTemplateButton Parse(JsonElement element) => new(
        MetaJson.Str(element, "type") ?? "", MetaJson.Str(element, "text"), MetaJson.Str(element, "url"), MetaJson.Str(element, "phone_number"),
        // A URL example is a list of full links, a copy-code one a plain code. Read through MetaJson: a button that is no
        // object, or an example that is no valid text, is an odd item of Meta's list, never an exception that fails the sync.
        MetaJson.Has(element, "example", out var example) && example.ValueKind == JsonValueKind.Array
            ? example.EnumerateArray().Select(MetaJson.Text).FirstOrDefault()
            : MetaJson.Str(element, "example"));

    /// <summary>Writes the button in Meta's create format.</summary>
    public void Write(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("type", Type.ToUpperInvariant());
        if (Text is not null)
        {
            writer.WriteString("text", Text);
        }

        if (Url is not null)
        {
            writer.WriteString("url", Url);
        }

        if (PhoneNumber is not null)
        {
            writer.WriteString("phone_number", PhoneNumber);
        }

        if (Example is not null && Url is not null)
        {
            writer.WriteStartArray("example");
            writer.WriteStringValue(Example);
            writer.WriteEndArray();
        }
        else if (Example is not null)
        {
            writer.WriteString("example", Example);
        }

        writer.WriteEndObject();
    }
}

/// <summary>
/// What to submit for review (<c>POST /{waba_id}/message_templates</c>); <c>CodeExpirationMinutes</c> is an
/// authentication template's code validity, which Meta writes in its footer.
/// </summary>
public sealed record MetaTemplateDefinition(
    string Name, string Language, string Category, string Body, string? HeaderText, string? FooterText, IReadOnlyList<string> BodyExamples,
    int? CodeExpirationMinutes = null)
{
    /// <summary>The buttons of a template that is not an authentication one (Meta gives those their copy-code button).</summary>
    public IReadOnlyList<MetaTemplateButton> Buttons { get; init; } = [];

    public bool IsAuthentication => string.Equals(Category, Templates.Template.Authentication, StringComparison.OrdinalIgnoreCase);

    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", Name);
            writer.WriteString("language", Language);
            writer.WriteString("category", Category.ToUpperInvariant());
            var bodyNames = IsAuthentication ? null : Templates.Template.ParameterNames(Body);
            var headerNames = Templates.Template.ParameterNames(HeaderText);
            if (bodyNames is not null || headerNames is not null) // one format for the whole template (the admin API refuses a mix)
            {
                writer.WriteString("parameter_format", "NAMED"); // {{first_name}}: Meta reads names only when told
            }

            writer.WriteStartArray("components");
            if (IsAuthentication)
            {
                WriteAuthenticationComponents(writer);
            }
            else
            {
                WriteComponents(writer, headerNames, bodyNames);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Meta writes an authentication template's texts itself ("{{1}} is your verification code."): only its options are given.</summary>
    private void WriteAuthenticationComponents(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "BODY");
        writer.WriteBoolean("add_security_recommendation", true);
        writer.WriteEndObject();
        if (CodeExpirationMinutes is { } minutes)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "FOOTER");
            writer.WriteNumber("code_expiration_minutes", minutes);
            writer.WriteEndObject();
        }

        writer.WriteStartObject();
        writer.WriteString("type", "BUTTONS");
        writer.WriteStartArray("buttons");
        writer.WriteStartObject();
        writer.WriteString("type", "OTP");
        writer.WriteString("otp_type", "COPY_CODE");
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>The texts the business wrote, with example values for Meta's review, and its buttons.</summary>
    private void WriteComponents(Utf8JsonWriter writer, IReadOnlyList<string>? headerNames, IReadOnlyList<string>? bodyNames)
    {
        if (HeaderText is not null)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "HEADER");
            writer.WriteString("format", "TEXT");
            writer.WriteString("text", HeaderText);
            // Meta reviews a header variable with an example value too.
            WriteExamples(writer, "header_text", headerNames,
                [.. Enumerable.Range(1, Templates.Template.CountPlaceholders(HeaderText)).Select(i => $"example {i}")], nested: false);
            writer.WriteEndObject();
        }

        writer.WriteStartObject();
        writer.WriteString("type", "BODY");
        writer.WriteString("text", Body);
        WriteExamples(writer, "body_text", bodyNames, BodyExamples, nested: true);
        writer.WriteEndObject();
        if (FooterText is not null)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "FOOTER");
            writer.WriteString("text", FooterText);
            writer.WriteEndObject();
        }

        if (Buttons.Count > 0)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "BUTTONS");
            writer.WriteStartArray("buttons");
            foreach (var button in Buttons)
            {
                button.Write(writer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }

    /// <summary>
    /// A component's example values: positional as <c>{kind: [...]}</c> (the body's nested once more), named as
    /// <c>{kind_named_params: [{param_name, example}]}</c>. Nothing when there are no placeholders.
    /// </summary>
    private static void WriteExamples(Utf8JsonWriter writer, string kind, IReadOnlyList<string>? names, IReadOnlyList<string> examples, bool nested)
    {
        if (examples.Count == 0)
        {
            return;
        }

        writer.WriteStartObject("example");
        if (names is not null)
        {
            writer.WriteStartArray(kind + "_named_params");
            for (var i = 0; i < names.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("param_name", names[i]);
                writer.WriteString("example", i < examples.Count ? examples[i] : $"example {i + 1}");
                writer.WriteEndObject();
            }
        }
        else
        {
            writer.WriteStartArray(kind);
            if (nested)
            {
                writer.WriteStartArray();
            }

            foreach (var example in examples)
            {
                writer.WriteStringValue(example);
            }

            if (nested)
            {
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

/// <summary>Meta's answer to a submitted template.</summary>
public sealed record MetaTemplateCreated(string Id, string Status, string Category);
