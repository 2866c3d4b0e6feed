using TwaBot.Api.Http;

namespace TwaBot.Api.Tests.Http;

public class LooseNamesTests
{
    [Theory]
    [InlineData("template_name")]
    [InlineData("templateName")]
    [InlineData("Template-Name")]
    [InlineData("TEMPLATE NAME")]
    [InlineData("template.name")]
    public void CaseAndSeparatorsAreIgnored(string written)
    {
        Assert.Equal("templatename", LooseNames.Of(written));
    }

    [Theory]
    [InlineData("template", "template", 0)]
    [InlineData("tenplate", "template", 1)] // a letter replaced
    [InlineData("templte", "template", 1)] // left out
    [InlineData("templates", "template", 1)] // one too many, at the end
    [InlineData("xtemplate", "template", 1)] // or at the start
    [InlineData("emplate", "template", 1)] // the first letter left out
    [InlineData("tmplte", "template", null)] // eight letters allow one
    [InlineData("abcdf", "abcde", 1)] // five allow one
    [InlineData("abce", "abcd", null)] // four allow none: a short word is written right or not guessed
    [InlineData("on", "ok", null)]
    [InlineData("sendtempalte", "sendtemplate", 2)] // two letters swapped count two
    [InlineData("sndtemplte", "sendtemplate", 2)]
    [InlineData("sndtmplte", "sendtemplate", null)]
    [InlineData("america/nw_yrk", "america/new_york", 2)] // sixteen letters still allow two, not three
    [InlineData("amrica/nw_yrk", "america/new_york", null)]
    public void TyposCountTheLettersMistypedUpToOneInFiveAndTwoAtMost(string written, string meant, int? typos)
    {
        Assert.Equal(typos, LooseNames.Typos(written, meant));
    }
}
