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
    [InlineData("?apikey=x&phone", "", false)]                       // a name without '=' is an empty value, not its own name
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
    [InlineData("message=50%2", "50%2")]          // an escape cut short by the end of the value stays as written
    [InlineData("message=Thanks+😀", "Thanks 😀")] // a character beyond the BMP written unencoded, beside an encoded space
    public void DecodesUtf8FormValues(string query, string message)
    {
        var read = QuickSendQuery.Parse(query);

        Assert.Null(read.Problem);
        Assert.Equal(message, read.Message);
    }

    [Theory]
    [InlineData("phone=919876543210&message=caf%E9", "message", "encode the value as UTF-8")] // Latin-1, from an old urlencode()
    [InlineData("template=t&params=Jos%E9,b", "params", "encode the value as UTF-8")]
    [InlineData("message=%C0%AF", "message", "encode the value as UTF-8")]                     // an overlong encoding
    [InlineData("message=%ED%A0%80", "message", "encode the value as UTF-8")]                  // a lone surrogate
    [InlineData("message=hello&message=world", "message", "message is given more than once")] // repeated: was sent as "hello,world"
    [InlineData("phone=1&Phone=2", "phone", "phone is given more than once")]
    [InlineData("params=a&params=b", "params", "give all values in one params=, separated by commas")]
    public void RefusesValuesThatCannotBeReadAsWrittenAndSaysHowToWriteThem(string query, string field, string advice)
    {
        var problem = QuickSendQuery.Parse(query).Problem;

        Assert.NotNull(problem);
        Assert.Equal(field, problem.Body.Field);
        Assert.Equal("VALIDATION_FAILED", problem.Body.ErrorCode);
        Assert.Contains(advice, problem.Body.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherParametersAreLeftToOthers()
    {
        var read = QuickSendQuery.Parse("apikey=k&apikey=k&utm_source=%E9&phone=1");

        Assert.Null(read.Problem);
        Assert.Equal("1", read.Phone);
    }
}
