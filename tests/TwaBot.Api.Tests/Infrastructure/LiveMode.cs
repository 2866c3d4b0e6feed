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

    /// <summary>
    /// A started live-mode server whose Graph API is <paramref name="meta"/>, with <paramref name="settings"/> over the
    /// live ones (on <paramref name="databasePath"/>'s file, to start it again after a stop). It runs on Kestrel: the Meta
    /// client then calls the fake over a real socket.
    /// </summary>
    public static TwaBotApiFactory Against(
        Meta.FakeMetaUpstream meta, IReadOnlyDictionary<string, string?>? settings = null, string? databasePath = null)
    {
        var all = Settings();
        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            all[name] = value;
        }

        all["TwaBot:Meta:GraphBaseUrl"] = meta.GraphBaseUrl.ToString();
        var live = new TwaBotApiFactory(all, environment: "Production", databasePath);
        live.UseKestrel(0);
        live.StartServer();
        return live;
    }
}
