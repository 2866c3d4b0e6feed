using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// The docs name types, files and log lines of the server; a rename or a reworded log message must take them along.
/// </summary>
public partial class DocsNameWhatExistsTests
{
    private const string ApiFolder = "src/TwaBot.Api";

    // Framework names the docs explain; everything else PascalCase in architecture.md is ours.
    private static readonly HashSet<string> FrameworkNames =
        ["RouteHandlerOptions.ThrowOnBadRequest", "AllowDuplicateProperties", "ShutdownTimeout"];

    // Lines the framework writes, not the server's code.
    private static readonly string[] FrameworkLogLines = ["Application is shutting down..."];

    [Fact]
    public async Task EveryTypeFileAndFolderArchitectureNamesExists()
    {
        var text = await File.ReadAllTextAsync(Repository.PathOf("docs/architecture.md"));
        var types = typeof(Program).Assembly.GetTypes().Concat(typeof(DocsNameWhatExistsTests).Assembly.GetTypes())
            .ToLookup(t => t.Name.Split('`')[0]);
        var literals = SourceStrings().ToHashSet();

        var missing = new List<string>();
        foreach (var name in CodeSpans(text))
        {
            if (FrameworkNames.Contains(name))
            {
                continue;
            }

            if (PathLike().IsMatch(name))
            {
                // A path may start at any folder of the server (Steps/ is Sending/Steps/).
                var path = name.TrimEnd('/').Replace('/', Path.DirectorySeparatorChar);
                if (!SourceEntries("*").Any(entry => entry.EndsWith(Path.DirectorySeparatorChar + path, StringComparison.Ordinal)
                    || entry.EndsWith(Path.DirectorySeparatorChar + path + ".cs", StringComparison.Ordinal)))
                {
                    missing.Add(name);
                }
            }
            else if (TypeLike().Match(name) is { Success: true } type)
            {
                var found = types[type.Groups["type"].Value];
                var member = type.Groups["member"].Value;
                // A name that is no type is a name the code gives (the meter, a scheme).
                if (!found.Any(t => member.Length == 0
                        || t.GetMember(member, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance).Length > 0)
                    && (member.Length > 0 || !literals.Contains(name)))
                {
                    missing.Add(name);
                }
            }
        }

        Assert.True(missing.Count == 0, "docs/architecture.md names what src/ no longer has: " + string.Join(", ", missing));
    }

    [Fact]
    public async Task ArchitectureNamesEveryTableAndOperationsCountsOnlyTablesThatExist()
    {
        var options = new DbContextOptionsBuilder<TwaBotDbContext>();
        DataExtensions.Configure(options, "Data Source=model-only.db"); // the model is read; nothing is opened
        await using var db = new TwaBotDbContext(options.Options);
        var tables = db.Model.GetEntityTypes().Select(e => e.GetTableName()!).Append("webhook_inbox").ToHashSet(); // and the inbox file's

        var architecture = CodeSpans(await File.ReadAllTextAsync(Repository.PathOf("docs/architecture.md"))).ToHashSet();
        var counted = GrowthTable().Matches(await File.ReadAllTextAsync(Repository.PathOf("docs/operations.md")))
            .SelectMany(row => InlineCode().Matches(row.Groups[1].Value).Select(name => name.Groups[1].Value)).ToList();

        var unnamed = tables.Where(table => !architecture.Contains(table)).ToList();
        Assert.True(unnamed.Count == 0, "docs/architecture.md does not name the tables " + string.Join(", ", unnamed));
        Assert.NotEmpty(counted);
        var gone = counted.Where(table => !tables.Contains(table)).ToList();
        Assert.True(gone.Count == 0, "docs/operations.md, Growth, counts tables the database does not have: " + string.Join(", ", gone));
    }

    [Theory]
    [InlineData("docs/operations.md")]
    [InlineData("README.md")]
    public async Task EveryLogLineTheDocsQuoteIsOneTheServerWrites(string doc)
    {
        var messages = SourceStrings().ToList();
        var quotes = CodeSpans(await File.ReadAllTextAsync(Repository.PathOf(doc))).Where(IsLogQuote).ToList();
        Assert.NotEmpty(quotes);

        var unknown = quotes.Where(quote => !FrameworkLogLines.Contains(quote) && !messages.Any(message => CouldRead(message, quote))).ToList();

        Assert.True(unknown.Count == 0, $"{doc} quotes log lines the server does not write:\n" + string.Join("\n", unknown));
    }

    [Theory]
    [InlineData("Meta has been failing for WhatsApp number {PhoneNumberId}: its calls are paused", "Meta has been failing for WhatsApp number …", true)]
    [InlineData("API key {ApiKeyId} of business {BusinessId} revoked", "API key 3 of business 2 revoked", true)]
    [InlineData("Rewrote the database file in {Seconds:0.0} s (VACUUM)", "Rewrote the database file in … s", true)]
    [InlineData("API key {ApiKeyId} of business {BusinessId} revoked", "API key 3 of business 2 created", false)]
    [InlineData("Exporting metrics over OTLP to {Endpoint}", "Exporting traces over OTLP to …", false)]
    [InlineData("the file {File} is damaged ({Why}). Restore it", "…is damaged (SQLite Error 11: 'database disk image is malformed')…", true)]
    [InlineData("Refused a webhook delivery ({Problem}), so it was not stored", "The webhook processor failed; it goes on", false)]
    public void AQuoteMatchesAMessageWhenSomeLineOfTheMessageHoldsIt(string message, string quote, bool matches) =>
        Assert.Equal(matches, CouldRead(message, quote));

