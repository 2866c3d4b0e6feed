namespace TwaBot.Api.Http;

/// <summary>
/// A base URL ending in a slash plus a path starting with one (<c>https://host/</c> + <c>/api/v1/send-template</c>)
/// is how many CRMs and form builders put a URL together, and gives <c>//api/v1/send-template</c>. Repeated slashes
/// are read as one, as nginx does by default, instead of answering 404: no route has an empty segment.
/// </summary>
public static class RepeatedSlashes
{
    public static IApplicationBuilder UseSingleSlashes(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.Value is { } path && path.Contains("//", StringComparison.Ordinal))
        {
            context.Request.Path = new PathString(Collapse(path));
        }

        return next(context);
    });

    internal static string Collapse(string path)
    {
        var single = new System.Text.StringBuilder(path.Length);
        foreach (var c in path)
        {
            if (c != '/' || single.Length == 0 || single[^1] != '/')
            {
                single.Append(c);
            }
        }

        return single.ToString();
    }
}
