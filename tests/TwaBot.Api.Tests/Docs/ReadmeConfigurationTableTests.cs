using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using TwaBot.Api.Configuration;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// README's configuration table names every setting of the <c>TwaBot</c> section, with the default the
/// code has: a setting added to the options classes, or a default changed there, cannot go undocumented.
/// </summary>
public partial class ReadmeConfigurationTableTests
{
    [Fact]
    public async Task EveryTwaBotSettingIsInTheTableWithItsDefault()
    {
        var table = ConfigurationTable(await File.ReadAllTextAsync(Repository.PathOf("README.md")));

        var problems = new List<string>();
        foreach (var (name, value) in Settings(TwaBotOptions.SectionName, new TwaBotOptions()))
        {
            if (!table.TryGetValue(name, out var documented))
            {
                problems.Add($"{name} is not in README's configuration table");
            }
            else if (value is not null && documented is not null && documented != value)
            {
                problems.Add($"{name}: README says `{documented}`, the code's default is `{value}`");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// The shipped appsettings.json is read before any default in code, so each value it writes is the default a
    /// deployment gets (PRODUCT.md §7): it must be the one README's table (and the options classes) give.
    /// </summary>
    [Fact]
    public async Task TheShippedAppsettingsWritesEachSettingWithTheTablesDefault()
    {
        var table = ConfigurationTable(await File.ReadAllTextAsync(Repository.PathOf("README.md")));
        using var appsettings = JsonDocument.Parse(await File.ReadAllTextAsync(Repository.PathOf("src/TwaBot.Api/appsettings.json")));

        var written = Leaves("", appsettings.RootElement).ToList();
        var problems = written
            .Where(leaf => table.TryGetValue(leaf.Name, out var documented) && documented != leaf.Value)
            .Select(leaf => $"{leaf.Name}: appsettings.json writes `{leaf.Value}`, README's default is `{table[leaf.Name]}`")
            .ToList();

        Assert.Contains(written, leaf => leaf.Name == "TwaBot:RateLimits:GlobalPerMinute"); // the file still writes the defaults
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// The reverse: a row of the table names a setting the server reads (a renamed or dropped option cannot stay
    /// documented), and every value the shipped appsettings.json writes has its row.
    /// </summary>
    [Fact]
    public async Task EveryTableRowAndAppsettingsValueIsASettingTheServerReads()
    {
        var table = ConfigurationTable(await File.ReadAllTextAsync(Repository.PathOf("README.md")));
        using var appsettings = JsonDocument.Parse(await File.ReadAllTextAsync(Repository.PathOf("src/TwaBot.Api/appsettings.json")));
        var settings = Settings(TwaBotOptions.SectionName, new TwaBotOptions()).Select(setting => setting.Name).ToHashSet(StringComparer.Ordinal);

        var unread = table.Keys.Where(name => name.StartsWith(TwaBotOptions.SectionName + ":", StringComparison.Ordinal) && !settings.Contains(name));
        var undocumented = Leaves("", appsettings.RootElement).Where(leaf => !table.ContainsKey(leaf.Name)).Select(leaf => $"{leaf.Name} (appsettings.json)");

        var problems = unread.Select(name => $"{name} (README)").Concat(undocumented).ToList();
        Assert.True(problems.Count == 0, "named but no setting of TwaBotOptions, or written but not in README's table: " + string.Join(", ", problems));
    }

    /// <summary>Every <c>TwaBot:…</c> (or <c>TwaBot__…</c>) the docs name in their prose is a setting or a section of settings.</summary>
    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/architecture.md")]
    [InlineData("docs/operations.md")]
    [InlineData("docs/performance.md")]
    public async Task EverySettingTheDocsNameExists(string doc)
    {
        var known = Settings(TwaBotOptions.SectionName, new TwaBotOptions())
            .SelectMany(setting => Sections(setting.Name)).ToHashSet(StringComparer.Ordinal);

        var named = NamedSetting().Matches(await File.ReadAllTextAsync(Repository.PathOf(doc)))
            .Select(name => name.Value.Replace("__", ":", StringComparison.Ordinal)).Distinct().ToList();
        var unknown = named.Where(name => !known.Contains(name)).ToList();

        Assert.True(unknown.Count == 0, $"{doc} names settings TwaBotOptions does not have: " + string.Join(", ", unknown));
    }

    /// <summary>The setting itself and each section above it (TwaBot:Meta:Resilience:MaxRetries: also TwaBot:Meta:Resilience, TwaBot:Meta).</summary>
    private static IEnumerable<string> Sections(string name)
    {
        for (var end = name.Length; end > 0; end = name.LastIndexOf(':', end - 1))
        {
            yield return name[..end];
        }
    }

    private static IEnumerable<(string Name, string Value)> Leaves(string prefix, JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
            ? element.EnumerateObject().SelectMany(p => Leaves(prefix.Length == 0 ? p.Name : $"{prefix}:{p.Name}", p.Value))
            : [(prefix, element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText())];

    /// <summary>Each leaf setting under <paramref name="prefix"/> with its default as README writes it (null: none).</summary>
    private static IEnumerable<(string Name, string? Default)> Settings(string prefix, object options)
    {
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var name = $"{prefix}:{property.Name}";
            var value = property.GetValue(options);
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (type.IsClass && type != typeof(string))
            {
                foreach (var setting in Settings(name, value!))
                {
                    yield return setting;
                }
            }
            else
            {
                yield return (name, value switch
                {
                    null => null,
                    bool flag => flag ? "true" : "false",
                    IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
                    _ => value.ToString(),
                });
            }
        }
    }

    /// <summary>
    /// The table's settings and the default each row shows (null when it shows none in backticks). A row may name
    /// several settings of one section (<c>`A:B:C` / `D`</c>, with defaults <c>`1` / `2`</c>).
    /// </summary>
    private static Dictionary<string, string?> ConfigurationTable(string readme)
    {
        var section = Regex.Match(readme, @"\n## Configuration\n(.*?)\n## ", RegexOptions.Singleline).Groups[1].Value;
        var rows = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (Match row in Row().Matches(section))
        {
            var names = Ticked().Matches(row.Groups["names"].Value).Select(m => m.Groups[1].Value).ToList();
            var defaults = row.Groups["default"].Value.Split(" / ");
            var sectionPrefix = names[0][..(names[0].LastIndexOf(':') + 1)];
            for (var i = 0; i < names.Count; i++)
            {
                var name = names[i].Contains(':', StringComparison.Ordinal) ? names[i] : sectionPrefix + names[i];
                var shown = names.Count == defaults.Length ? Ticked().Match(defaults[i]) : Match.Empty;
                rows[name] = shown.Success ? shown.Groups[1].Value : null;
            }
        }

        return rows;
    }

    /// <summary>TwaBot:A:B or TwaBot__A__B, as configuration keys or environment variables write it.</summary>
    [GeneratedRegex(@"\bTwaBot(?::[A-Z][A-Za-z]*)+|\bTwaBot(?:__[A-Z][A-Za-z]*)+")]
    private static partial Regex NamedSetting();

    [GeneratedRegex(@"^\| (?<names>`[^|]*?) \| (?<default>[^|]*?) \| ", RegexOptions.Multiline)]
    private static partial Regex Row();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Ticked();
}
