using System.Net;
using System.Text.Json;

namespace TwaBot.Api.Tests.Infrastructure;

public static class HttpAssertions
{
    /// <summary>Asserts the status and a JSON body, and returns the body's root element.</summary>
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, HttpStatusCode expected)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.MediaType ?? "", StringComparison.Ordinal);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts the error envelope: the status, success:false, the error code, and a human message.</summary>
    public static async Task<JsonElement> AssertErrorAsync(this HttpResponseMessage response, HttpStatusCode status, string errorCode)
    {
        var json = await response.ReadJsonAsync(status);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(errorCode, json.GetProperty("error_code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("error").GetString()));
        return json;
    }

    /// <summary>The property names of a JSON object, in order.</summary>
    public static string[] PropertyNames(this JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
