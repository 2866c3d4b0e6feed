namespace TwaBot.Api.OpenApi;

// Metadata that endpoints carry and the filters read.

/// <summary>Marks endpoints that need <c>X-API-Key</c>.</summary>
public sealed class ApiKeySecurity;

/// <summary>Marks endpoints that need <c>X-Admin-Key</c>.</summary>
public sealed class AdminKeySecurity;

/// <summary>Marks sends that take an optional <c>Idempotency-Key</c>.</summary>
public sealed class AcceptsIdempotencyKey;

/// <summary>The type of a JSON body an endpoint reads itself, for the document.</summary>
public sealed record OpenApiRequestBodyType(Type Type);

/// <summary>Example bodies for one endpoint: the request, and responses by status code.</summary>
public sealed record OpenApiExamples(string? Request, IReadOnlyDictionary<int, IReadOnlyList<string>> Responses);

/// <summary>Marks an endpoint that reads and writes no database (Meta's verify handshake): it cannot answer 503 STORAGE_UNAVAILABLE.</summary>
internal sealed class UsesNoDatabase;
