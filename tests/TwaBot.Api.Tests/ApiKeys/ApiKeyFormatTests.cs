using System.Security.Cryptography;
using System.Text;
using TwaBot.Api.ApiKeys;

namespace TwaBot.Api.Tests.ApiKeys;

public class ApiKeyFormatTests
{
    [Theory]
    [InlineData(ApiKeyFormat.LivePrefix)]
    [InlineData(ApiKeyFormat.TestPrefix)]
    public void GeneratedKeysAreWellFormedWithTheirPrefix(string prefix)
    {
        var key = ApiKeyFormat.Generate(prefix);

        Assert.StartsWith(prefix, key, StringComparison.Ordinal);
        Assert.Equal(ApiKeyFormat.KeyLength, key.Length);
        Assert.True(ApiKeyFormat.IsWellFormed(key, out var parsedPrefix));
        Assert.Equal(prefix, parsedPrefix);
    }

    [Fact]
    public void KeysCarryAtLeast128RandomBits()
    {
        // 43 base62 characters = 43 × log2(62) ≈ 256 bits; check the alphabet is really used.
        var keys = Enumerable.Range(0, 200).Select(_ => ApiKeyFormat.Generate(ApiKeyFormat.LivePrefix)).ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        var secretCharacters = keys.SelectMany(k => k[ApiKeyFormat.LivePrefix.Length..^6]).Distinct().Count();
        Assert.Equal(62, secretCharacters);
        Assert.True((ApiKeyFormat.KeyLength - 9 - 6) * Math.Log2(62) >= 128);
    }

    [Theory]
    [InlineData("")]
    [InlineData("twb_your_api_key_here")]
    [InlineData("twb_prod_0123456789012345678901234567890123456789012345678")]
    [InlineData("sk_live_0123456789")]
    [InlineData("twb_prod_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z4byzB5")] // right length and checksum, unknown prefix
    [InlineData("twb_live_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E23f4UuB")] // right prefix and checksum, one character short
    [InlineData("TWB_LIVE_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z4U0VVE")] // the prefix in capitals, its checksum right
    [InlineData("twb_live_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Zx3udQiW")] // right prefix and checksum, one character long
    [InlineData("twb_live_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z2wu6a8")] // an issued key with its checksum in other case
    public void RejectsKeysOfAnotherShape(string key)
    {
        Assert.False(ApiKeyFormat.IsWellFormed(key, out _));
    }

    [Theory]
    // Issued by earlier versions and held by customers' CRMs, and the OpenAPI example: the checksum is part of
    // the format secret scanners match, so it never changes under them.
    [InlineData("twb_live_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z2WU6A8", ApiKeyFormat.LivePrefix)]
    [InlineData("twb_test_Ky9Pf34qY6Nb3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z2W59Qz", ApiKeyFormat.TestPrefix)]
    [InlineData("twb_live_3FhQ2xk9LmZr8VbN1sTq7YcWd5HpJ0uGe4KaB6oXiRn0xQXoA", ApiKeyFormat.LivePrefix)]
    public void AKeyIssuedEarlierIsStillWellFormed(string key, string prefix)
    {
        Assert.True(ApiKeyFormat.IsWellFormed(key, out var parsedPrefix));
        Assert.Equal(prefix, parsedPrefix);
    }

    [Theory]
    [InlineData("twb_live_Ky9Pf34qY6-b3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z4SKfte")]
    [InlineData("twb_live_Ky9Pf34qY6\u00e9b3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z33uLdq")] // é, a letter but no ASCII one
    [InlineData("twb_live_Ky9Pf34qY6\u0663b3wWD25RQ4F5ZR3qa7yEeeby3abP3E2Z33uLdq")] // an Arabic-Indic three, a digit but no ASCII one
    public void ACharacterOutsideBase62IsRefusedEvenWithAMatchingChecksum(string key)
    {
        // The checksum is right for each text (a character that is not ASCII counts as '?' in it), but the
        // character after "qY6" is no character of a key.
        Assert.False(ApiKeyFormat.IsWellFormed(key, out _));
    }

    [Fact]
    public void TheChecksumCatchesASingleChangedCharacter()
    {
        var key = ApiKeyFormat.Generate(ApiKeyFormat.TestPrefix);
        var position = ApiKeyFormat.TestPrefix.Length + 10;
        var changed = key[..position] + (key[position] == 'a' ? 'b' : 'a') + key[(position + 1)..];

        Assert.False(ApiKeyFormat.IsWellFormed(changed, out _));
    }

    [Fact]
    public void TheStoredHashIsSha256OfTheWholeKey()
    {
        var key = ApiKeyFormat.Generate(ApiKeyFormat.LivePrefix);

        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(key)), ApiKeyFormat.Hash(key));
        Assert.Equal(key[..15], ApiKeyFormat.DisplayPrefix(key));
    }
}
