using System.Text.Json;

namespace TwaBot.Api.Meta;

/// <summary>A WhatsApp number of a WABA as Meta lists it (<c>GET /{waba_id}/phone_numbers</c>).</summary>
public sealed record MetaPhoneNumber(string Id, string? DisplayPhoneNumber, string? VerifiedName)
{
    internal static MetaPhoneNumber Parse(JsonElement element) => new(
        MetaJson.Str(element, "id") ?? "",
        MetaJson.Str(element, "display_phone_number") is { Length: > 0 } display ? display.Trim() : null,
        MetaJson.Str(element, "verified_name"));
}
