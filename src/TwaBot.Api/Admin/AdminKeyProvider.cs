using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.Admin;

/// <summary>Which configured admin key a request presented.</summary>
public enum AdminKeyMatch
{
    None,
    Current,

    /// <summary><c>TwaBot:PreviousAdminKey</c>: accepted while a rotation is under way.</summary>
    Previous,
}

/// <summary>
/// The admin key: <c>TwaBot:AdminKey</c>, or in sandbox mode, when none is configured, a random one
/// made at start (printed once to the console by <see cref="Sandbox.SandboxConsole"/>, never logged);
/// and during a rotation the key it replaces, <c>TwaBot:PreviousAdminKey</c>.
/// </summary>
public sealed class AdminKeyProvider
{
    private readonly byte[] _keyHash;
    private readonly byte[]? _previousKeyHash;
    private readonly TimeProvider _time;
    private long _previousWarnedMinute = -1;

    public AdminKeyProvider(IOptions<TwaBotOptions> options, ServerMode mode, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(mode);
        _time = time;
        var configured = options.Value.AdminKey;
        if (string.IsNullOrWhiteSpace(configured))
        {
            // Live mode without an admin key is refused by configuration validation before we get here.
            GeneratedKey = "twb_admin_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
        }

        _keyHash = Hash(GeneratedKey ?? configured!);
        // Validation refuses a previous key without a configured one, so it never stands beside a generated key.
        _previousKeyHash = string.IsNullOrEmpty(options.Value.PreviousAdminKey) ? null : Hash(options.Value.PreviousAdminKey);
    }

    /// <summary>The key made at start when none was configured; null otherwise.</summary>
    public string? GeneratedKey { get; }

    /// <summary>Constant-time checks: hashing first makes both sides the same length.</summary>
    public AdminKeyMatch Match(string presented)
    {
        var hash = Hash(presented);
        return CryptographicOperations.FixedTimeEquals(hash, _keyHash) ? AdminKeyMatch.Current
            : _previousKeyHash is not null && CryptographicOperations.FixedTimeEquals(hash, _previousKeyHash) ? AdminKeyMatch.Previous
            : AdminKeyMatch.None;
    }

    /// <summary>
    /// True for the first call with the previous key in each minute: a script still using it shows up in the log
    /// without a warning per call from one that loops.
    /// </summary>
    public bool FirstPreviousKeyUseThisMinute()
    {
        var (minute, _) = MinuteWindow.Now(_time);
        return Interlocked.Exchange(ref _previousWarnedMinute, minute) != minute;
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}
