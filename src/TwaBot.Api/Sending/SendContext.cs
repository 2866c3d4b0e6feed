using TwaBot.Api.ApiKeys;
using TwaBot.Api.Errors;
using TwaBot.Api.Meta;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Sending;

/// <summary>One send as it goes through the pipeline; each step reads it and may fill in what it found.</summary>
public sealed class SendContext(SendRoute route, ApiCaller caller, Func<ValueTask<ApiErrorOr<OutgoingContent>>> validate)
{
    public SendRoute Route { get; } = route;

    public ApiCaller Caller { get; } = caller;

    /// <summary>The validated request, phone normalized; set by <see cref="Steps.RequestIsValid"/>.</summary>
    public OutgoingContent? Content { get; private set; }

    /// <summary>Set by <see cref="Steps.WhatsAppIsConnected"/>.</summary>
    public MetaConnection? Connection { get; set; }

    /// <summary>The unit of the daily cap this send holds; set by <see cref="Steps.DailyQuotaIsAvailable"/>.</summary>
    public RateLimiting.DailyReservation Reservation { get; set; }

    /// <summary>Set by <see cref="Steps.TemplateIsApproved"/> for template and OTP sends.</summary>
    public Template? Template { get; set; }

    /// <summary>
    /// An OTP: send-otp's, or a template send through an AUTHENTICATION template (its one value is the code), so that
    /// the hourly OTP cap is not one endpoint away. Known once the template step has run.
    /// </summary>
    public bool IsOtp => Content is OtpContent || (Content is TemplateContent && Template is { IsAuthentication: true });

    /// <summary>The request's <c>Idempotency-Key</c>, when it has one.</summary>
    public Idempotency.IdempotencyRequest? Idempotency { get; init; }

    /// <summary>The key this send holds and its request's hash (encrypted), written with the message row; set once claimed.</summary>
    public (string Key, byte[] ProtectedRequestSha256)? ClaimedKey { get; set; }

    /// <summary>Set by the <see cref="MessageDispatcher"/> when Meta accepted the message or may have (its answer lost).</summary>
    public bool MayHaveBeenSent { get; set; }

    private Action? _giveBack;

    /// <summary>Registers what a step took for this send (a unit of the daily cap, an OTP slot), to give back if it never goes out.</summary>
    public void Holds(Action giveBack) => _giveBack += giveBack;

    /// <summary>Gives back everything the send holds, once: a later step or Meta refused it, or it ended before reaching Meta.</summary>
    public void GiveBackHolds()
    {
        var giveBack = _giveBack;
        _giveBack = null;
        giveBack?.Invoke();
    }

    /// <summary>Runs the endpoint's own request validation (deferred: it is a step in the chain, not the first).</summary>
    internal async ValueTask<ApiError?> ValidateAsync()
    {
        if (Idempotency?.Error is { } badKey)
        {
            return badKey; // a header or parameter of the request, checked before its body
        }

        var result = await validate();
        Content = result.Value;
        return result.Error;
    }
}

/// <summary>A value, or the error that prevented it.</summary>
public readonly record struct ApiErrorOr<T>(T? Value, ApiError? Error)
{
    public static implicit operator ApiErrorOr<T>(ApiError error) => new(default, error);

    public static implicit operator ApiErrorOr<T>(T value) => new(value, null);
}
