namespace TwaBot.Api.Meta;

/// <summary>A business's WhatsApp account on Meta, as the client needs it for one call.</summary>
public sealed record MetaConnection(string PhoneNumberId, string WabaId, string AccessToken)
{
    public static MetaConnection From(Businesses.WhatsAppConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return new(connection.PhoneNumberId, connection.WabaId, connection.AccessToken);
    }

    // The token must never reach a log line through ToString().
    public override string ToString() => $"MetaConnection {{ PhoneNumberId = {PhoneNumberId}, WabaId = {WabaId} }}";
}
