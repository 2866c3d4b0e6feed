namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>Settings of a server in live mode: Production, Meta credentials, the sandbox off.</summary>
public static class LiveMode
{
    public static Dictionary<string, string?> Settings() => new()
    {
        ["TwaBot:Sandbox:Enabled"] = "false",
        ["TwaBot:Meta:AppSecret"] = "live-app-secret-0123",
        ["TwaBot:Meta:VerifyToken"] = "live-verify-token",
    };

    public static TwaBotApiFactory Factory() => new(Settings(), environment: "Production");
}
