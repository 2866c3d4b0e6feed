using System.Security.Cryptography;

namespace TwaBot.Api.Sandbox;

/// <summary>The emulator's stand-in for a Meta access token: random, throwaway, and well-formed (MetaAccessToken).</summary>
internal static class SandboxToken
{
    public static string New() => "sandbox_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
}
