using TwaBot.Api.Errors;

namespace TwaBot.Api.Tests.Errors;

public class MetaRefusalTextTests
{
    [Theory]
    [InlineData("Parameter value is not valid", "WhatsApp (Meta) refused the message (code 131008): Parameter value is not valid")]
    [InlineData(null, "WhatsApp (Meta) refused the message (code 131008).")]
    [InlineData("", "WhatsApp (Meta) refused the message (code 131008).")]
    [InlineData("   ", "WhatsApp (Meta) refused the message (code 131008).")] // blanks are no details
    public void MetasCodeIsFollowedByItsDetailsWhenItGaveAny(string? details, string error)
    {
        Assert.Equal(error, ApiErrors.MetaRejected(131008, details).Body.Error);
    }
}
