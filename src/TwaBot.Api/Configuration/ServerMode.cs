namespace TwaBot.Api.Configuration;

/// <summary>
/// Whether this process talks to Meta (live) or to the in-process emulator (sandbox).
/// Decided once at start; keys, /health and the Meta client follow it.
/// </summary>
public sealed record ServerMode(bool IsSandbox)
{
    public const string SandboxName = "sandbox";
    public const string LiveName = "live";

    public string Name => IsSandbox ? SandboxName : LiveName;

    /// <summary>Prefix of the API keys this mode issues and accepts.</summary>
    public string ApiKeyPrefix => IsSandbox ? "twb_test_" : "twb_live_";

    public static ServerMode Resolve(SandboxOptions sandbox, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        ArgumentNullException.ThrowIfNull(environment);
        return new ServerMode(sandbox.Enabled ?? environment.IsDevelopment());
    }
}
