using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// The key format: <c>twb_live_</c> or <c>twb_test_</c>, 43 random base62 characters (≈256 bits),
/// then a 6-character base62 CRC-32 of everything before it. The checksum lets us reject typos and
/// random guesses without touching the database, and lets secret scanners recognise leaked keys.
/// </summary>
public static class ApiKeyFormat
{
    public const string LivePrefix = "twb_live_";
    public const string TestPrefix = "twb_test_";

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int SecretLength = 43;
    private const int ChecksumLength = 6;
    private const int DisplayedSecretCharacters = 6;

    /// <summary>Length of every well-formed key (both prefixes have 9 characters).</summary>
    public const int KeyLength = 9 + SecretLength + ChecksumLength;

    public static string Generate(string prefix)
    {
        var body = prefix + RandomNumberGenerator.GetString(Base62, SecretLength);
        return body + Checksum(body);
    }

    /// <summary>True when the key has a known prefix, the right length and alphabet, and a matching checksum.</summary>
    public static bool IsWellFormed(string key, out string prefix)
    {
        prefix = key.StartsWith(LivePrefix, StringComparison.Ordinal) ? LivePrefix
            : key.StartsWith(TestPrefix, StringComparison.Ordinal) ? TestPrefix
            : "";
        if (prefix.Length == 0 || key.Length != KeyLength)
        {
            return false;
        }

        foreach (var c in key.AsSpan(prefix.Length))
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }

        var body = key[..^ChecksumLength];
        return key.EndsWith(Checksum(body), StringComparison.Ordinal);
    }

    /// <summary>What is stored and looked up: SHA-256 of the whole key. 256 random bits need no slow hash.</summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The part of a key that may be shown again: prefix and the first secret characters.</summary>
    public static string DisplayPrefix(string key) => key[..(LivePrefix.Length + DisplayedSecretCharacters)];

    private static string Checksum(string body)
    {
        var crc = BinaryPrimitives.ReadUInt32BigEndian(Crc32.Hash(Encoding.ASCII.GetBytes(body)));
        Span<char> chars = stackalloc char[ChecksumLength];
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            chars[i] = Base62[(int)(crc % 62)];
            crc /= 62;
        }

        return new string(chars);
    }
}
