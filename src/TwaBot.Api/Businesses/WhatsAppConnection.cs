namespace TwaBot.Api.Businesses;

/// <summary>
/// The business's WhatsApp Business Account on Meta: where sends go (<see cref="PhoneNumberId"/>),
/// where templates live (<see cref="WabaId"/>) and the token that authorises both.
/// </summary>
public sealed class WhatsAppConnection
{
    public long BusinessId { get; set; }

    /// <summary>Meta's id of the sending number; webhooks are routed to the business by it.</summary>
    public required string PhoneNumberId { get; set; }

    public required string WabaId { get; set; }

    /// <summary>
    /// The business's Meta access token, encrypted (<see cref="AccessTokenProtector"/>). Never returned by any
    /// API, never logged.
    /// </summary>
    public required string ProtectedAccessToken { get; set; }

    public string? DisplayPhoneNumber { get; set; }

    /// <summary>The number an emulated connection shows when none is given: +1 555, the range of Meta's own test numbers.</summary>
    public const string SandboxDisplayPhoneNumber = "15550000000";

    /// <summary>Connected to the in-process emulator rather than to Meta.</summary>
    public bool IsSandbox { get; set; }

    public DateTime ConnectedAt { get; set; }

    /// <summary>
    /// When Meta refused this connection's token, until a call with it succeeds (<see cref="Meta.MetaTokenRefusals"/>,
    /// which keeps it in memory and writes it here only when a refusal starts or ends, so a restart remembers it).
    /// </summary>
    public DateTime? TokenRefusedAt { get; set; }
}