    /// <summary>Inline code of a Markdown text, outside code blocks, with its line breaks read as spaces.</summary>
    private static IEnumerable<string> CodeSpans(string markdown) =>
        InlineCode().Matches(CodeBlock().Replace(markdown, ""))
            .Select(m => string.Join(' ', m.Groups[1].Value.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries)));

    /// <summary>A sentence the server could print: several words, not a command, a body or a phone number.</summary>
    private static bool IsLogQuote(string span) =>
        span.Count(c => c == ' ') >= 3 && (char.IsUpper(span[0]) || span[0] == '…')
        && !span.Contains('{', StringComparison.Ordinal) && !span.Contains('"', StringComparison.Ordinal);

    /// <summary>The files and folders of the server's source, without its build output.</summary>
    private static IEnumerable<string> SourceEntries(string pattern) =>
        Directory.EnumerateFileSystemEntries(Repository.PathOf(ApiFolder), pattern, SearchOption.AllDirectories)
            .Where(entry => Path.GetRelativePath(Repository.PathOf(ApiFolder), entry).Split(Path.DirectorySeparatorChar)[0] is not ("bin" or "obj"));

    /// <summary>The string literals of the server's source, a concatenation read as one.</summary>
    private static IEnumerable<string> SourceStrings()
    {
        foreach (var file in SourceEntries("*.cs"))
        {
            var source = Concatenation().Replace(File.ReadAllText(file), "");
            foreach (Match literal in StringLiteral().Matches(source))
            {
                yield return literal.Groups[1].Value.Replace("\\\"", "\"", StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Whether some line the message writes contains the quote, its <c>…</c> standing for anything.</summary>
    private static bool CouldRead(string message, string quote)
    {
        // A placeholder stands for one word; what a quote shows in brackets (an exception's text, ids) for anything.
        var pattern = Placeholder().Replace(message, "*");
        return LetterWord().Matches(quote).Any(word => pattern.Contains(word.Value, StringComparison.Ordinal)) // cheap first
            && Overlap(pattern, "*" + Bracketed().Replace(quote, "(*)").Replace('…', '*') + "*");
    }

    /// <summary>
    /// Whether a message's pattern <paramref name="a"/> (<c>*</c> a word) and a quote's <paramref name="b"/>
    /// (<c>*</c> any text) can describe the same text.
    /// </summary>
    private static bool Overlap(string a, string b)
    {
        // reachable[i, j]: a's first i and b's first j characters can describe the same text.
        var reachable = new bool[a.Length + 1, b.Length + 1];
        reachable[0, 0] = true;
        for (var i = 0; i <= a.Length; i++)
        {
            for (var j = 0; j <= b.Length; j++)
            {
                if (!reachable[i, j])
                {
                    continue;
                }

                if (i < a.Length && a[i] == '*')
                {
                    reachable[i + 1, j] = true;
                    if (j < b.Length && b[j] != ' ')
                    {
                        reachable[i, j + 1] = true;
                    }
                }

                if (j < b.Length && b[j] == '*')
                {
                    reachable[i, j + 1] = true;
                    if (i < a.Length)
                    {
                        reachable[i + 1, j] = true;
                    }
                }

                if (i < a.Length && j < b.Length && a[i] == b[j] && a[i] != '*')
                {
                    reachable[i + 1, j + 1] = true;
                }
            }
        }

        return reachable[a.Length, b.Length];
    }

    /// <summary>The first column of the rows of operations.md's table of tables (Growth).</summary>
    [GeneratedRegex(@"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", RegexOptions.Multiline)]
    private static partial Regex GrowthTable();

    [GeneratedRegex(@"```.*?```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"`([^`]+)`")]
    private static partial Regex InlineCode();

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*(/[A-Za-z0-9]+)*(/|\.cs)$|^[A-Z][A-Za-z0-9]*(/[A-Za-z0-9]+)+$")]
    private static partial Regex PathLike();

    [GeneratedRegex(@"^(?<type>[A-Z][a-z][A-Za-z0-9]*)(\.(?<member>[A-Z][A-Za-z0-9]*))?$")]
    private static partial Regex TypeLike();

    [GeneratedRegex("\"\\s*\\+\\s*\\$?\"")]
    private static partial Regex Concatenation();

    [GeneratedRegex("\\$?@?\"((?:[^\"\\\\\\n]|\\\\.)*)\"")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"\([^()]*\)")]
    private static partial Regex Bracketed();

    [GeneratedRegex(@"\p{L}{4,}")]
    private static partial Regex LetterWord();
}
