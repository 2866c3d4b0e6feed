namespace TwaBot.Api.Meta;

/// <summary>A business's WhatsApp account on Meta, as the client needs it for one call.</summary>
public sealed record MetaConnection(string PhoneNumberId, string WabaId, string AccessToken)
{
    /// <summary>
    /// The token as the database holds it (encrypted), which names the stored connection this one was read from;
    /// null for one not read from the database.
    /// </summary>
    public string? StoredAccessToken { get; init; }

    /// <summary>The stored connection with its token decrypted, or null when the token cannot be (logged).</summary>
    public static MetaConnection? Open(Businesses.WhatsAppConnection connection, Businesses.AccessTokenProtector tokens)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(tokens);
        return tokens.Unprotect(connection) is { } token
            ? new(connection.PhoneNumberId, connection.WabaId, token) { StoredAccessToken = connection.ProtectedAccessToken }
            : null;
    }

    // The token must never reach a log line through ToString().
    public override string ToString() => $"MetaConnection {{ PhoneNumberId = {PhoneNumberId}, WabaId = {WabaId} }}";
}
