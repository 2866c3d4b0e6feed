using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending;

/// <summary>
/// Reads a send's JSON body when the pipeline reaches validation, not before: a request that fails
/// an earlier check (plan, permission) gets that check's answer even if its body is broken. Any
/// content type is read as JSON, since CRMs often omit or mislabel it.
/// </summary>
public static class SendBody
{
    public static async ValueTask<ApiErrorOr<T>> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, typeInfo, request.HttpContext.RequestAborted);
            return body is null ? ApiErrors.MissingBody() : body;
        }
        catch (JsonException error) when (error.BytePositionInLine == 0 && error.LineNumber == 0 && error.Path is null or "$")
        {
            return ApiErrors.MissingBody();
        }
        catch (JsonException error)
        {
            return ApiExceptionHandler.FromJsonException(error);
        }
    }
}
