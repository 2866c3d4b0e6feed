using System.Text.Json;
using TwaBot.Api.Templates;

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

    /// <summary>
    /// A template; <paramref name="shape"/> says how it takes its parameters (positional text when null), and
    /// which of its buttons take the <paramref name="buttonParams"/>, in order.
    /// </summary>
    public static MetaOutgoingMessage Template(
        string to, string name, string languageCode, IReadOnlyList<string> bodyParams, IReadOnlyList<string> headerParams, string callbackData,
        TemplateShape? shape = null, IReadOnlyList<string>? buttonParams = null) =>
        new TemplateMessage(to, name, languageCode, bodyParams, headerParams, callbackData, shape ?? TemplateShape.Positional)
        {
            ButtonParams = buttonParams ?? [],
        };

    /// <summary>An authentication template: the code fills body {{1}} and the copy-code button (a URL button once created).</summary>
    public static MetaOutgoingMessage Authentication(string to, string name, string languageCode, string code, string callbackData) =>
        new TemplateMessage(to, name, languageCode, [code], [], callbackData, TemplateShape.AuthenticationCode);

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

    /// <summary>Text parameters; a named-parameter template's names come in the same order as the values.</summary>
    private static void WriteTextParameters(Utf8JsonWriter writer, IReadOnlyList<string> values, IReadOnlyList<string>? names = null)
    {
        writer.WriteStartArray("parameters");
        for (var i = 0; i < values.Count; i++)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "text");
            if (names is not null && i < names.Count)
            {
                writer.WriteString("parameter_name", names[i]);
            }

            writer.WriteString("text", values[i]);
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

    private static void WriteComponent(Utf8JsonWriter writer, string type, IReadOnlyList<string> parameters, IReadOnlyList<string>? names = null)
    {
        writer.WriteStartObject();
        writer.WriteString("type", type);
        WriteTextParameters(writer, parameters, names);
        writer.WriteEndObject();
    }

    /// <summary>An image, video or document header: its one parameter is the file, by link.</summary>
    private static void WriteMediaHeader(Utf8JsonWriter writer, string mediaType, string link)
    {
        writer.WriteStartObject();
        writer.WriteString("type", "header");
        writer.WriteStartArray("parameters");
        writer.WriteStartObject();
        writer.WriteString("type", mediaType);
        writer.WriteStartObject(mediaType);
        writer.WriteString("link", link);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndArray();
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
        string To, string Name, string LanguageCode, IReadOnlyList<string> BodyParams, IReadOnlyList<string> HeaderParams, string CallbackData,
        TemplateShape Shape)
        : MetaOutgoingMessage(To, CallbackData)
    {
        public IReadOnlyList<string> ButtonParams { get; init; } = [];

        protected override void WriteContent(Utf8JsonWriter writer)
        {
            WriteTemplateStart(writer, Name, LanguageCode);
            if (HeaderParams.Count > 0 || BodyParams.Count > 0 || ButtonParams.Count > 0)
            {
                writer.WriteStartArray("components");
                if (HeaderParams.Count > 0 && Shape.MediaHeader is { } mediaType)
                {
                    WriteMediaHeader(writer, mediaType, HeaderParams[0]);
                }
                else if (HeaderParams.Count > 0)
                {
                    WriteComponent(writer, "header", HeaderParams, Shape.HeaderNames);
                }

                if (BodyParams.Count > 0)
                {
                    WriteComponent(writer, "body", BodyParams, Shape.BodyNames);
                }

                if (Shape.CodeButton && BodyParams.Count > 0)
                {
                    // Meta turns an authentication template's copy-code button into a URL button, which takes the code too.
                    writer.WriteStartObject();
                    writer.WriteString("type", "button");
                    writer.WriteString("sub_type", "url");
                    writer.WriteString("index", "0");
                    WriteTextParameters(writer, [BodyParams[0]]);
                    writer.WriteEndObject();
                }

                WriteButtons(writer);
                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        /// <summary>
        /// One component per button that takes a value, each at its place among all the template's buttons:
        /// a link's end as text, a coupon code as Meta's <c>coupon_code</c> parameter.
        /// </summary>
        private void WriteButtons(Utf8JsonWriter writer)
        {
            var given = 0;
            for (var index = 0; index < Shape.Buttons.Count && given < ButtonParams.Count; index++)
            {
                var kind = Shape.Buttons[index];
                if (kind is not (TemplateButtons.UrlSuffix or TemplateButtons.CouponCode))
                {
                    continue;
                }

                var value = ButtonParams[given++];
                writer.WriteStartObject();
                writer.WriteString("type", "button");
                writer.WriteString("sub_type", kind == TemplateButtons.CouponCode ? "copy_code" : "url");
                writer.WriteString("index", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (kind == TemplateButtons.CouponCode)
                {
                    writer.WriteStartArray("parameters");
                    writer.WriteStartObject();
                    writer.WriteString("type", "coupon_code");
                    writer.WriteString("coupon_code", value);
                    writer.WriteEndObject();
                    writer.WriteEndArray();
                }
                else
                {
                    WriteTextParameters(writer, [value]);
                }

                writer.WriteEndObject();
            }
        }
    }
}

/// <summary>
/// How a template takes its parameters: by name (Meta's <c>parameter_format: NAMED</c>) or by position,
/// whether its header is a file (image, video, document) rather than text, and whether its first body value
/// (an authentication template's code) also goes to its copy-code button; <c>Buttons</c> are its other buttons
/// by what a send gives each (<see cref="TemplateButtons"/>).
/// </summary>
public sealed record TemplateShape(
    string? MediaHeader, IReadOnlyList<string>? HeaderNames, IReadOnlyList<string>? BodyNames, bool CodeButton = false)
{
    public IReadOnlyList<string> Buttons { get; init; } = [];

    public static readonly TemplateShape Positional = new(null, null, null);

    public static readonly TemplateShape AuthenticationCode = new(null, null, null, CodeButton: true);

    public static TemplateShape Of(Templates.Template template)
    {
        ArgumentNullException.ThrowIfNull(template);
        return new(
            template.HasMediaHeader ? template.HeaderType : null,
            template.HasMediaHeader ? null : Templates.Template.ParameterNames(template.HeaderText),
            Templates.Template.ParameterNames(template.Content),
            template.IsAuthentication)
        {
            Buttons = template.Buttons,
        };
    }
}
