using TwaBot.Api.Sending;

namespace TwaBot.Api.Tests.Sending;

/// <summary>quick-send's raw query, read as form builders write it.</summary>
public class QuickSendQueryTests
{
    [Theory]
    [InlineData("?phone=+6591234567", "+6591234567", true)]        // a literal '+' is read as the country-code mark
    [InlineData("?phone=%2B6591234567", "+6591234567", false)]
    [InlineData("?phone=+91+98765+43210", "+91 98765 43210", true)] // later '+'s are spaces, as in any form value
    [InlineData("?phone=9876543210", "9876543210", false)]
    [InlineData("?PHONE=9876543210", "9876543210", false)]           // names are case-insensitive, as in the framework's binding
    [InlineData("?apikey=x&phone=", "", false)]
    [InlineData("?apikey=x", null, false)]
    public void ReadsThePhoneAsWritten(string query, string? phone, bool literalPlus)
    {
        var read = QuickSendQuery.Parse(query);

        Assert.Null(read.Problem);
        Assert.Equal((phone, literalPlus), (read.Phone, read.PhoneHasLiteralPlus));
    }

    [Theory]
    [InlineData("message=Your+order+has+been+shipped", "Your order has been shipped")]
    [InlineData("message=caf%C3%A9", "café")]
    [InlineData("message=100%25+sure", "100% sure")]
    [InlineData("message=50%+off", "50% off")]     // a '%' that starts no escape stays, as the framework reads it
    [InlineData("message=%F0%9F%98%80", "😀")]
    [InlineData("message=a%2Bb", "a+b")]
    public void DecodesUtf8FormValues(string query, string message)
    {
        var read = QuickSendQuery.Parse(query);

        Assert.Null(read.Problem);
        Assert.Equal(message, read.Message);
    }

    [Theory]
    [InlineData("phone=919876543210&message=caf%E9", "message")]          // Latin-1, from an old urlencode()
    [InlineData("template=t&params=Jos%E9,b", "params")]
    [InlineData("message=%C0%AF", "message")]                            // an overlong encoding
    [InlineData("message=%ED%A0%80", "message")]                         // a lone surrogate
    [InlineData("message=hello&message=world", "message")]               // repeated: was sent as "hello,world"
    [InlineData("phone=1&Phone=2", "phone")]
    [InlineData("params=a&params=b", "params")]
    public void RefusesValuesThatCannotBeReadAsWritten(string query, string field)
    {
        var problem = QuickSendQuery.Parse(query).Problem;

        Assert.NotNull(problem);
        Assert.Equal(field, problem.Body.Field);
        Assert.Equal("VALIDATION_FAILED", problem.Body.ErrorCode);
    }

    [Fact]
    public void OtherParametersAreLeftToOthers()
    {
        var read = QuickSendQuery.Parse("apikey=k&apikey=k&utm_source=%E9&phone=1");

        Assert.Null(read.Problem);
        Assert.Equal("1", read.Phone);
    }
}
