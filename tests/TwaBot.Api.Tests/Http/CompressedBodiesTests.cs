using Microsoft.AspNetCore.Http;
using TwaBot.Api.Http;

namespace TwaBot.Api.Tests.Http;

/// <summary>Which Content-Encoding headers declare a compressed body (HttpClient will not send some of these, so as a table).</summary>
public class CompressedBodiesTests
{
    [Theory]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "" }, false)]            // a blank header (an empty Postman variable) is no header
    [InlineData(new[] { "  " }, false)]
    [InlineData(new[] { "identity" }, false)]
    [InlineData(new[] { "Identity, identity" }, false)]
    [InlineData(new[] { "gzip" }, true)]
    [InlineData(new[] { "identity", "br" }, true)]
    [InlineData(new[] { "identity, deflate" }, true)]
    public void ABodyIsRefusedOnlyWhenAnEncodingOtherThanIdentityIsNamed(string[] headers, bool refused)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers.ContentEncoding = headers;

        Assert.Equal(refused, CompressedBodies.Refusal(context.Request) is not null);
    }
}
