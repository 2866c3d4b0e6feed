namespace TwaBot.Api.Sandbox;

/// <summary>
/// The emulated Graph API under <c>/sandbox/graph/{version}/…</c>: sends (<see cref="SandboxMessagesApi"/>),
/// template management (<see cref="SandboxTemplatesApi"/>) and an account's numbers, with Meta's JSON, error codes and wamid-style ids,
/// and the magic recipient numbers of the README.
/// Mapped only in sandbox mode; it plays Meta, so it is not part of our OpenAPI document.
/// </summary>
public static class SandboxGraphApi
{
    private const string Version = "{version:regex(^v[0-9]+\\.[0-9]+$)}";

    public static void MapSandboxGraph(this IEndpointRouteBuilder app)
    {
        var graph = app.MapGroup($"/sandbox/graph/{Version}").ExcludeFromDescription();
        graph.MapPost("/{phoneNumberId}/messages", SandboxMessagesApi.SendMessage);
        graph.MapGet("/{wabaId}/message_templates", SandboxTemplatesApi.ListTemplates);
        graph.MapPost("/{wabaId}/message_templates", SandboxTemplatesApi.CreateTemplate);
        graph.MapGet("/{wabaId}/phone_numbers", SandboxTemplatesApi.ListPhoneNumbers);
        // Any other path or method under the emulator (another version form, an edge or a method it does not have) gets
        // Meta's answer to a request it cannot serve, not the server's own 404 or 405.
        app.MapFallback("/sandbox/graph/{**path}", (string? path, HttpRequest request) => GraphErrors.UnknownObject(path ?? "", request.Method))
            .ExcludeFromDescription();
    }

    /// <summary>
    /// The wa_id Meta answers for a number. Like Meta for many Brazilian, Mexican and Argentine mobiles, the emulator
    /// answers a Brazilian mobile without its ninth digit, 52 and ten digits as 521 and the ten, 54 and ten digits as
    /// 549 and the ten (<see cref="Phones.WaIdForms"/>); any other number is its own.
    /// </summary>
    internal static string WaIdFor(string to) => Phones.WaIdForms.WaIdOf(to) ?? to;
}
