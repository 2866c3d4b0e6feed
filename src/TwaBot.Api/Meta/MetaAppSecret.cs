using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.Meta;

/// <summary>
/// The app secret that signs webhooks: <c>TwaBot:Meta:AppSecret</c>, or in sandbox mode, when none is
/// set, a random one made at start (the emulator signs and the receiver verifies with the same one).
/// </summary>
public sealed class MetaAppSecret(IOptions<TwaBotOptions> options)
{
    public string Value { get; } = string.IsNullOrWhiteSpace(options.Value.Meta.AppSecret)
        ? RandomNumberGenerator.GetHexString(32, lowercase: true)
        : options.Value.Meta.AppSecret;
}
