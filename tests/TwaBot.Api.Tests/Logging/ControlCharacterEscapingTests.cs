using Serilog.Events;
using Serilog.Parsing;
using TwaBot.Api.Logging;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// Control characters are escaped wherever a log property carries text: at the top and inside lists, objects and
/// dictionaries (their keys too), which the JSON console prints whole; a value with none is left as it was.
/// </summary>
public class ControlCharacterEscapingTests
{
    [Theory]
    [InlineData("scalar", "\"a\\nb\"")]
    [InlineData("sequence", "[\"ok\", \"a\\nb\"]")]
    [InlineData("structure", "Header { Name: \"X-Note\", Value: \"a\\r\\nFAKE LINE\" }")]
    [InlineData("dictionary value", "[(\"q\": \"a\\u202eb\")]")]
    [InlineData("dictionary key", "[(\"a\\nb\": \"v\")]")]
    [InlineData("nested", "[Outer { Items: [(\"k\": [\"a\\u009bb\"])] }]")]
    public void EveryStringInAPropertyIsEscaped(string shape, string rendered)
    {
        var logEvent = Event(Value(shape, clean: false));

        new ControlCharacterEscaping().Enrich(logEvent, null!);

        Assert.Equal(rendered, logEvent.Properties["Value"].ToString());
    }

    [Theory]
    [InlineData("scalar")]
    [InlineData("sequence")]
    [InlineData("structure")]
    [InlineData("dictionary value")]
    [InlineData("dictionary key")]
    [InlineData("nested")]
    public void AValueWithoutControlCharactersIsLeftAsItWas(string shape)
    {
        var value = Value(shape, clean: true);
        var logEvent = Event(value);

        new ControlCharacterEscaping().Enrich(logEvent, null!);

        Assert.Same(value, logEvent.Properties["Value"]);
    }

    private static LogEventPropertyValue Value(string shape, bool clean)
    {
        string Text(string raw) => clean ? raw.Replace("\n", " ", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal)
            .Replace("\u202e", " ", StringComparison.Ordinal).Replace("\u009b", " ", StringComparison.Ordinal) : raw;
        return shape switch
        {
            "scalar" => new ScalarValue(Text("a\nb")),
            "sequence" => new SequenceValue([new ScalarValue("ok"), new ScalarValue(Text("a\nb"))]),
            "structure" => new StructureValue([new LogEventProperty("Name", new ScalarValue("X-Note")), new LogEventProperty("Value", new ScalarValue(Text("a\r\nFAKE LINE")))], "Header"),
            "dictionary value" => Dictionary(new ScalarValue("q"), new ScalarValue(Text("a\u202eb"))),
            "dictionary key" => Dictionary(new ScalarValue(Text("a\nb")), new ScalarValue("v")),
            "nested" => new SequenceValue([new StructureValue([new LogEventProperty("Items",
                Dictionary(new ScalarValue("k"), new SequenceValue([new ScalarValue(Text("a\u009bb"))])))], "Outer")]),
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
        };
    }

    private static DictionaryValue Dictionary(ScalarValue key, LogEventPropertyValue value) => new([new(key, value)]);

    private static LogEvent Event(LogEventPropertyValue value) => new(DateTimeOffset.UnixEpoch, LogEventLevel.Information, null,
        new MessageTemplateParser().Parse("{Value}"), [new LogEventProperty("Value", value)]);
}
