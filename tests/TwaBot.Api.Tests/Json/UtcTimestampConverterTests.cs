using System.Text;
using System.Text.Json;
using TwaBot.Api.Json;

namespace TwaBot.Api.Tests.Json;

/// <summary>Timestamps are read in ISO-8601 forms only, as UTC unless they carry an offset.</summary>
public class UtcTimestampConverterTests
{
    [Theory]
    [InlineData("2099-12-01", "2099-12-01T00:00:00.000Z")]
    [InlineData("2099-12-01T10:30", "2099-12-01T10:30:00.000Z")]
    [InlineData("2099-12-01T10:30:15.25Z", "2099-12-01T10:30:15.250Z")]
    [InlineData("2099-12-01 10:30:15z", "2099-12-01T10:30:15.000Z")]
    [InlineData("2099-12-01T10:30:00+05:30", "2099-12-01T05:00:00.000Z")]
    [InlineData("2099-12-01T10:30:00-0800", "2099-12-01T18:30:00.000Z")]
    public void ReadsIsoForms(string text, string utc) => Assert.Equal(utc, UtcTimestampConverter.ToWire(Read(text)));

    [Theory]
    [InlineData("01/12/2099")]          // 1 December in India, 12 January in .NET's invariant culture
    [InlineData("12/01/2099 10:00")]
    [InlineData("Dec 1, 2099")]
    [InlineData("2099-12-01T10:30 PM")]
    [InlineData("2099-12-01 10:30 PM")]    // .NET reads the 12-hour clock after an ISO date too
    [InlineData("2099-12-01 10:30:00 +05:30")]
    [InlineData("20991201")]
    [InlineData(" 2099-12-01")]
    [InlineData("2099-13-01")]          // ISO in shape, not a date
    public void RefusesEverythingElse(string text) => Assert.Throws<JsonException>(() => Read(text));

    private static DateTime Read(string text)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(text)));
        reader.Read();
        return new UtcTimestampConverter().Read(ref reader, typeof(DateTime), JsonSerializerOptions.Default);
    }
}
