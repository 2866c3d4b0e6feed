using System.Text;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Webhooks;

public class WebhookSignatureTests
{
    private const string Secret = "app-secret";

    [Fact]
    public void SignsWithLowercaseHexHmacSha256()
    {
        // HMAC-SHA256(key "app-secret", body "{}") computed independently with Python's hmac module.
        Assert.Equal(
            "sha256=bd9549eb87a414d3df28b5a60ea86d4a11e2f1c6258edbd18f56d3c23c0f908d",
            WebhookSignature.Sign("{}"u8, Secret));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sha256=")]
    [InlineData("sha1=0000")]
    [InlineData("sha256=zz")]
    [InlineData("sha256=00000000000000000000000000000000000000000000000000000000000000zz")]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000")]
    public void RejectsMissingOrMalformedOrWrongSignatures(string? header)
    {
        Assert.False(WebhookSignature.IsValid("{}"u8, header, Secret));
    }

    [Theory]
    [InlineData("sha256=bd9549eb87a414d3df28b5a60ea86d4a11e2f1c6258edbd18f56d3c23c0f908d", true)]
    [InlineData("sha256=BD9549EB87A414D3DF28B5A60EA86D4A11E2F1C6258EDBD18F56D3C23C0F908D", true)]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000", true)] // any digest: the body is not read yet
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("sha256=", false)]
    [InlineData("sha256=000000000000000000000000000000000000000000000000000000000000000", false)]   // 63 digits
    [InlineData("sha256=00000000000000000000000000000000000000000000000000000000000000000", false)] // 65 digits
    [InlineData("sha256=00000000000000000000000000000000000000000000000000000000000000zz", false)]
    [InlineData("sha512=0000000000000000000000000000000000000000000000000000000000000000", false)]
    public void TellsAHeaderThatCanBeASignatureFromOneThatCannot(string? header, bool wellFormed)
    {
        // The receiver refuses a malformed header before reading the body it would sign.
        Assert.Equal(wellFormed, WebhookSignature.IsWellFormed(header));
    }

    [Fact]
    public void AcceptsTheSignatureOfTheExactBytesOnly()
    {
        var body = Encoding.UTF8.GetBytes("{\"text\":\"caf\\u00e9\"}");
        var header = WebhookSignature.Sign(body, Secret);

        Assert.True(WebhookSignature.IsValid(body, header, Secret));
        Assert.True(WebhookSignature.IsValid(body, header.ToUpperInvariant().Replace("SHA256=", "sha256=", StringComparison.Ordinal), Secret));
        Assert.False(WebhookSignature.IsValid(Encoding.UTF8.GetBytes("{\"text\":\"café\"}"), header, Secret));
        Assert.False(WebhookSignature.IsValid(body, header, "other-secret"));
    }

    [Fact]
    public void ChecksTheBodysBytesEvenWhereTheyAreNotText()
    {
        // A byte that is not UTF-8 reads back as U+FFFD: a check over the body's text instead of its bytes would refuse
        // a delivery signed over exactly what was sent.
        var body = Encoding.UTF8.GetBytes("{\"text\":\"x\"}");
        body[9] = 0xFF;
        var header = WebhookSignature.Sign(body, Secret);

        Assert.True(WebhookSignature.IsValid(body, header, Secret));
    }

    [Fact]
    public void RejectsTheRightDigestUnderAnotherAlgorithmsPrefix()
    {
        // "sha512=" is as long as "sha256=": only the prefix itself tells them apart.
        var digest = WebhookSignature.Sign("{}"u8, Secret)["sha256=".Length..];

        Assert.False(WebhookSignature.IsValid("{}"u8, "sha512=" + digest, Secret));
        Assert.False(WebhookSignature.IsValid("{}"u8, "SHA256=" + digest, Secret));
    }

    [Theory]
    [InlineData(" app-secret ")]
    [InlineData("app-secret\n")]
    public void TheKeyIsTheAppSecretsExactText(string secret)
    {
        // Signed and checked with the same text, padding included; the secret without it is another key.
        var header = WebhookSignature.Sign("{}"u8, secret);

        Assert.True(WebhookSignature.IsValid("{}"u8, header, secret));
        Assert.False(WebhookSignature.IsValid("{}"u8, header, secret.Trim()));
    }

    [Fact]
    public void RejectsASignatureWrongInItsLastByteOnly()
    {
        var header = WebhookSignature.Sign("{}"u8, Secret);
        var lastByteFlipped = header[..^2] + (header[^2..] == "00" ? "01" : "00");

        Assert.False(WebhookSignature.IsValid("{}"u8, lastByteFlipped, Secret));
    }
}
