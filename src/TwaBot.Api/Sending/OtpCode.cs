using System.Security.Cryptography;

namespace TwaBot.Api.Sending;

/// <summary>One-time passwords: a caller's own code (4–15 digits, Meta's limit is 15) or 6 random digits.</summary>
public static class OtpCode
{
    public const int GeneratedLength = 6;

    /// <summary>Meta's longest code for an authentication template (its copy-code button carries it).</summary>
    public const int MaxLength = 15;

    public static string Generate() => RandomNumberGenerator.GetString("0123456789", GeneratedLength);

    public static bool IsValid(string code) => code.Length is >= 4 and <= MaxLength && code.All(char.IsAsciiDigit);
}
