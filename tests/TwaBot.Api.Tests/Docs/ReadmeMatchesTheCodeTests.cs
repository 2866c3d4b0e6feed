using System.Reflection;
using System.Text.RegularExpressions;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Sending;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// Lists the README keeps by hand beside the code that decides them: a magic number added or dropped, a CI script
/// that runs another test command, or a refused address range that reaches only one of README and the OpenAPI
/// document fails here.
/// </summary>
public partial class ReadmeMatchesTheCodeTests
{
    [Fact]
    public async Task CiRunsTheReadmesTestCommand()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var ci = await File.ReadAllTextAsync(Repository.PathOf(".ci/run"));

        // The README's first block: the server, then every test, each with a comment after it.
        var testCommand = TestLine().Match(Regex.Match(readme, "```bash\n(.*?)```", RegexOptions.Singleline).Groups[1].Value).Groups["command"].Value;
        var ciCommand = CiTestLine().Match(ci).Groups["command"].Value;

        Assert.Equal("dotnet test", testCommand);
        Assert.Equal(testCommand, ciCommand);
    }

    [Fact]
    public async Task TheMagicNumbersTableRowsAreTheEmulatorsMagicNumbers()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var table = Regex.Match(readme, @"\*\*Magic numbers\.\*\*[^\n]*\n\n(.*?)\n\n", RegexOptions.Singleline).Groups[1].Value;

        var documented = MagicRow().Matches(table).Select(row => row.Groups[1].Value).Order().ToList();
        var inCode = typeof(MagicNumbers).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(field => field.IsLiteral).Select(field => (string)field.GetRawConstantValue()!).Order().ToList();

        Assert.NotEmpty(documented);
        Assert.Equal(inCode, documented);
    }

    /// <summary>
    /// README's "Media URLs" lists the ranges a file URL may not point into; the OpenAPI description of <c>media_url</c>,
    /// which Swagger UI shows beside the field, names the same ones.
    /// </summary>
    [Fact]
    public async Task TheOpenApiMediaUrlDescriptionNamesEveryRangeReadmeRefuses()
    {
        var readme = await File.ReadAllTextAsync(Repository.PathOf("README.md"));
        var bullet = Regex.Match(readme, @"\n- \*\*Media URLs\*\*(.*?)\n(- |\n)", RegexOptions.Singleline).Groups[1].Value;

        var ranges = Range().Matches(bullet).Select(range => range.Groups[1].Value).ToList();
        var described = Regex.Split(SendFieldDocs.MediaUrl, @"[\s,;()]+").ToHashSet(StringComparer.Ordinal);
        var missing = ranges.Where(range => !described.Contains(range)).ToList();

        Assert.Contains("127.0.0.0/8", ranges);
        Assert.True(missing.Count == 0, "the OpenAPI description of media_url does not name " + string.Join(", ", missing));
    }

    [GeneratedRegex(@"^(?<command>dotnet test)\b[^\n#]*#", RegexOptions.Multiline)]
    private static partial Regex TestLine();

    [GeneratedRegex(@"^# The README's test command:\n(?<command>[^|\n]*?)\s*(\d?>|\|)", RegexOptions.Multiline)]
    private static partial Regex CiTestLine();

    [GeneratedRegex(@"^\| `(\d{4})` \|", RegexOptions.Multiline)]
    private static partial Regex MagicRow();

    /// <summary>An address range or form in backticks: a CIDR block (<c>10/8</c>, <c>fc00::/7</c>) or an address (<c>::</c>, <c>::1</c>).</summary>
    [GeneratedRegex(@"`([0-9a-f.:]*[/:][0-9a-f.:/]*)`")]
    private static partial Regex Range();
}
