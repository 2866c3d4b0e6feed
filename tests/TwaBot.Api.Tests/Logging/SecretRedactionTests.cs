using TwaBot.Api.Logging;

namespace TwaBot.Api.Tests.Logging;

public class SecretRedactionTests
{
    [Theory]
    [InlineData("?apikey=twb_live_abcDEF123&phone=91", "?apikey=[redacted]&phone=91")]
    [InlineData("?phone=91&APIKEY=whatever", "?phone=91&APIKEY=[redacted]")]
    [InlineData("X-API-Key twb_test_Zy09abc", "X-API-Key twb_test_[redacted]")]
    [InlineData("admin twb_admin_0f0f0f", "admin twb_admin_[redacted]")]
    [InlineData("Authorization: Bearer EAAGm0PX4ZCpsBA.token-value", "Authorization: Bearer [redacted]")]
    [InlineData("token EAAGm0PX4ZCpsBAabcdefghijklmnopqrstu", "token [redacted]")]
    [InlineData("?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=1", "?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=1")]
    public void RedactsSecrets(string input, string expected)
    {
        Assert.Equal(expected, SecretRedaction.Redact(input));
    }

    [Theory]
    [InlineData("/api/v1/health")]
    [InlineData("HTTP GET /api/v1/templates responded 200")]
    [InlineData("919876543210")]
    public void LeavesOrdinaryTextAlone(string input)
    {
        Assert.Same(input, SecretRedaction.Redact(input));
    }

    [Theory]
    [InlineData("/nothing\n[20:00:00 INF] FORGED-LINE", @"/nothing\n[20:00:00 INF] FORGED-LINE")]
    [InlineData("a\r\nb\tc", @"a\r\nb\tc")]
    [InlineData("bell\u0007 and \u2028", @"bell\u0007 and \u2028")]
    public void ControlCharactersAreEscapedSoOneEventStaysOneLine(string input, string expected)
    {
        Assert.Equal(expected, ControlCharacterEscaping.Escape(input));
    }

    [Fact]
    public void TextWithoutControlCharactersIsLeftAlone()
    {
        const string path = "/api/v1/message-status/wamid.HBgM";
        Assert.Same(path, ControlCharacterEscaping.Escape(path));
    }
}
