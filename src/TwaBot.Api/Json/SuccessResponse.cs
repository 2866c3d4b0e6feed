using System.Text.Json.Serialization;

namespace TwaBot.Api.Json;

/// <summary>Base of every success body: <c>"success": true</c> comes first.</summary>
public abstract record SuccessResponse
{
    [JsonPropertyOrder(-1)]
    public bool Success => true;
}

/// <summary>A success with nothing more to say (deletes, revocations).</summary>
public sealed record OkResponse : SuccessResponse
{
    public static OkResponse Instance { get; } = new();
}
