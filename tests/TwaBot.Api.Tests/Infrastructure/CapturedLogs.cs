using System.Collections.Concurrent;
using System.Globalization;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Json;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>Every log event the server wrote, rendered as text and as JSON with all properties.</summary>
public sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>
    /// <see cref="AllText"/> once it holds <paramref name="text"/>: a request's own log line is written after its answer
    /// has gone (a HEAD's at once), so a test reading the logs right after the answer can be early.
    /// </summary>
    public async Task<string> AllTextOnceItHoldsAsync(string text)
    {
        await Poll.UntilAsync(() => AllText().Contains(text, StringComparison.Ordinal), $"a log line with {text}");
        return AllText();
    }

    /// <summary>The rendered messages, properties, and exceptions of every event, as one string.</summary>
    public string AllText()
    {
        var formatter = new JsonFormatter(renderMessage: true, formatProvider: CultureInfo.InvariantCulture);
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        foreach (var logEvent in _events)
        {
            formatter.Format(logEvent, writer);
            writer.WriteLine(logEvent.RenderMessage(CultureInfo.InvariantCulture));
        }

        return writer.ToString();
    }
}
