using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace TwaBot.Bench;

/// <summary>A message the server really sent, whose statuses the bench then reports.</summary>
public sealed record SentMessage(string Wamid, string Phone)
{
    /// <summary>
    /// The recipient's business-scoped user id (BSUID), which Meta's status reports carry since April 2026: stable per
    /// account and number, shaped like the emulator's (the bench's numbers are Indian: <c>IN.</c> and 20 digits).
    /// </summary>
    public string UserIdIn(string wabaId) =>
        "IN." + BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(wabaId + ":" + Phone)), 0).ToString("D20", CultureInfo.InvariantCulture);
}

/// <summary>
/// Meta's status webhooks for messages the server sent, signed as Meta signs them
/// (<c>X-Hub-Signature-256: sha256=</c> HMAC-SHA256 of the raw body with the app secret). Each body is
/// new (its own sequence number in the timestamp), so the receiver never sees a duplicate.
/// </summary>
public sealed class StatusWebhooks(SandboxNumber number, IReadOnlyList<SentMessage> messages, string appSecret)
{
    private static readonly string[] Statuses = ["sent", "delivered", "read"];
    private readonly byte[] _secret = Encoding.UTF8.GetBytes(appSecret);
    // Worked out once, not per body: the load generator shares the server's cores.
    private readonly string[] _userIds = [.. messages.Select(m => m.UserIdIn(number.WabaId))];
    private readonly long _firstTimestamp = DateTimeOffset.UtcNow.AddDays(-1).ToUnixTimeSeconds();
    private long _sequence;

    /// <summary>The next status report, posted to <paramref name="address"/>.</summary>
    public HttpRequestMessage Create(Uri address)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        var index = (int)(sequence % messages.Count);
        var body = Body(messages[index], _userIds[index], Statuses[sequence % Statuses.Length], _firstTimestamp + sequence);
        var request = new HttpRequestMessage(HttpMethod.Post, address) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, body)));
        return request;
    }

    private byte[] Body(SentMessage message, string userId, string status, long timestamp)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("object", "whatsapp_business_account");
            json.WriteStartArray("entry");
            json.WriteStartObject();
            json.WriteString("id", number.WabaId);
            json.WriteStartArray("changes");
            json.WriteStartObject();
            json.WriteStartObject("value");
            json.WriteString("messaging_product", "whatsapp");
            json.WriteStartObject("metadata");
            json.WriteString("display_phone_number", number.DisplayPhoneNumber);
            json.WriteString("phone_number_id", number.PhoneNumberId);
            json.WriteEndObject();
            json.WriteStartArray("statuses");
            json.WriteStartObject();
            json.WriteString("id", message.Wamid);
            json.WriteString("status", status);
            json.WriteString("timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
            json.WriteString("recipient_id", message.Phone);
            // The server pairs it with the number (user_id_links) on every report, as it must with Meta's.
            json.WriteString("recipient_user_id", userId);
            // Meta adds pricing to sent/delivered/read reports; it keeps the body the size of a real one.
            json.WriteStartObject("pricing");
            json.WriteBoolean("billable", true);
            json.WriteString("pricing_model", "PMP");
            json.WriteString("type", "regular");
            json.WriteString("category", "utility");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString("field", "messages");
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
