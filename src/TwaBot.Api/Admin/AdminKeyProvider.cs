using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.Admin;

/// <summary>
/// The admin key: <c>TwaBot:AdminKey</c>, or in sandbox mode, when none is configured, a random one
/// made at start (printed once to the console by <see cref="Sandbox.SandboxConsole"/>, never logged).
/// </summary>
public sealed class AdminKeyProvider
{
    private readonly byte[] _keyHash;

    public AdminKeyProvider(IOptions<TwaBotOptions> options, ServerMode mode)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(mode);
        var configured = options.Value.AdminKey;
        if (string.IsNullOrWhiteSpace(configured))
        {
            // Live mode without an admin key is refused by configuration validation before we get here.
            GeneratedKey = "twb_admin_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
        }

        _keyHash = SHA256.HashData(Encoding.UTF8.GetBytes(GeneratedKey ?? configured!));
    }

    /// <summary>The key made at start when none was configured; null otherwise.</summary>
    public string? GeneratedKey { get; }

    /// <summary>Constant-time check: hashing first makes both sides the same length.</summary>
    public bool Matches(string presented) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _keyHash);
}
