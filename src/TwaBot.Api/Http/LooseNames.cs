namespace TwaBot.Api.Http;

/// <summary>Names as a careless client may write them: case and separators gone, so template_name, templateName and
/// Template-Name are one, and so are /api/v1/send_template and /api/v1/send-template.</summary>
internal static class LooseNames
{
    public static string Of(string name) => string.Concat(name.Where(char.IsLetterOrDigit)).ToLowerInvariant();
}
