using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.Tests.Configuration;

/// <summary>
/// The report of settings refused at start, without a host: names that are no setting, values the binder cannot
/// read (in an operator's words), port lists, and which exceptions count as configuration errors.
/// </summary>
public class ConfigurationErrorsTests
{
    private static readonly string Header = "TwaBot server cannot start; fix the configuration:" + Environment.NewLine;

    /// <summary>Settings are "name=value"; the expected report lines are separated by " + ", each a part of one line.</summary>
    [Theory]
    [InlineData("ok")]
    [InlineData("TwaBot:AdminKeyy is not a setting (misspelt? README, 'Configuration', lists them all).", "TwaBot:AdminKeyy=0123456789abcdef")]
    [InlineData("TwaBot:Meta:Resilience:Retries is not a setting", "TwaBot:Meta:Resilience:Retries=2")]
    [InlineData("TwaBot:AdminKey:Old is not a setting", "TwaBot:AdminKey:Old=0123456789abcdef")] // a child below a value
    [InlineData("TwaBot:Sandbox:Enabled:x is not a setting", "TwaBot:Sandbox:Enabled:x=true")]
    [InlineData("TwaBot:AdminKey:Length is not a setting", "TwaBot:AdminKey:Length=3")] // a property of the text, not a setting
    [InlineData("ok", "twabot:sandbox:statusbatchsize=10")] // names match as the binder matches them
    // Unknown names first: the binder would otherwise report (or throw on) the rest.
    [InlineData("TwaBot:Typo is not a setting", "TwaBot:Typo=1", "TwaBot:RateLimits:GlobalPerMinute=0")]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute must be a whole number, such as 60 (got 'lots').", "TwaBot:RateLimits:GlobalPerMinute=lots")]
    [InlineData("TwaBot:Meta:Resilience:BreakerFailureRatio must be a number, such as 8 or 0.5 (got 'half').", "TwaBot:Meta:Resilience:BreakerFailureRatio=half")]
    [InlineData("TwaBot:Sandbox:StatusWebhooks must be true or false (got 'yes').", "TwaBot:Sandbox:StatusWebhooks=yes")]
    [InlineData("TwaBot:Sandbox:Enabled must be true or false (got 'maybe').", "TwaBot:Sandbox:Enabled=maybe")]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute must be at least 1 (got 0). + TwaBot:Webhooks:KeepBodiesDays must be between 1 and 3650 (got 0).", "TwaBot:RateLimits:GlobalPerMinute=0", "TwaBot:Webhooks:KeepBodiesDays=0")]
    // Kestrel splits the ports at ';' only.
    [InlineData("ASPNETCORE_HTTP_PORTS must be port numbers separated by ';' (got \"8080,8081\").", "http_ports=8080,8081")]
    [InlineData("ASPNETCORE_HTTPS_PORTS must be port numbers separated by ';' (got \"8443;x\").", "https_ports=8443;x")]
    [InlineData("ASPNETCORE_HTTP_PORTS must be port numbers separated by ';' (got \"65536\").", "http_ports=65536")]
    [InlineData("ASPNETCORE_HTTP_PORTS must be port numbers separated by ';' (got \"+80\").", "http_ports=+80")]
    [InlineData("ok", "http_ports=8080; 8081;", "https_ports=65535")]
    [InlineData("ok", "http_ports=8080,8081", "urls=http://+:8080")] // URLs replace the ports
    [InlineData("ASPNETCORE_HTTP_PORTS must be port numbers separated by ';' (got \"8080,8081\").", "http_ports=8080,8081", "urls=")]
    [InlineData("ASPNETCORE_HTTP_PORTS must be port numbers separated by ';' (got \"a\"). + ASPNETCORE_HTTPS_PORTS must be port numbers separated by ';' (got \"b\").", "http_ports=a", "https_ports=b")] // both, for one restart
    // The database setting, after the TwaBot section's.
    [InlineData("ConnectionStrings:TwaBot must be a SQLite connection string such as \"Data Source=twabot.db\" (it names no database file)", "ConnectionStrings:TwaBot=Mode=ReadWrite")]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute must be at least 1 (got 0). + ConnectionStrings:TwaBot must be a SQLite connection string", "TwaBot:RateLimits:GlobalPerMinute=0", "ConnectionStrings:TwaBot=Mode=ReadWrite", "http_ports=8080")]
    [InlineData("ConnectionStrings:TwaBot must be a SQLite connection string + ASPNETCORE_HTTP_PORTS must be port numbers", "ConnectionStrings:TwaBot=Mode=ReadWrite", "http_ports=80,81")]
    [InlineData("ok", "http_ports=8080,8081", "Kestrel:Endpoints:Http:Url=http://+:8080")]
    // The OTLP exporter sends to localhost:4317 for an endpoint that is not a URL, and uses grpc for a protocol it does not know.
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL", "OTEL_EXPORTER_OTLP_ENDPOINT=otel-collector:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:// or https:// URL", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=not a url")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT must be an http:// or https:// URL", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=grpc://collector:4317")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf, as written (got 'HTTP/PROTOBUF').", "OTEL_EXPORTER_OTLP_PROTOCOL=HTTP/PROTOBUF")]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL must be grpc or http/protobuf, as written (got 'http/json').", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json")]
    [InlineData("ok", "OTEL_EXPORTER_OTLP_ENDPOINT=https://collector.example:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc")]
    [InlineData("ok", "OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_PROTOCOL=")] // blank: no export, the default protocol
    public void TheReportNamesEachSettingAndWhatItTakes(string expected, params string[] settings)
    {
        var report = Check(settings);

        if (expected == "ok")
        {
            Assert.Null(report);
            return;
        }

        var parts = expected.Split(" + ");
        Assert.NotNull(report);
        Assert.StartsWith(Header, report, StringComparison.Ordinal);
        var lines = report[Header.Length..].Split(Environment.NewLine);
        Assert.Equal(parts.Length, lines.Length);
        Assert.All(parts.Zip(lines), pair => Assert.StartsWith("  - " + pair.First, pair.Second, StringComparison.Ordinal));
    }

