using Microsoft.Extensions.Configuration;
using TwaBot.Api.Logging;

namespace TwaBot.Api.Tests.Logging;

public class SecretRedactionTests
{
    [Theory]
    [InlineData("?apikey=twb_live_abcDEF123&phone=91", "?apikey=[redacted]&phone=91")]
    [InlineData("?phone=91&APIKEY=whatever", "?phone=91&APIKEY=[redacted]")]
    [InlineData("X-API-Key twb_test_Zy09abc", "X-API-Key twb_test_[redacted]")]
    [InlineData("admin twb_admin_0f0f0f", "admin twb_admin_[redacted]")]
    [InlineData("Authorization: Bearer EAAGm0PX4ZCpsBA.token-value", "Authorization: Bearer [redacted]")]
    [InlineData("token EAAGm0PX4ZCpsBAabcdefghijklmnopqrstu", "token [redacted]")]
    [InlineData("?hub.mode=subscribe&hub.verify_token=s3cret&hub.challenge=1", "?hub.mode=subscribe&hub.verify_token=[redacted]&hub.challenge=1")]
    [InlineData("?api%6Bey=twb_live_abcDEF123&phone=91", "?api%6Bey=[redacted]&phone=91")]
    [InlineData("?%61%70%69%6B%65%79=x%74wb&phone=91", "?%61%70%69%6B%65%79=[redacted]&phone=91")]
    [InlineData("?hub.mode=subscribe&hub.verify_%74oken=s3cret&hub.challenge=1", "?hub.mode=subscribe&hub.verify_%74oken=[redacted]&hub.challenge=1")]
    [InlineData("?access_token=abc&x=1", "?access_token=[redacted]&x=1")]
    [InlineData("?password=hunter2&x=1", "?password=[redacted]&x=1")] // any name ending in key, token, secret or password
    [InlineData("?client_secret=abc&x=1", "?client_secret=[redacted]&x=1")]
    [InlineData("password=\"hunter 2\" user=ana", "password=[redacted] user=ana")] // a quoted value, spaces and all
    [InlineData("client_secret=\"unclosed", "client_secret=[redacted]")]
    [InlineData("Path=\"/x?apikey=opaque\" done", "Path=\"/x?apikey=[redacted]\" done")] // a quoted path: its value ends at the quote
    [InlineData("password='hunter 2' user=ana", "password=[redacted] user=ana")] // in single quotes too
    [InlineData("password=\"hun\\\"ter 2\" user=ana", "password=[redacted] user=ana")] // an escaped quote does not close it
    [InlineData("Path='/x?apikey=opaque' done", "Path='/x?apikey=[redacted]' done")] // a single-quoted path's query
    [InlineData("?next=/cb?password=hunter2&x=1", "?next=/cb?password=[redacted]&x=1")] // a pair inside another's unquoted value
    [InlineData("?apikey+=abc&x=1", "?apikey+=[redacted]&x=1")] // a '+' is a space, and spaces around a name are no part of it
    [InlineData("authorization: bearer abc.DEF-123", "authorization: Bearer [redacted]")] // a header's scheme in any case
    [InlineData("key twb_live_abcDEF123 sent", "key twb_live_[redacted] sent")]
    [InlineData("token EAA01234567890123456789", "token [redacted]")] // the shortest Meta-shaped token: EAA and 20 more
    [InlineData("?twb%5Ftest%5FZy09abc", "?twb%5Ftest%5F[redacted]")] // a query keeps a client's escapes: twb%5F… is a key
    [InlineData("?apikey%3Dtwb%5flive%5fZy09abc", "?apikey%3Dtwb%5flive%5f[redacted]")] // escaped '=' too: no pair, still a key
    public void RedactsSecrets(string input, string expected)
    {
        Assert.Equal(expected, SecretRedaction.Redact(input));
    }

    [Theory]
    [InlineData("/api/v1/health")]
    [InlineData("HTTP GET /api/v1/templates responded 200")]
    [InlineData("919876543210")]
    [InlineData("/api/v1/quick-send?phone=91&template=hello&params=a%2Cb")]
    [InlineData("EAA0123456789012345678")] // EAA and 19 more: a word, not a token
    public void LeavesOrdinaryTextAlone(string input)
    {
        Assert.Same(input, SecretRedaction.Redact(input));
    }

