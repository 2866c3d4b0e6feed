using System.Text.Json;

namespace TwaBot.Api.Meta;

/// <summary>
/// A message in the Cloud API's send format (<c>POST /{phone_number_id}/messages</c>). Every message
/// carries <c>biz_opaque_callback_data</c>, which Meta echoes on each status webhook, so a send whose
/// answer was lost can still be matched to its row.
/// </summary>
public abstract record MetaOutgoingMessage(string To, string CallbackData)
{
    public static MetaOutgoingMessage Text(string to, string body, string callbackData) =>
        new TextMessage(to, body, callbackData);

    public static MetaOutgoingMessage Media(string to, string mediaType, string link, string? caption, string? filename, string callbackData) =>
        new MediaMessage(to, mediaType, link, caption, filename, callbackData);

    public static MetaOutgoingMessage Template(
        string to, string name, string languageCode, IReadOnlyList<string> bodyParams, IReadOnlyList<string> headerParams, string callbackData) =>
        new TemplateMessage(to, name, languageCode, bodyParams, headerParams, callbackData);

    /// <summary>An authentication template: the code fills body {{1}} and the copy-code button (a URL button once created).</summary>
    public static MetaOutgoingMessage Authentication(string to, string name, string languageCode, string code, string callbackData) =>
        new AuthenticationMessage(to, name, languageCode, code, callbackData);

    public byte[] ToJsonBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("messaging_product", "whatsapp");
            writer.WriteString("recipient_type", "individual");
            writer.WriteString("to", To);
            writer.WriteString("biz_opaque_callback_data", CallbackData);
            WriteContent(writer);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    protected abstract void WriteContent(Utf8JsonWriter writer);

    private static void WriteTextParameters(Utf8JsonWriter writer, IEnumerable<string> values)
    {
        writer.WriteStartArray("parameters");
        foreach (var value in values)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "text");
            writer.WriteString("text", value);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteTemplateStart(Utf8JsonWriter writer, string name, string languageCode)
    {
        writer.WriteString("type", "template");
        writer.WriteStartObject("template");
        writer.WriteString("name", name);
        writer.WriteStartObject("language");
        writer.WriteString("code", languageCode);
        writer.WriteEndObject();
    }

    private static void WriteComponent(Utf8JsonWriter writer, string type, IEnumerable<string> parameters)
    {
        writer.WriteStartObject();
        writer.WriteString("type", type);
        WriteTextParameters(writer, parameters);
        writer.WriteEndObject();
    }

    private sealed record TextMessage(string To, string Body, string CallbackData) : MetaOutgoingMessage(To, CallbackData)
    {
        protected override void WriteContent(Utf8JsonWriter writer)
        {
            writer.WriteString("type", "text");
            writer.WriteStartObject("text");
            writer.WriteBoolean("preview_url", false);
            writer.WriteString("body", Body);
            writer.WriteEndObject();
        }
    }

    private sealed record MediaMessage(string To, string MediaType, string Link, string? Caption, string? Filename, string CallbackData)
        : MetaOutgoingMessage(To, CallbackData)
    {
        protected override void WriteContent(Utf8JsonWriter writer)
        {
            writer.WriteString("type", MediaType);
            writer.WriteStartObject(MediaType);
            writer.WriteString("link", Link);
            // Meta takes a caption for image, video and document, a file name for documents only.
            if (Caption is not null && MediaType is "image" or "video" or "document")
            {
                writer.WriteString("caption", Caption);
            }

            if (Filename is not null && MediaType == "document")
            {
                writer.WriteString("filename", Filename);
            }

            writer.WriteEndObject();
        }
    }

    private sealed record TemplateMessage(
        string To, string Name, string LanguageCode, IReadOnlyList<string> BodyParams, IReadOnlyList<string> HeaderParams, string CallbackData)
        : MetaOutgoingMessage(To, CallbackData)
    {
        protected override void WriteContent(Utf8JsonWriter writer)
        {
            WriteTemplateStart(writer, Name, LanguageCode);
            if (HeaderParams.Count > 0 || BodyParams.Count > 0)
            {
                writer.WriteStartArray("components");
                if (HeaderParams.Count > 0)
                {
                    WriteComponent(writer, "header", HeaderParams);
                }

                if (BodyParams.Count > 0)
                {
                    WriteComponent(writer, "body", BodyParams);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }
    }

    private sealed record AuthenticationMessage(string To, string Name, string LanguageCode, string Code, string CallbackData)
        : MetaOutgoingMessage(To, CallbackData)
    {
        protected override void WriteContent(Utf8JsonWriter writer)
        {
            WriteTemplateStart(writer, Name, LanguageCode);
            writer.WriteStartArray("components");
            WriteComponent(writer, "body", [Code]);
            writer.WriteStartObject();
            writer.WriteString("type", "button");
            writer.WriteString("sub_type", "url");
            writer.WriteString("index", "0");
            WriteTextParameters(writer, [Code]);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
    }
}
