using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>Says what each group of operations is for, in the order a reader meets them.</summary>
internal sealed class TagDescriptionsFilter : IDocumentFilter
{
    /// <summary>The tags the routes use (WithTags), each with its description.</summary>
    public static readonly IReadOnlyList<(string Name, string Description)> Tags =
    [
        ("Sending", "Send template, text, media and OTP messages, and follow each one's delivery on message-status (X-API-Key)."),
        ("Templates", "The templates your business can send, with their placeholders (X-API-Key)."),
        ("Account", "Check an API key and whether its business's WhatsApp number is connected (X-API-Key)."),
        ("Admin", "Businesses, their API keys, WhatsApp connections, suppressions and templates, for the server's operator (X-Admin-Key)."),
        ("Webhooks", "Where Meta verifies the callback URL and posts delivery statuses, customer messages and template changes (signed with the app secret)."),
        ("Sandbox", "Sandbox mode only: a customer's message delivered to the server as Meta would post it."),
    ];

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var used = context.ApiDescriptions.SelectMany(d => d.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Http.Metadata.ITagsMetadata>())
            .SelectMany(t => t.Tags).ToHashSet(StringComparer.Ordinal);
        document.Tags = new HashSet<OpenApiTag>(
            Tags.Where(t => used.Contains(t.Name)).Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
    }
}