    [Fact]
    public void SecretsInListsStructuresAndSecretHeadersAreRedacted()
    {
        // The HTTP client's header logging gives each header as a list of its values.
        var logEvent = new Serilog.Events.LogEvent(DateTimeOffset.UnixEpoch, Serilog.Events.LogEventLevel.Verbose, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("{HttpHeadersLogValue:l}"),
            [
                new("Authorization", new Serilog.Events.SequenceValue([new Serilog.Events.ScalarValue("Bearer sandbox_0f0f0f0f")])),
                new("X-Hub-Signature-256", new Serilog.Events.SequenceValue([new Serilog.Events.ScalarValue("sha256=abcdef0123")])),
                new("Request", new Serilog.Events.StructureValue([new("Uri", new Serilog.Events.ScalarValue("/x?apikey=twb_live_S3cret"))])),
                new("Phone", new Serilog.Events.ScalarValue("919876543210")),
                new("Headers", new Serilog.Events.DictionaryValue(
                [
                    new(new Serilog.Events.ScalarValue("X-Admin-Key"), new Serilog.Events.ScalarValue("0123456789abcdefAdmin")),
                    new(new Serilog.Events.ScalarValue("Referer"), new Serilog.Events.ScalarValue("/y?api_key=Dictionary0f0f")),
                    new(new Serilog.Events.ScalarValue("Accept"), new Serilog.Events.ScalarValue("application/json")),
                ])),
            ]);

        new SecretRedaction().Enrich(logEvent, null!);

        var text = string.Join(" ", logEvent.Properties.Values.Select(value => value.ToString()));
        Assert.DoesNotContain("0f0f0f0f", text, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdef0123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret", text, StringComparison.Ordinal);
        Assert.DoesNotContain("abcdefAdmin", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Dictionary0f0f", text, StringComparison.Ordinal);
        Assert.Contains("919876543210", text, StringComparison.Ordinal);
        Assert.Contains("application/json", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0123456789abcdef", "/admin/v1/businesses/0123456789abcdef/x", "/admin/v1/businesses/[redacted]/x")] // the shortest admin key the server accepts
    [InlineData("0123456789abcdef", "0123456789abcdef and 0123456789abcdef", "[redacted] and [redacted]")]
    [InlineData("0123456789abcde", "/admin/v1/businesses/0123456789abcde", "/admin/v1/businesses/0123456789abcde")] // shorter: no valid secret, left alone
    [InlineData("Ab+cd/ef==0123456789", "/x/Ab+cd%2Fef==0123456789/y", "/x/[redacted]/y")] // a request's path as logged: decoded but for %2F
    [InlineData("Ab+cd/ef==0123456789", "/x/Ab+cd%2fef==0123456789/y", "/x/[redacted]/y")] // the path's %2F as a client may write it, in lower case
    [InlineData("Ab+cd/ef==0123456789", "/x?k=Ab%2Bcd%2Fef%3D%3D0123456789", "/x?k=[redacted]")] // escaped, as in a query
    [InlineData("Ab+cd/ef==0123456789", "/x?Ab%2bcd%2fef%3d%3d0123456789", "/x?[redacted]")] // with lower-case escapes
    public void ConfiguredSecretsAreTakenOutWhereverTheirTextAppears(string secret, string input, string expected)
    {
        var logEvent = new Serilog.Events.LogEvent(DateTimeOffset.UnixEpoch, Serilog.Events.LogEventLevel.Information, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("{Path}"), [new("Path", new Serilog.Events.ScalarValue(input))]);

        new SecretRedaction([null, secret]).Enrich(logEvent, null!);

        Assert.Equal(expected, ((Serilog.Events.ScalarValue)logEvent.Properties["Path"]).Value);
    }

    [Theory]
    [InlineData("Authorization")] // a scheme other than Bearer has no shape to know it by: Basic, or a raw token
    [InlineData("proxy-authorization")]
    [InlineData("X-API-Key")]
    [InlineData("X-Admin-Key")]
    [InlineData("X-Hub-Signature-256")]
    [InlineData("X-Hub-Signature")]
    [InlineData("Cookie")]
    [InlineData("Set-Cookie")]
    public void EveryValueOfASecretHeaderIsRedactedWhateverItsShape(string header)
    {
        // As the HTTP client's header logging gives it (a list of values), and inside a dictionary of nothing but secrets.
        var logEvent = new Serilog.Events.LogEvent(DateTimeOffset.UnixEpoch, Serilog.Events.LogEventLevel.Verbose, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("{Headers}"),
            [
                new(header, new Serilog.Events.SequenceValue([new Serilog.Events.ScalarValue("Basic b3BhcXVlMGYwZg")])),
                new("Headers", new Serilog.Events.DictionaryValue(
                    [new(new Serilog.Events.ScalarValue(header), new Serilog.Events.ScalarValue("opaque0f0f0f0f"))])),
            ]);

        new SecretRedaction().Enrich(logEvent, null!);

        var text = string.Join(" ", logEvent.Properties.Values.Select(value => value.ToString()));
        Assert.DoesNotContain("b3BhcXVlMGYwZg", text, StringComparison.Ordinal);
        Assert.DoesNotContain("opaque0f0f0f0f", text, StringComparison.Ordinal);
        Assert.Contains(SecretRedaction.Redacted, text, StringComparison.Ordinal);
    }

    [Theory] // a span's tags are no log property: the same redaction, the configured secrets too
    [InlineData("/admin/v1/businesses/0123456789abcdef/x", "/admin/v1/businesses/[redacted]/x")]
    [InlineData("/api/v1/health?apikey=twb_live_abcDEF123", "/api/v1/health?apikey=[redacted]")]
    [InlineData("/x?k=0123456789abcdef&apikey=s3cret", "/x?k=[redacted]&apikey=[redacted]")]
    public void RedactTextTakesOutSecretsOfEveryKind(string input, string expected)
    {
        Assert.Equal(expected, new SecretRedaction(["0123456789abcdef"]).RedactText(input));
    }

    [Fact]
    public void RedactTextLeavesOrdinaryTextAlone()
    {
        const string path = "/api/v1/quick-send?phone=91&template=hello";
        Assert.Same(path, new SecretRedaction(["0123456789abcdef"]).RedactText(path));
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_HEADERS")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_HEADERS")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_HEADERS")]
    public void EachOtlpHeaderSettingsValuesAreSecretsAsWrittenAndAsTheExporterSendsThem(string setting)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [setting] = "api-key=BackendLicense0123, x-team = Team%2FKey0123==",
        }).Build();

        var secrets = LoggingExtensions.ConfiguredSecrets(configuration);

        Assert.Contains("BackendLicense0123", secrets);
        Assert.Contains("Team%2FKey0123==", secrets); // as written: trimmed, with the '=' of its base64 padding
        Assert.Contains("Team/Key0123==", secrets);   // percent-decoded, as the exporter sends it
    }

    [Theory]
    [InlineData("/nothing\n[20:00:00 INF] FORGED-LINE", @"/nothing\n[20:00:00 INF] FORGED-LINE")]
    [InlineData("a\r\nb\tc", @"a\r\nb\tc")]
    [InlineData("bell\u0007 and \u2028", @"bell\u0007 and \u2028")]
    [InlineData("\u001f\u007f\u0085\u2029 ", @"\u001f\u007f\u0085\u2029 ")] // the last of C0, DEL, NEL, the paragraph separator; not the space
    [InlineData("/x\u009b2J\u0080\u009f\u00a0", @"/x\u009b2J\u0080\u009f" + "\u00a0")] // C1 too (U+009B is a terminal's CSI, as ESC [ is); not the no-break space
    [InlineData("key=\u202eredacted\u202c \u2066x\u2069\u200f\u061c\u200d", @"key=\u202eredacted\u202c \u2066x\u2069\u200f\u061c" + "\u200d")] // bidi overrides and isolates; not a joiner
    [InlineData("\u200e\u202a\u2067 \u2029", @"\u200e\u202a\u2067 \u2029")] // the left-to-right mark, the first embedding, an isolate inside its range
    public void ControlCharactersAreEscapedSoOneEventStaysOneLine(string input, string expected)
    {
        Assert.Equal(expected, ControlCharacterEscaping.Escape(input));
    }

    [Fact]
    public void TextWithoutControlCharactersIsLeftAlone()
    {
        const string path = "/api/v1/message-status/wamid.HBgM";
        Assert.Same(path, ControlCharacterEscaping.Escape(path));
    }

    [Fact]
    public void EveryPropertyWithALineBreakIsEscaped()
    {
        var logEvent = new Serilog.Events.LogEvent(DateTimeOffset.UnixEpoch, Serilog.Events.LogEventLevel.Information, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("{Path} {Query} {Status}"),
            [
                new("Path", new Serilog.Events.ScalarValue("/a\n[20:00:00 INF] FORGED-ONE")),
                new("Query", new Serilog.Events.ScalarValue("?q=\r\n[20:00:00 INF] FORGED-TWO")),
                new("Status", new Serilog.Events.ScalarValue(200)),
            ]);

        new ControlCharacterEscaping().Enrich(logEvent, null!);

        Assert.Equal(@"/a\n[20:00:00 INF] FORGED-ONE", ((Serilog.Events.ScalarValue)logEvent.Properties["Path"]).Value);
        Assert.Equal(@"?q=\r\n[20:00:00 INF] FORGED-TWO", ((Serilog.Events.ScalarValue)logEvent.Properties["Query"]).Value);
        Assert.Equal(200, ((Serilog.Events.ScalarValue)logEvent.Properties["Status"]).Value);
    }
}
