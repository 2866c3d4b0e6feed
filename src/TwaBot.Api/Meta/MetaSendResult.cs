namespace TwaBot.Api.Meta;

/// <summary>What came of a send: Meta's id, or why there is none. Expected failures are values, not exceptions.</summary>
public abstract record MetaSendResult
{
    private MetaSendResult()
    {
    }

    /// <summary>Meta accepted the message (not yet delivered).</summary>
    public sealed record Accepted(string Wamid, string? WaId) : MetaSendResult;

    public sealed record Failed(MetaFailure Failure) : MetaSendResult;
}

public enum MetaFailureKind
{
    /// <summary>Meta answered with its error: it processed the call and refused it.</summary>
    Rejected,

    /// <summary>
    /// No refusal from Meta: a 5xx, a timeout, a connection failure or an unreadable answer. Whether a send
    /// may still have gone out is <see cref="MetaFailure.MayHaveBeenSent"/>.
    /// </summary>
    Unavailable,

    /// <summary>Meta has been failing; the breaker answers at once without calling it.</summary>
    CircuitOpen,
}

/// <summary>A failed call: its kind, Meta's error when it sent one, and how long to wait when known.</summary>
public sealed record MetaFailure(MetaFailureKind Kind, MetaError? Error, TimeSpan? RetryAfter, string Description)
{
    /// <summary>
    /// True when the request may have reached Meta without us hearing the answer (a timeout, a dropped
    /// response): a send may have gone out, and only a status webhook can tell.
    /// </summary>
    public bool MayHaveBeenSent { get; init; }

    /// <summary>The HTTP status of Meta's answer; 0 when none came.</summary>
    public int HttpStatus { get; init; }

    /// <summary>Meta's throughput limits (4, 80007, 130429), or an HTTP 429 that carried no code.</summary>
    public bool IsThrottling => Error?.IsThrottling ?? (Kind == MetaFailureKind.Rejected && HttpStatus == 429);

    /// <summary>
    /// The wait to tell the caller, in whole seconds, at least one: Meta's Retry-After; when it named none, a minute for the
    /// business account's limit (80007), which Meta advises backing off from for minutes (meta-cloud-api.md §2.3), else one.
    /// </summary>
    public int RetryAfterSeconds => Math.Max(1, (int)Math.Ceiling(RetryAfter?.TotalSeconds ?? (Error?.Code == 80007 ? 60 : 1)));

    public static MetaFailure Unavailable(string description, MetaError? error = null, TimeSpan? retryAfter = null) =>
        new(MetaFailureKind.Unavailable, error, retryAfter, description);
}

/// <summary>A call that returns a value (template listing, creation), or its failure.</summary>
public sealed record MetaResult<T>(T? Value, MetaFailure? Failure);
