using TwaBot.Api.Sending;

namespace TwaBot.Api.Tests.Sending;

public class QuickSendParamsTests
{
    [Theory]
    [InlineData("Rahul,ORD-12345,₹1499", new[] { "Rahul", "ORD-12345", "₹1499" })]
    [InlineData("Rahul", new[] { "Rahul" })]
    [InlineData(@"₹1\,499,Rahul", new[] { "₹1,499", "Rahul" })]
    [InlineData(@"a\\,b", new[] { @"a\", "b" })]
    [InlineData(@"a\b", new[] { @"a\b" })]
    [InlineData(" spaced , values ", new[] { "spaced", "values" })]
    [InlineData("a,,b", new[] { "a", "", "b" })]
    [InlineData(@"trailing\", new[] { @"trailing\" })]
    public void SplitsOnCommasKeepingEscapedOnes(string value, string[] expected)
    {
        Assert.Equal(expected, QuickSendParams.Split(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void NoParamsIsAnEmptyList(string? value)
    {
        Assert.Empty(QuickSendParams.Split(value));
    }

    [Fact]
    public void AnyValuesEscapedAsTheDocsSayComeBackExactly()
    {
        // Property test (fixed seed): a form builder that writes each value with \\ for \ and \, for a comma always gets its values back.
        var random = new Random(20261203);
        const string Alphabet = @"ab,\ ₹1-";
        for (var run = 0; run < 2000; run++)
        {
            var values = Enumerable.Range(0, random.Next(1, 5)).Select(_ =>
                new string([.. Enumerable.Range(0, random.Next(1, 8)).Select(_ => Alphabet[random.Next(Alphabet.Length)])]).Trim()).ToArray();
            if (values is [""])
            {
                continue; // an empty params is no values at all
            }

            var written = string.Join(',', values.Select(v => v.Replace(@"\", @"\\", StringComparison.Ordinal).Replace(",", @"\,", StringComparison.Ordinal)));

            Assert.True(values.SequenceEqual(QuickSendParams.Split(written)), $"{written} did not give back [{string.Join(" | ", values)}]");
        }
    }
}

public class OtpCodeTests
{
    [Fact]
    public void GeneratedCodesAreSixRandomDigits()
    {
        var codes = Enumerable.Range(0, 500).Select(_ => OtpCode.Generate()).ToList();

        Assert.All(codes, code => Assert.Matches("^[0-9]{6}$", code));
        Assert.True(codes.Distinct().Count() > 450);
        Assert.Equal(10, codes.SelectMany(c => c).Distinct().Count());
    }

    [Theory]
    [InlineData("1234", true)]
    [InlineData("482913", true)]
    [InlineData("123456789012345", true)]
    [InlineData("123", false)]
    [InlineData("1234567890123456", false)]
    [InlineData("12a4", false)]
    [InlineData("12 34", false)]
    [InlineData("\u0664\u0668\u0662\u0669", false)] // Arabic-Indic digits: digits to .NET, not to the copy-code button
    [InlineData("", false)]
    public void CustomCodesAreFourToFifteenDigits(string code, bool valid)
    {
        Assert.Equal(valid, OtpCode.IsValid(code));
    }
}
