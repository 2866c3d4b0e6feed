using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace TwaBot.Api.Sandbox;

/// <summary>Meta's error answers as the Graph API shapes them (meta-cloud-api.md §2.1), for the emulator.</summary>
public static class GraphErrors
{
    /// <summary>
    /// An error whose message is <c>(#code) title</c>, as WhatsApp's own are written; with <paramref name="numbered"/> false the
    /// title alone, as Graph writes its token and object errors ("Invalid OAuth access token …", "Unsupported post request. …").
    /// </summary>
    public static IResult Error(
        int httpStatus, int code, string title, string? details = null, int? subcode = null, string type = "OAuthException", bool numbered = true)
    {
        var error = new JsonObject
        {
            ["message"] = numbered ? $"(#{code}) {title}" : title,
            ["type"] = type,
            ["code"] = code,
        };
        if (subcode is not null)
        {
            error["error_subcode"] = subcode;
        }

        error["error_data"] = new JsonObject { ["messaging_product"] = "whatsapp", ["details"] = details ?? title };
        error["fbtrace_id"] = "A" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(15)).Replace('/', '_').Replace('+', '-');
        return Results.Json(new JsonObject { ["error"] = error }, statusCode: httpStatus);
    }

    public static IResult InvalidToken() =>
        Error(401, 190, "Invalid OAuth access token - Cannot parse access token", "Error validating access token: the token is not valid for this object.",
            numbered: false);

    /// <summary>Meta names the request's method: "Unsupported get request." for a read, "post" for a write.</summary>
    public static IResult UnknownObject(string id, string method) => Error(400, 100,
        $"Unsupported {method.ToLowerInvariant()} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
        subcode: 33, type: "GraphMethodException", numbered: false);

    public static IResult InvalidParameter(string details) => Error(400, 100, "Invalid parameter", details);

    public static IResult ReEngagement() => Error(400, Meta.MetaErrorCodes.OutsideWindow, "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.");

    public static IResult Throughput() => Error(400, 130429, "Rate limit hit",
        "Cloud API message throughput has been reached.");

    public static IResult ServerError() => Error(500, 131000, "Something went wrong", "Something went wrong. Please try again later.");

    public static IResult TemplateMissing(string name, string language) => Error(400, 132001, "Template name does not exist in the translation",
        $"template name ({name}) does not exist in {language}");

    public static IResult TemplateParameters(int given, int expected) => Error(400, 132000,
        "Number of parameters does not match the expected number of params",
        $"body: number of localizable_params ({given}) does not match the expected number of params ({expected})");

    public static IResult NamedParameters(IReadOnlyList<string> names) => Error(400, 132000,
        "Number of parameters does not match the expected number of params",
        $"body: parameter_name must name each of the template's parameters ({string.Join(", ", names)})");

    public static IResult HeaderParameters(int given, int expected) => Error(400, 132000,
        "Number of parameters does not match the expected number of params",
        $"header: number of localizable_params ({given}) does not match the expected number of params ({expected})");

    public static IResult HeaderFormat() => Error(400, 132012, "Parameter format does not match format in the created template",
        "header: the template's header is text, so its parameters must be of type text");

    public static IResult CodeButtonParameter() => Error(400, 132000,
        "Number of parameters does not match the expected number of params",
        "button: an authentication template's URL button at index 0 needs one text parameter, the code (at most 15 characters)");

    public static IResult ButtonParameter(string detail) => Error(400, 132000,
        "Number of parameters does not match the expected number of params", "button: " + detail);

    public static IResult UnsupportedType(string? type) => Error(400, 131051, "Unsupported message type", $"Message type {type} is not supported.");
}
