using System.Text.Json;

namespace TwaBot.Api.Meta;

/// <summary>A message template as Meta lists it (<c>GET /{waba_id}/message_templates</c>).</summary>
public sealed record MetaTemplate(
    string Id, string Name, string Language, string Status, string Category, IReadOnlyList<MetaTemplateComponent> Components)
{
    public string? Text(string componentType) =>
        Components.FirstOrDefault(c => string.Equals(c.Type, componentType, StringComparison.OrdinalIgnoreCase))?.Text;

    public MetaTemplateComponent? Component(string componentType) =>
        Components.FirstOrDefault(c => string.Equals(c.Type, componentType, StringComparison.OrdinalIgnoreCase));

    internal static MetaTemplate Parse(JsonElement element) => new(
        MetaJson.Str(element, "id") ?? "",
        MetaJson.Str(element, "name") ?? "",
        MetaJson.Str(element, "language") ?? "",
        MetaJson.Str(element, "status") ?? "",
        MetaJson.Str(element, "category") ?? "",
        [.. MetaJson.Array(element, "components")
            .Select(c => new MetaTemplateComponent(MetaJson.Str(c, "type") ?? "", MetaJson.Str(c, "format"), MetaJson.Str(c, "text")))]);
}

public sealed record MetaTemplateComponent(string Type, string? Format, string? Text);

/// <summary>What to submit for review (<c>POST /{waba_id}/message_templates</c>).</summary>
public sealed record MetaTemplateDefinition(
    string Name, string Language, string Category, string Body, string? HeaderText, string? FooterText, IReadOnlyList<string> BodyExamples)
{
    public bool IsAuthentication => string.Equals(Category, "AUTHENTICATION", StringComparison.OrdinalIgnoreCase);

    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("name", Name);
            writer.WriteString("language", Language);
            writer.WriteString("category", Category.ToUpperInvariant());
            writer.WriteStartArray("components");
            if (IsAuthentication)
            {
                // Meta writes the body of authentication templates itself ("<code> is your verification code.").
                writer.WriteStartObject();
                writer.WriteString("type", "BODY");
                writer.WriteBoolean("add_security_recommendation", true);
                writer.WriteEndObject();
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
            else
            {
                WriteTextComponent(writer, "HEADER", HeaderText, withFormat: true);
                writer.WriteStartObject();
                writer.WriteString("type", "BODY");
                writer.WriteString("text", Body);
                if (BodyExamples.Count > 0)
                {
                    writer.WriteStartObject("example");
                    writer.WriteStartArray("body_text");
                    writer.WriteStartArray();
                    BodyExamples.ToList().ForEach(writer.WriteStringValue);
                    writer.WriteEndArray();
                    writer.WriteEndArray();
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
                WriteTextComponent(writer, "FOOTER", FooterText, withFormat: false);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteTextComponent(Utf8JsonWriter writer, string type, string? text, bool withFormat)
    {
        if (text is null)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("type", type);
        if (withFormat)
        {
            writer.WriteString("format", "TEXT");
        }

        writer.WriteString("text", text);
        writer.WriteEndObject();
    }
}

/// <summary>Meta's answer to a submitted template.</summary>
public sealed record MetaTemplateCreated(string Id, string Status, string Category);
