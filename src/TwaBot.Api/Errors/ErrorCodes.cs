namespace TwaBot.Api.Errors;

/// <summary>
/// Every machine-readable <c>error_code</c> the server answers with (PRODUCT.md §2, §5).
/// Clients branch on these, so a published value never changes meaning.
/// </summary>
public static class ErrorCodes
{
    // Authentication
    public const string MissingApiKey = "MISSING_API_KEY";
    public const string InvalidApiKey = "INVALID_API_KEY";
    public const string ApiKeyRevoked = "API_KEY_REVOKED";
    public const string ApiKeyExpired = "API_KEY_EXPIRED";
    public const string AdminUnauthorized = "ADMIN_UNAUTHORIZED";

    // Limits, plans and permissions
    public const string RateLimited = "RATE_LIMITED";
    public const string PlanNotAllowed = "PLAN_NOT_ALLOWED";
    public const string PermissionDenied = "PERMISSION_DENIED";
    public const string DailyLimitReached = "DAILY_LIMIT_REACHED";
    public const string OtpRecipientLimitReached = "OTP_RECIPIENT_LIMIT_REACHED";

    // Request shape
    public const string ValidationFailed = "VALIDATION_FAILED";
    public const string InvalidPhone = "INVALID_PHONE";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string NotFound = "NOT_FOUND";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string PrefetchRefused = "PREFETCH_REFUSED";
    public const string Conflict = "CONFLICT";
    public const string IdempotencyKeyInUse = "IDEMPOTENCY_KEY_IN_USE";
    public const string IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";

    // Sending
    public const string WhatsAppNotConnected = "WHATSAPP_NOT_CONNECTED";
    public const string TemplateNotFound = "TEMPLATE_NOT_FOUND";
    public const string TemplateParamsInvalid = "TEMPLATE_PARAMS_INVALID";
    public const string Suppressed = "SUPPRESSED";
    public const string WindowClosed = "WINDOW_CLOSED";
    public const string MessageNotFound = "MESSAGE_NOT_FOUND";
    public const string RecipientUndeliverable = "RECIPIENT_UNDELIVERABLE";
    public const string UpstreamRateLimited = "UPSTREAM_RATE_LIMITED";
    public const string PairRateLimited = "PAIR_RATE_LIMITED";
    public const string MetaUnavailable = "META_UNAVAILABLE";
    public const string MetaRejected = "META_REJECTED";

    // Admin resources
    public const string BusinessNotFound = "BUSINESS_NOT_FOUND";
    public const string ApiKeyNotFound = "API_KEY_NOT_FOUND";
    public const string SuppressionNotFound = "SUPPRESSION_NOT_FOUND";

    // Webhooks
    public const string InvalidSignature = "INVALID_SIGNATURE";
    public const string WebhookVerificationFailed = "WEBHOOK_VERIFICATION_FAILED";

    public const string InternalError = "INTERNAL_ERROR";
    public const string StorageUnavailable = "STORAGE_UNAVAILABLE";
}
