using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.Meta;

/// <summary>
/// Where Graph API calls go, ending in the version: <c>https://graph.facebook.com/v23.0/</c> in live
/// mode, the in-process emulator (<c>…/sandbox/graph/v23.0/</c>) in sandbox mode.
/// </summary>
public interface IMetaGraphAddress
{
    Uri BaseAddress { get; }
}

/// <summary>Live mode: <c>TwaBot:Meta:GraphBaseUrl</c> + <c>TwaBot:Meta:GraphVersion</c>.</summary>
public sealed class LiveMetaGraphAddress(IOptions<TwaBotOptions> options) : IMetaGraphAddress
{
    public Uri BaseAddress { get; } =
        new($"{options.Value.Meta.GraphBaseUrl.TrimEnd('/')}/{options.Value.Meta.GraphVersion}/", UriKind.Absolute);
}
