using TwaBot.Api.Unicode;

namespace TwaBot.Api.Tests.Unicode;

public sealed class ControlCharactersTests
{
    [Theory]
    [InlineData("Fix it.", "Fix it.")] // nothing to change: the text itself
    [InlineData("two\r\nlines", "two  lines")]
    [InlineData("tab\there", "tab here")]
    [InlineData("nul\0esc\u001b[2J", "nul esc [2J")]
    [InlineData("line\u2028paragraph\u2029end", "line paragraph end")]
    [InlineData("c1\u0085next", "c1 next")] // NEL, a C1 line break
    [InlineData("kept\u200Ftext", "kept\u200Ftext")] // a direction mark is no control character
    public void AsSpacesPutsATextOnOneLineCharacterForCharacter(string text, string expected)
    {
        Assert.Equal(expected, ControlCharacters.AsSpaces(text));
    }

    [Fact]
    public void AsSpacesReturnsATextWithoutControlCharactersAsItIs()
    {
        const string Clean = "Nothing to change";

        Assert.Same(Clean, ControlCharacters.AsSpaces(Clean));
    }
}
