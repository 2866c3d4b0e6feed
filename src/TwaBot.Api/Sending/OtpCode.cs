using System.Security.Cryptography;

namespace TwaBot.Api.Sending;

/// <summary>One-time passwords: a caller's own code (4–15 digits, Meta's limit is 15) or 6 random digits.</summary>
public static class OtpCode
{
    public const int GeneratedLength = 6;

    public static string Generate() => RandomNumberGenerator.GetString("0123456789", GeneratedLength);

    public static bool IsValid(string code) => code.Length is >= 4 and <= 15 && code.All(char.IsAsciiDigit);
}