    public static TheoryData<Exception, bool> Errors() => new()
    {
        { new OptionsValidationException("TwaBot", typeof(TwaBotOptions), ["bad"]), true },
        { new ConfigurationErrorException("bad logging level", new FormatException()), true },
        { new InvalidOperationException("Failed to convert configuration value at 'TwaBot:X'"), true },
        { new InvalidOperationException("Sequence contains no elements"), false },
        { new AggregateException(new OptionsValidationException("TwaBot", typeof(TwaBotOptions), ["bad"]), new ConfigurationErrorException("x", new FormatException())), true },
        { new AggregateException(new OptionsValidationException("TwaBot", typeof(TwaBotOptions), ["bad"]), new IOException("disk")), false },
        { new IOException("disk"), false },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void OnlyConfigurationErrorsAreReportedAsSuch(Exception error, bool isConfiguration) =>
        Assert.Equal(isConfiguration, ConfigurationErrors.IsConfigurationError(error));

    [Fact]
    public void AHostFailureIsDescribedWithTheMisspeltSettingFirst()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TwaBot:AdminKye"] = "x" }).Build();

        var report = ConfigurationErrors.Describe(new OptionsValidationException("TwaBot", typeof(TwaBotOptions), ["Live mode needs TwaBot:AdminKey."]), configuration);

        Assert.Equal(Header + "  - TwaBot:AdminKye is not a setting (misspelt? README, 'Configuration', lists them all).", report);
    }

    [Fact]
    public void AHostFailureWithSoundNamesIsDescribedByItsMessages()
    {
        var configuration = new ConfigurationBuilder().Build();
        var error = new AggregateException(
            new OptionsValidationException("TwaBot", typeof(TwaBotOptions), ["first.", "second."]),
            new InvalidOperationException("Failed to convert configuration value '' at 'TwaBot:Plans:Pro:DailyLimit' to type 'System.Int64'."),
            new InvalidOperationException("Failed to convert configuration value 'x' at 'Logging:Level' to type 'Some.Enum'."),
            new InvalidOperationException("Failed to convert configuration value with no quotes"));

        var report = ConfigurationErrors.Describe(error, configuration);

        Assert.Equal(
            Header + string.Join(Environment.NewLine,
                "  - first.",
                "  - second.",
                "  - TwaBot:Plans:Pro:DailyLimit must be a whole number, such as 60 (got an empty value).",
                "  - Logging:Level must be Some.Enum (got 'x').",
                "  - Failed to convert configuration value with no quotes"),
            report);
    }

    [Fact]
    public void AnErrorOtherThanConfigurationIsNotSwallowed()
    {
        var configuration = new ConfigurationBuilder().Build();

        Assert.Throws<IOException>(() => ConfigurationErrors.Describe(new IOException("disk"), configuration));
    }

    [Fact]
    public void WithoutAConfigurationServiceTheOptionsAreStillChecked()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TwaBot:Sandbox:Enabled"] = "true", ["TwaBot:Typo"] = "1", ["TwaBot:Webhooks:KeepBodiesDays"] = "0",
        }).Build();
        using var provider = new ServiceCollection()
            .AddSingleton<IHostEnvironment>(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" })
            .AddTwaBotOptions(configuration)
            .BuildServiceProvider();

        Assert.Equal(Header + "  - TwaBot:Webhooks:KeepBodiesDays must be between 1 and 3650 (got 0).", ConfigurationErrors.Check(provider));
    }

    [Fact]
    public void NoServicesOrConfigurationIsAMistakeInCode()
    {
        Assert.Throws<ArgumentNullException>(() => ConfigurationErrors.Check(null!));
        Assert.Throws<ArgumentNullException>(() => ConfigurationErrors.PortsProblems(null!));
        Assert.Throws<ArgumentNullException>(() => ConfigurationErrors.SectionProblems(new ConfigurationBuilder().Build(), null!));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public async Task OnlyWebApplicationFactorysServerIsATestHost(bool testServer, bool isTestHost)
    {
        var builder = WebApplication.CreateSlimBuilder();
        if (testServer)
        {
            builder.WebHost.UseTestServer();
        }

        await using var app = builder.Build();

        Assert.Equal(isTestHost, ConfigurationErrors.IsTestHost(app));
        Assert.False(ConfigurationErrors.IsTestHost(null!));
    }

    /// <summary>Binds and validates as the server does at start, in the sandbox; the report, or null when sound.</summary>
    private static string? Check(string[] settings)
    {
        var pairs = settings.Select(setting => setting.Split('=', 2)).ToDictionary(pair => pair[0], pair => (string?)pair[1]);
        pairs.TryAdd("TwaBot:Sandbox:Enabled", "true");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(pairs).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton<IHostEnvironment>(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" })
            .AddTwaBotOptions(configuration);
        using var provider = services.BuildServiceProvider();
        return ConfigurationErrors.Check(provider);
    }
}
