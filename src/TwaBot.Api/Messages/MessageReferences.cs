using System.Security.Cryptography;

namespace TwaBot.Api.Messages;

/// <summary>
/// Our own id for a message (<c>twb:…</c>): the <c>biz_opaque_callback_data</c> every send carries, and the
/// <c>message_id</c> a caller gets for a send whose outcome is unknown (no wamid yet), which message-status takes too.
/// Random, not the row number: a row number told every business that met a 502 roughly how many messages the server
/// had sent for all of them, and a database restored from a backup, or a second server on the same number, gave the
/// same ids again to other messages. Rows written before these existed keep <c>twb:</c> + their row number
/// (migration MessageReference).
/// </summary>
public static class MessageReferences
{
    public const string Prefix = "twb:";

    private const int RandomLength = 19;

    // A letter first: an old row's reference is all digits after the prefix, a new one never.
    private const string Letters = "abcdefghijklmnopqrstuvwxyz";
    private const string LettersAndDigits = "0123456789" + Letters;

    /// <summary>A new reference: <c>twb:</c>, a letter and 19 letters or digits (about 103 random bits).</summary>
    public static string New() =>
        string.Concat(Prefix, RandomNumberGenerator.GetString(Letters, 1), RandomNumberGenerator.GetString(LettersAndDigits, RandomLength));

    /// <summary>Whether <paramref name="value"/> is written as our reference is (a wamid or another system's callback data is not).</summary>
    public static bool IsReference(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);
}
