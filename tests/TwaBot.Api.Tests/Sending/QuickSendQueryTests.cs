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
    [InlineData("message=5%Discount", "5%Discount")]   // '%' and one hex digit are no escape either
    [InlineData("message=Save+10%OFF", "Save 10%OFF")] // nor '%' before a letter and a hex digit
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
    // An '&' left unencoded cuts the value short: was sent as "Rock " and "Q", the rest ignored as unknown parameters.
    [InlineData("phone=1&message=Rock+&+Roll", "message", "write & inside a value as %26")]
    [InlineData("phone=1&message=Q&A+at+5", "message", "write & inside a value as %26")]
    [InlineData("message=Tom%20&%20Jerry=friends", "message", "write & inside a value as %26")]
    [InlineData("template=t&params=Rahul,M&S,x&phone=1", "params", "write & inside a value as %26")]
    [InlineData("template=t&button_params=a&b", "button_params", "write & inside a value as %26")]
    [InlineData("phone=1&message=Q&R%E9sum%E9=oui", "message", "write & inside a value as %26")] // the rest, in Latin-1, cannot even be a name
    // Copied from an HTML page or email: "&amp;phone=" was ignored and the answer said phone was missing.
    [InlineData("apikey=k&amp;phone=919876543210&amp;message=hi", "phone", "write & in the URL")]
    [InlineData("phone=1&amp;Template=t", "template", "write & in the URL")]
    // ';' as the separator: the next parameter was read as part of the value, and the answer said it was missing.
    [InlineData("phone=919876543210;message=Hello", "message", "message follows ';' inside phone's value: separate parameters with &")]
    [InlineData("template=order_confirmation;Lang=hi&phone=1", "lang", "separate parameters with &, not ';'")]
    // Encoded twice: was sent as "Your%20order%20has%20shipped".
    [InlineData("phone=1&message=Your%2520order%2520has%2520shipped", "message", "(%20 where a space was meant, sent from %2520): encode the value once")]
    [InlineData("template=t&params=Rahul%2520Kumar,b,c", "params", "encode the value once")]
    // A comma or ₹ encoded twice (a URL copied from the address bar into a tool that encodes it again): was sent as "ORD%2C12" and "%E2%82%B91499".
    [InlineData("template=t&params=Rahul,ORD%252C12,x", "params", "%2C where a comma was meant")]
    [InlineData("template=t&params=Rahul,ORD-1,%25E2%2582%25B91499", "params", "%E2… where a character beyond ASCII was meant, sent from %25E2…")]
    [InlineData("template=t&params=Rahul,ORD%252c12,x", "params", "%2C where a comma was meant")] // an encoder's lowercase escape
    [InlineData("phone=1&message=caf%25C3%25A9", "message", "%C3… where a character beyond ASCII was meant")] // é, whose first byte is C3
    [InlineData("phone=1&message=Namaste%25e0%25a4%25a8", "message", "encode the value once")]
    // One of ours under another name: was ignored, and the answer said "params gave 0" or that template was missing.
    [InlineData("phone=1&template=t&params[]=a&params[]=b", "params", "quick-send reads params=, not params[]=: give all values in one params=")]
    [InlineData("phone=1&template=t&params%5B0%5D=a", "params", "quick-send reads params=, not params[]=")]
    [InlineData("phone=1&template=t&Body_Params=a,b", "params", "quick-send reads params=, not body_params=")]
    [InlineData("phone=1&template_name=t&params=a", "template", "quick-send reads template=, not template_name=: write template= once.")]
    [InlineData("phone=1&template=t&language=hi", "lang", "quick-send reads lang=, not language=: write lang= once.")]
    [InlineData("phone[]=1&template=t", "phone", "quick-send reads phone=, not phone[]=")]
    [InlineData("phone=1&template=t&Params[]=a", "params", "quick-send reads params=, not params[]=")] // names are case-insensitive, in array style too
    [InlineData("phone=1&template=t&button_params[]=a", "button_params", "give all values in one button_params=, separated by commas.")]
    // Two problems: the first in the URL is answered.
    [InlineData("phone=1&template_name=t&body_params=a", "template", "quick-send reads template=, not template_name=")]
    [InlineData("phone=1&phone=2&message=caf%E9", "phone", "phone is given more than once")]
    // The header's name in the URL: ignored, a retry would have sent the message twice.
    [InlineData("phone=1&message=hi&Idempotency-Key=order-1", "idempotency_key", "quick-send reads idempotency_key=, not Idempotency-Key=: write idempotency_key= once.")]
    [InlineData("phone=1&message=hi&idempotencyKey=order-1", "idempotency_key", "quick-send reads idempotency_key=, not idempotencyKey=")]
    public void RefusesValuesThatCannotBeReadAsWrittenAndSaysHowToWriteThem(string query, string field, string advice)
    {
        var problem = QuickSendQuery.Parse(query).Problem;

        Assert.NotNull(problem);
        Assert.Equal(field, problem.Body.Field);
        Assert.Equal("VALIDATION_FAILED", problem.Body.ErrorCode);
        Assert.Contains(advice, problem.Body.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("message=Rock+%26+Roll&phone=1", "Rock & Roll")]
    [InlineData("message=hi&utm_source=zapier&phone=1", "hi")]           // a tool's own parameter after the text
    [InlineData("message=hi&&phone=1&", "hi")]                           // empty pairs and a trailing '&'
    [InlineData("phone=1&message", "")]                                  // a name without '=' before any text
    [InlineData("message=https://x.example/a%2520b&phone=1", "https://x.example/a%20b")] // a link keeps its escape
    [InlineData("message=Use+code+SAVE%2520&phone=1", "Use code SAVE%20")] // a text with real spaces is read as written
    [InlineData("message=https://x.example/?q=a%252Cb%25E2%2582%25B9&phone=1", "https://x.example/?q=a%2Cb%E2%82%B9")] // a link keeps its escapes
    [InlineData("message=Rate:+5%252C+10%25E2%2582%25B9&phone=1", "Rate: 5%2C 10%E2%82%B9")] // beside a real space, read as written
    [InlineData("message=100%25C&phone=1", "100%C")]                  // a '%' and a letter are no escape of a character
    [InlineData("message=Note%3B+phone+later&phone=1", "Note; phone later")] // a ';' in a text, with no parameter after it
    [InlineData("message=Your+details%3B+phone%3D919876543210&phone=1", "Your details; phone=919876543210")] // encoded: the text's own ';'
    [InlineData("message=hi&phone=1&language=de", "hi")]                       // a form's own field, which no send takes as its language
    [InlineData("message=hi&phone=1&template=&language=de", "hi")]             // the same form's template field left blank: still a text
    [InlineData("message=hi&phone=1&template=+&language=de", "hi")]            // blank as a space is blank too
    [InlineData("message=hi&utm_source=zapier&debug&phone=1", "hi")]      // a tool's flag after its own parameter, not after the text
    [InlineData("message=hi&phone=1&debug", "hi")]                        // nor after the phone: only a text can be cut short
    [InlineData("message=Hi;+bye;+see+you&phone=1", "Hi; bye; see you")]   // ';'s in a text with no parameter after them
    public void ReadsTextsWhoseAmpersandsAndEscapesAreWrittenRight(string query, string message)
    {
        var read = QuickSendQuery.Parse(query);

        Assert.Null(read.Problem);
        Assert.Equal(message, read.Message);
    }

    [Fact]
    public void SendTemplatesNameBesideOursIsLeftAlone()
    {
        // A form that moved from send-template may keep its old field beside ours: ours is read, nothing is refused.
        var read = QuickSendQuery.Parse("phone=1&template=t&params=a,b&template_name=t");

        Assert.Null(read.Problem);
        Assert.Equal("a,b", read.Params);
    }

    [Fact]
    public void ButtonParamsKeepTheirEscapes()
    {
        // A URL button's suffix may carry an escape of its own ("ORD%20123"), so it is not read as encoded twice.
        var read = QuickSendQuery.Parse("phone=1&template=t&button_params=ORD%2520123");

        Assert.Null(read.Problem);
        Assert.Equal("ORD%20123", read.ButtonParams);
    }

    [Fact]
    public void OtherParametersAreLeftToOthers()
    {
        var read = QuickSendQuery.Parse("apikey=k&apikey=k&utm_source=%E9&phone=1");

        Assert.Null(read.Problem);
        Assert.Equal("1", read.Phone);
    }
}
