using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TwaBot.Api.Configuration;
using TwaBot.Api.Http;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Configuration;

public class ConfigurationValidationTests
{
    [Theory]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute", "0")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute", "-1")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute", "lots")]
    [InlineData("TwaBot:RateLimits:OtpPerRecipientPerHour", "-1")]
    [InlineData("TwaBot:Plans:Growth:DailyLimit", "0")]
    [InlineData("TwaBot:Plans:Pro:DailyLimit", "1.5")]
    [InlineData("TwaBot:DefaultTimeZone", "Moon/Tranquility")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "ftp://graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphVersion", "23")]
    [InlineData("TwaBot:AdminKey", "short")]
    [InlineData("TwaBot:PreviousAdminKey", "0123456789abcdef")] // the old key of a rotation needs the new one beside it
    [InlineData("TwaBot:Sandbox:Enabled", "maybe")]
    [InlineData("TwaBot:Sandbox:GraphLatencyMilliseconds", "-1")]
    [InlineData("TwaBot:Sandbox:StatusBatchSize", "0")]
    [InlineData("TwaBot:Sandbox:StatusBatchSize", "1001")]
    [InlineData("TwaBot:Webhooks:KeepBodiesDays", "0")]
    [InlineData("TwaBot:Webhooks:KeepBodiesDays", "3651")]
    [InlineData("TwaBot:RateLimits:FailedAuthPerMinute", "0")]
    [InlineData("TwaBot:Plans:Pro:DailyLimit", "0")]
    [InlineData("TwaBot:Sandbox:StatusDelayMilliseconds", "-1")]
    [InlineData("TwaBot:Sandbox:StatusDelayMilliseconds", "600001")]
    [InlineData("TwaBot:DefaultTimeZone", "posix/Asia/Kolkata")] // a copy in the host's tz database, not a zone's name
    [InlineData("TwaBot:AdminKey", "0123456789abcde")] // one short of 16: shorter secrets are not taken out of the logs
    // Polly refuses these when the first call to Meta builds its pipeline: every send answered 500.
    [InlineData("TwaBot:Meta:Resilience:AttemptTimeoutSeconds", "0.001")]
    [InlineData("TwaBot:Meta:Resilience:AttemptTimeoutSeconds", "NaN")]
    [InlineData("TwaBot:Meta:Resilience:TotalTimeoutSeconds", "Infinity")]
    [InlineData("TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds", "2147483647")]
    [InlineData("TwaBot:Meta:Resilience:BreakerFailureRatio", "NaN")]
    [InlineData("TwaBot:Meta:Resilience:BreakerSamplingSeconds", "1e12")]
    [InlineData("TwaBot:Meta:Resilience:BreakerBreakSeconds", "604800")]
    [InlineData("TwaBot:Meta:Resilience:BreakerBreakSeconds", "0.4")]
    [InlineData("TwaBot:Meta:Resilience:TotalTimeoutSeconds", "5")] // shorter than one attempt (8 s by default)
    [InlineData("TwaBot:Meta:Resilience:MaxRetries", "6")]
    [InlineData("TwaBot:Meta:Resilience:BreakerFailureRatio", "0")]
    [InlineData("TwaBot:Meta:Resilience:BreakerMinimumThroughput", "1")]
    [InlineData("TwaBot:Sandbox:GraphLatencyMilliseconds", "60001")]
    // The version and paths are appended to the address: they would land in a query or a fragment.
    [InlineData("TwaBot:Meta:GraphBaseUrl", "https://graph.facebook.com/?x=1")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "https://graph.facebook.com/#top")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "https://user:password@graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphVersion", "v23.0\n")]
    [InlineData("TwaBot:Meta:GraphVersion", "v\u0662\u0663.\u0660")] // Arabic-Indic digits
    // A secret file's final line break, or padding: HTTP trims header values, so the secret could never match.
    [InlineData("TwaBot:AdminKey", "0123456789abcdef\n")]
    [InlineData("TwaBot:AdminKey", "  0123456789abcdef  ")]
    [InlineData("TwaBot:Meta:AppSecret", "0123456789abcdef\n")]
    [InlineData("TwaBot:Meta:VerifyToken", "0123456789abcdef ")]
    [InlineData("TwaBot:Meta:AppSecret", "x")] // Meta's are 32 characters; a short one makes signatures guessable
    // README's examples are public.
    [InlineData("TwaBot:AdminKey", "change-me-to-a-long-random-string")]
    [InlineData("TwaBot:Meta:AppSecret", "your-meta-app-secret")]
    [InlineData("TwaBot:Meta:VerifyToken", "your-webhook-verify-token")]
    // A misspelt setting used to leave its option at the default without a word.
    [InlineData("TwaBot:AdminKye", "0123456789abcdef")]
    [InlineData("TwaBot:RateLimits:GlobalPerMinut", "3")]
    [InlineData("TwaBot:Meta:Resilience:Retries", "0")]
    [InlineData("TwaBot:AdminKey:Value", "0123456789abcdef")] // nothing is below a value
    [InlineData("ConnectionStrings:TwaBot", "Data Source=")]
    [InlineData("ConnectionStrings:TwaBot", "Data Source=:memory:")]
    [InlineData("ConnectionStrings:TwaBot", "Data Source=twabot.db;Mode=Memory")]
    [InlineData("ConnectionStrings:TwaBot", "Data Source=twabot.db;Password=secret")]
    [InlineData("ConnectionStrings:TwaBot", "Data Source=twabot.db;Default Timeout=abc")]
    public void ABadValueIsReportedByItsSettingName(string setting, string value)
    {
        var report = Check(new() { [setting] = value }, Environments.Development);

        Assert.NotNull(report);
        Assert.Contains(setting, report, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute", "lots", "TwaBot:RateLimits:PerKeyPerMinute must be a whole number, such as 60 (got 'lots').")]
    [InlineData("TwaBot:Plans:Pro:DailyLimit", "1.5", "TwaBot:Plans:Pro:DailyLimit must be a whole number, such as 60 (got '1.5').")]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute", "", "TwaBot:RateLimits:GlobalPerMinute must be a whole number, such as 60 (got an empty value).")]
    [InlineData("TwaBot:Meta:Resilience:AttemptTimeoutSeconds", "8s", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds must be a number, such as 8 or 0.5 (got '8s').")]
    [InlineData("TwaBot:Sandbox:Enabled", "yes", "TwaBot:Sandbox:Enabled must be true or false (got 'yes').")]
    public void AValueOfTheWrongKindIsReportedInAnOperatorsWordsNotAsADotNetType(string setting, string value, string expected)
    {
        var report = Check(new() { [setting] = value }, Environments.Development);

        Assert.Contains("  - " + expected, report, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", report, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaultsAreValidInDevelopment()
    {
        Assert.Null(Check([], Environments.Development));
    }

    [Theory]
    [InlineData("TwaBot:RateLimits:OtpPerRecipientPerHour", "0")] // no cap
    [InlineData("TwaBot:RateLimits:FailedAuthPerMinute", "1")]
    [InlineData("TwaBot:Sandbox:StatusDelayMilliseconds", "0")]
    [InlineData("TwaBot:Sandbox:StatusDelayMilliseconds", "600000")]
    [InlineData("TwaBot:Sandbox:StatusBatchSize", "1")]
    [InlineData("TwaBot:Sandbox:StatusBatchSize", "1000")]
    [InlineData("TwaBot:Sandbox:GraphLatencyMilliseconds", "60000")]
    [InlineData("TwaBot:Webhooks:KeepBodiesDays", "1")]
    [InlineData("TwaBot:Webhooks:KeepBodiesDays", "3650")]
    [InlineData("TwaBot:AdminKey", "0123456789abcdef")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "http://meta-proxy.internal:8080")] // https is asked of live mode only
    public void EachRangesOwnBoundsAreAccepted(string setting, string value)
    {
        Assert.Null(Check(new() { [setting] = value }, Environments.Development));
    }

    [Fact]
    public void LiveModeRefusesTheSandboxsPublicVerifyToken()
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey;
        settings["TwaBot:Meta:VerifyToken"] = TwaBot.Api.Webhooks.WebhooksApi.SandboxVerifyToken;

        Assert.Contains("TwaBot:Meta:VerifyToken is the sandbox's", Check(settings, Environments.Production), StringComparison.Ordinal);
        Assert.Null(Check(new() { ["TwaBot:Meta:VerifyToken"] = TwaBot.Api.Webhooks.WebhooksApi.SandboxVerifyToken }, Environments.Development));
    }

    [Theory]
    [InlineData("short", "at least 16 characters")]
    [InlineData("0123456789abcdef\n", "whitespace or a line break")]
    [InlineData(TwaBotApiFactory.AdminKey, "is the same as TwaBot:AdminKey")]
    public void APreviousAdminKeyIsCheckedLikeTheAdminKeyAndMustDifferFromIt(string previous, string expected)
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey;
        settings["TwaBot:PreviousAdminKey"] = previous;

        var report = Check(settings, Environments.Production);

        Assert.Contains("TwaBot:PreviousAdminKey", report, StringComparison.Ordinal);
        Assert.Contains(expected, report, StringComparison.Ordinal);
    }

    [Fact]
    public void APreviousAdminKeyBesideTheAdminKeyIsValid()
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey;
        settings["TwaBot:PreviousAdminKey"] = "old-admin-key-0123456789abcdef";

        Assert.Null(Check(settings, Environments.Production));
    }

    [Fact]
    public void AVerifyTokenOfAnyLengthIsAccepted()
    {
        // Meta sets no length for it; the operator picks it, and it only guards the subscription handshake.
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey;
        settings["TwaBot:Meta:VerifyToken"] = "tok3n";

        Assert.Null(Check(settings, Environments.Production));
    }

    [Theory]
    [InlineData(typeof(IOException), "Failed to bind to address http://127.0.0.1:80: address already in use.", true)]
    [InlineData(typeof(FormatException), "Invalid url: 'foo'", true)]
    [InlineData(typeof(InvalidOperationException), "Unable to configure HTTPS endpoint. No server certificate was specified.", true)]
    [InlineData(typeof(IOException), "Disk full", false)]
    [InlineData(typeof(FormatException), "The input string 'abc' was not in a correct format.", false)]
    [InlineData(typeof(InvalidOperationException), "Sequence contains no elements", false)]
    [InlineData(typeof(HttpRequestException), "Connection refused", false)]
    public void ListenFailuresAreKestrelsBindErrorsOnly(Type type, string message, bool isOne)
    {
        Assert.Equal(isOne, ListenFailures.IsOne((Exception)Activator.CreateInstance(type, message)!));
    }

    [Theory]
    [InlineData(System.Net.Sockets.SocketError.AddressNotAvailable, true)]
    [InlineData(System.Net.Sockets.SocketError.AccessDenied, true)]
    [InlineData(System.Net.Sockets.SocketError.AddressAlreadyInUse, true)]
    [InlineData(System.Net.Sockets.SocketError.ConnectionRefused, false)] // a hosted service's call, not a bind
    [InlineData(System.Net.Sockets.SocketError.TimedOut, false)]
    public void OnlyASocketErrorOfBindingIsAListenFailure(System.Net.Sockets.SocketError code, bool isOne)
    {
        Assert.Equal(isOne, ListenFailures.IsOne(new System.Net.Sockets.SocketException((int)code)));
        Assert.Equal(isOne, ListenFailures.IsOne(new ArgumentOutOfRangeException(isOne ? "port" : "count")));
    }

    [Fact]
    public void AnAddressInUseIsAListenFailureWhateverItsMessage()
    {
        Assert.True(ListenFailures.IsOne(new IOException("in use", new Microsoft.AspNetCore.Connections.AddressInUseException("in use"))));
    }

    [Theory]
    [InlineData("http://0.0.0.0:8080", "http://+:5000", "8081", "the addresses of Kestrel:Endpoints")] // endpoints win over urls and ports
    [InlineData(null, "http://+:5000;https://+:5001", "8081", "http://+:5000;https://+:5001")]
    [InlineData(null, "", "8081", "port 8081")]
    [InlineData(null, null, null, "its default address")]
    public void AListenFailureNamesWhereTheServerWasToldToListen(string? endpoint, string? urls, string? httpPorts, string named)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Http:Url"] = endpoint,
            ["urls"] = urls,
            ["http_ports"] = httpPorts,
        }.Where(setting => setting.Value is not null)).Build();

        Assert.Equal(named, ListenFailures.ConfiguredAddresses(configuration));
    }

    [Fact]
    public void AListenFailureIsDescribedByTheFirstLineOfItsError()
    {
        var error = new IOException("Failed to bind to address http://127.0.0.1:80: address already in use.  \n ---> System.Net.Sockets.SocketException");

        Assert.Equal("TwaBot server cannot listen on port 80 (set by ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints or --urls): "
            + "Failed to bind to address http://127.0.0.1:80: address already in use.", ListenFailures.Describe(error, "port 80"));
    }

    [Fact]
    public void SettingNamesIgnoreCaseAsTheBinderDoes()
    {
        Assert.Null(Check(new() { ["twabot:ratelimits:globalperminute"] = "5", ["TWABOT:META:RESILIENCE:MAXRETRIES"] = "0" }, Environments.Development));
    }

    [Theory]
    [InlineData("https://graph.facebook.com", true)]
    [InlineData("http://127.0.0.1:8081", true)] // a proxy or a fake Meta on this machine
    [InlineData("http://[::1]:8081", true)]
    [InlineData("http://localhost:8081", true)]
    [InlineData("http://graph.facebook.com", false)] // every call carries a business's access token
    public void LiveModeCallsMetaOverHttpsUnlessItIsOnThisMachine(string graphBaseUrl, bool accepted)
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey;
        settings["TwaBot:Meta:GraphBaseUrl"] = graphBaseUrl;

        var report = Check(settings, Environments.Production);

        if (accepted)
        {
            Assert.Null(report);
        }
        else
        {
            Assert.Contains("TwaBot:Meta:GraphBaseUrl", report, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LiveModeNeedsMetaCredentialsAndAnAdminKey()
    {
        var report = Check([], Environments.Production);

        Assert.NotNull(report);
        Assert.Contains("TwaBot:Meta:AppSecret", report, StringComparison.Ordinal);
        Assert.Contains("TwaBot:Meta:VerifyToken", report, StringComparison.Ordinal);
        Assert.Contains("TwaBot:AdminKey", report, StringComparison.Ordinal);
        Assert.Contains("TwaBot:Sandbox:Enabled=true", report, StringComparison.Ordinal);
    }

    [Fact]
    public void LiveModeWithCredentialsIsValid()
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = TwaBotApiFactory.AdminKey;

        Assert.Null(Check(settings, Environments.Production));
    }

    [Theory]
    [InlineData("TwaBot__RateLimits__GlobalPerMinute", "0", "TwaBot:RateLimits:GlobalPerMinute must be at least 1 (got 0).")]
    [InlineData("Serilog__MinimumLevel__Default", "Verbos", "Serilog: The value Verbos is not a valid Serilog level.")] // was a stack trace, exit 134
    [InlineData("TwaBot__KeyRingFolder", "/proc/twabot-keys", // not at the first connect
        "TwaBot:KeyRingFolder: the key ring folder /proc/twabot-keys cannot be created or written")]
    [InlineData("TMPDIR", "/proc/twabot-tmp", // Data Protection makes each new key there first
        "TMPDIR: the temporary folder /proc/twabot-tmp/ cannot be written")]
    public async Task TheServerProcessStopsWithTheSettingsNameAndExitCode1(string variable, string value, string expected)
    {
        var (exitCode, output) = await RunServerAsync(new() { ["DOTNET_ENVIRONMENT"] = "Development", [variable] = value });

        AssertStoppedInOneLine(exitCode, output, expected);
    }

    [Theory] // the machine's LANG: a decimal comma, a Persian or Arabic minus sign, digits written as the operator wrote them or not
    [InlineData("de_DE.UTF-8", "TwaBot__Meta__Resilience__BreakerFailureRatio", "1.5",
        "TwaBot:Meta:Resilience:BreakerFailureRatio must be above 0 and at most 1 (got 1.5).")]
    [InlineData("fa_IR.UTF-8", "TwaBot__Meta__Resilience__BreakerFailureRatio", "1.5",
        "TwaBot:Meta:Resilience:BreakerFailureRatio must be above 0 and at most 1 (got 1.5).")]
    [InlineData("fa_IR.UTF-8", "TwaBot__RateLimits__OtpPerRecipientPerHour", "-1",
        "TwaBot:RateLimits:OtpPerRecipientPerHour must be 0 (no cap) or more (got -1).")]
    [InlineData("ar_SA.UTF-8", "TwaBot__Sandbox__StatusDelayMilliseconds", "-1",
        "TwaBot:Sandbox:StatusDelayMilliseconds must be between 0 and 600000 (got -1).")]
    public async Task TheServerProcessNamesABadSettingsValueAsWrittenWhateverTheMachinesCulture(
        string culture, string variable, string value, string expected)
    {
        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = "Development", ["LANG"] = culture, ["LC_ALL"] = culture, [variable] = value,
        });

        AssertStoppedInOneLine(exitCode, output, expected);
    }

    [Fact]
    public async Task ATempFolderTheServerCannotWriteStopsItNamingTheFolder()
    {
        // A container with a read-only root file system and no tmpfs on /tmp: Data Protection makes each new key
        // of the ring as a temp file there first, so the sandbox's seeding crashed at start (exit 134, a stack
        // trace) and a live server started healthy with every connect failing. /proc refuses files even to root.
        var (exitCode, output) = await RunServerAsync(new() { ["DOTNET_ENVIRONMENT"] = "Development", ["TMPDIR"] = "/proc/twabot-tmp" });

        AssertStoppedInOneLine(exitCode, output, "TMPDIR: the temporary folder /proc/twabot-tmp/ cannot be written");
    }

    [Theory]
    [InlineData("ASPNETCORE_HTTP_PORTS", "18686,18687")] // Kestrel read it as port 80: listened there as root, else "Permission denied"
    [InlineData("ASPNETCORE_HTTPS_PORTS", "8443 8444")]
    public async Task PortsNotSeparatedBySemicolonsStopTheServerNamingTheVariable(string variable, string value)
    {
        var (exitCode, output) = await RunServerAsync(new() { ["DOTNET_ENVIRONMENT"] = "Development", [variable] = value }, urls: null);

        AssertStoppedInOneLine(exitCode, output, $"{variable} must be port numbers separated by ';' (got \"{value}\")");
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", "otel-collector:4317", "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL")]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL must be grpc or http/protobuf")]
    public async Task AnOtlpSettingTheExporterWouldIgnoreStopsTheServerNamingIt(string variable, string value, string expected)
    {
        // The exporter would have sent to localhost:4317 over grpc instead, while the start's line named the setting's value.
        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = "Development", ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317", [variable] = value,
        });

        AssertStoppedInOneLine(exitCode, output, expected);
    }

    [Theory]
    [InlineData("Production", "TwaBot__AdminKy")] // reported as "Live mode needs TwaBot:AdminKey", the name written unsaid
    [InlineData("Development", "TwaBot__RateLimits__PerKeyPerMinut")] // beside a refused value, only that was reported
    public async Task AMisspeltSettingIsNamedWhenTheOptionsAreRefusedToo(string environmentName, string misspelt)
    {
        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = environmentName,
            [misspelt] = "60",
            ["TwaBot__RateLimits__GlobalPerMinute"] = "0",
        });

        AssertStoppedInOneLine(exitCode, output, $"{misspelt.Replace("__", ":", StringComparison.Ordinal)} is not a setting");
    }

    [Theory]
    [InlineData("garbage", "ConnectionStrings:TwaBot must be a SQLite connection string")]
    [InlineData("Data Source=/tmp/x.db;Colour=blue", "ConnectionStrings:TwaBot must be a SQLite connection string")]
    [InlineData("Data Source=/proc/twabot/twabot.db", "ConnectionStrings:TwaBot: the database file /proc/twabot/twabot.db cannot be opened, created or written")]
    public async Task ADatabaseSettingTheServerCannotUseStopsItWithTheSettingsName(string connectionString, string expected)
    {
        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__TwaBot"] = connectionString,
        });

        AssertStoppedInOneLine(exitCode, output, expected);
    }

    [Fact]
    public async Task ADatabaseFileTheServerCannotWriteStopsItWithTheSettingsName()
    {
        // As a file restored by root into a container that runs as another user: SQLite opens it read-only
        // without a word, and the first write failed with a stack trace (exit 134). Root here can write any
        // file, so the test opens it read-only by setting.
        var path = Path.Combine(Path.GetTempPath(), $"twabot-readonly-{Guid.NewGuid():N}.db");
        await using (var create = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await create.OpenAsync();
            await using var command = create.CreateCommand();
            command.CommandText = "CREATE TABLE restored (id INTEGER);";
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            var (exitCode, output) = await RunServerAsync(new()
            {
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__TwaBot"] = $"Data Source={path};Mode=ReadOnly",
            });

            AssertStoppedInOneLine(exitCode, output, $"the database file {path} cannot be opened, created or written");
            // A full disk fails the same write (SQLite's "disk I/O error" at start): the line names both causes.
            Assert.Contains("must be able to write it, the files beside it (-wal, -shm) and their folder, on a disk with free space", output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AnInboxFileTheServerCannotUseStopsItNamingTheInbox()
    {
        // The database file is sound (made by this start); the webhook inbox beside it is no SQLite file, as after a
        // copy that went wrong. The start's check tries both and names the one it cannot use.
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(folder.Path);
        var path = Path.Combine(folder.Path, "twabot.db");
        var inbox = TwaBot.Api.Webhooks.WebhookInboxFile.PathBeside(path);
        File.WriteAllBytes(inbox, [.. Enumerable.Repeat((byte)'Z', 8192)]);

        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__TwaBot"] = $"Data Source={path}",
        });

        AssertStoppedInOneLine(exitCode, output, $"ConnectionStrings:TwaBot: the database file {inbox} cannot be opened, created or written");
    }

    [Theory]
    [InlineData("29991231000000_FromALaterVersion")]
    // Named by the latest: "run that version or a later one" holds only for the version that applied it.
    [InlineData("29990101000000_FromALaterVersion", "29991231000000_FromALaterVersion")]
    public async Task ADatabaseUpgradedByANewerVersionStopsTheServerNamingTheMigration(params string[] unknownMigrations)
    {
        // An older server ran on beside a newer one's tables and columns without a word (docs said it would not).
        var path = Path.Combine(Path.GetTempPath(), $"twabot-newer-{Guid.NewGuid():N}.db");
        await using (var create = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await create.OpenAsync();
            await using var command = create.CreateCommand();
            command.CommandText = """
                CREATE TABLE "__EFMigrationsHistory" ("migration_id" TEXT NOT NULL PRIMARY KEY, "product_version" TEXT NOT NULL);
                """
                // The rows in no particular order: the history is read sorted, and the latest named.
                + string.Concat(Enumerable.Reverse(unknownMigrations).Select(id => $"""INSERT INTO "__EFMigrationsHistory" VALUES ('{id}', '10.0.0');"""));
            await command.ExecuteNonQueryAsync();
        }

        try
        {
            var (exitCode, output) = await RunServerAsync(new()
            {
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__TwaBot"] = $"Data Source={path}",
            });

            AssertStoppedInOneLine(exitCode, output,
                $"TwaBot server cannot start: the database {path} was upgraded by a newer version (migration {unknownMigrations[^1]}).");
        }
        finally
        {
            DatabaseFiles.Delete(path);
        }
    }

    [Fact]
    public async Task ADamagedDatabaseFileStopsTheServerInOneLineNamingIt()
    {
        // A sound header over damaged pages passes the start's write check; the first read of them (here the
        // migration history) stopped the server with a stack trace and exit code 134.
        var path = Path.Combine(Path.GetTempPath(), $"twabot-damaged-{Guid.NewGuid():N}.db");
        await using (var create = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await create.OpenAsync();
            await using var command = create.CreateCommand();
            command.CommandText = """
                CREATE TABLE "__EFMigrationsHistory" ("migration_id" TEXT NOT NULL PRIMARY KEY, "product_version" TEXT NOT NULL);
                INSERT INTO "__EFMigrationsHistory" VALUES ('20260101000000_Initial', '10.0.0');
                """;
            await command.ExecuteNonQueryAsync();
        }

        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Position = 4096; // page 2, the table's root page
            await file.WriteAsync(Enumerable.Repeat((byte)'Z', 4096).ToArray());
        }

        try
        {
            var (exitCode, output) = await RunServerAsync(new()
            {
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__TwaBot"] = $"Data Source={path}",
            });

            AssertStoppedInOneLine(exitCode, output,
                $"TwaBot server cannot start: the database file {path} is damaged (SQLite Error 11: 'database disk image is malformed'.). "
                + "Restore both database files from the latest backup");
            Assert.DoesNotContain("Failed executing DbCommand", output, StringComparison.Ordinal); // EF's line above it, with the query
        }
        finally
        {
            DatabaseFiles.Delete(path);
        }
    }

    [Fact]
    public async Task ASecondServerOnTheSameDatabaseStopsInOneLine()
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-owned-{Guid.NewGuid():N}.db");
        await using var first = await ServerProcess.StartAsync(databasePath: path);

        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__TwaBot"] = $"Data Source={path}",
        });

        AssertStoppedInOneLine(exitCode, output,
            $"TwaBot server cannot start: another TwaBot server is using the database {path} (it holds {path}.server-lock). "
            + "Run one server per database: limits, daily caps and Idempotency-Keys are kept in its memory. "
            + "Stop the other one first (in an upgrade, the old version before the new).");
        using var client = first.CreateClient();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        }
        catch (HttpRequestException down)
        {
            throw new InvalidOperationException($"The first server no longer answers after the second's start:\n{first.Output}", down);
        }
    }

    [Fact]
    public async Task ALockFileTheServerCannotOpenStopsItInOneLineSayingWhatToDo()
    {
        // A server once run as root leaves twabot.db.server-lock owned by root, which the restore's chown does not list:
        // the server's user then stopped with a stack trace and exit code 134. Root runs these tests and opens any file,
        // so a folder in the lock file's place stands in for one it may not open (the kernel refuses both alike).
        var path = Path.Combine(Path.GetTempPath(), $"twabot-lockfile-{Guid.NewGuid():N}.db");
        Directory.CreateDirectory($"{path}.server-lock");
        try
        {
            var (exitCode, output) = await RunServerAsync(new()
            {
                ["DOTNET_ENVIRONMENT"] = "Development",
                ["ConnectionStrings__TwaBot"] = $"Data Source={path}",
            });

            AssertStoppedInOneLine(exitCode, output,
                $"TwaBot server cannot start: it cannot open {path}.server-lock, the file that keeps a second server off the database {path} (");
            Assert.Contains("give it to the server's user (chown), or delete it while no server runs on the database", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete($"{path}.server-lock");
            DatabaseFiles.Delete(path);
        }
    }

    [Fact]
    public async Task AnAddressTheServerCannotListenOnStopsItInOneLine()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var (exitCode, output) = await RunServerAsync(new() { ["DOTNET_ENVIRONMENT"] = "Development" }, url);

        AssertStoppedInOneLine(exitCode, output, $"TwaBot server cannot listen on {url} (set by ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints or --urls): "
            + $"Failed to bind to address {url}: address already in use.");
    }

    [Fact]
    public async Task AFirstSandboxStartThatCannotListenLeavesTheKeyToTheStartThatCan()
    {
        // The key is shown once: a start that stops on a busy port must not have made and printed it above its error.
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var path = Path.Combine(Path.GetTempPath(), $"twabot-busy-{Guid.NewGuid():N}.db");

        var (exitCode, output) = await RunServerAsync(new()
        {
            ["DOTNET_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__TwaBot"] = $"Data Source={path}",
        }, $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}");

        Assert.Equal(1, exitCode);
        Assert.DoesNotContain("twb_test_", output, StringComparison.Ordinal);
        await using var next = await ServerProcess.StartAsync(databasePath: path);
        using var client = next.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", next.SeededApiKey());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/health")).StatusCode);
    }

    [Fact]
    public async Task AProductionServerWithoutCredentialsRefusesToStart()
    {
        var (exitCode, output) = await RunServerAsync(new() { ["DOTNET_ENVIRONMENT"] = "Production" });

        AssertStoppedInOneLine(exitCode, output, "Live mode needs TwaBot:Meta:AppSecret");
    }

    [Fact]
    public async Task ProductionRunsTheSandboxOnlyWhenAskedExplicitly()
    {
        await using var factory = new TwaBotApiFactory(
            new Dictionary<string, string?> { ["TwaBot:Sandbox:Enabled"] = "true" }, environment: "Production");
        var (_, client, key) = await factory.CreateTenantAsync();

        var json = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("sandbox", json.GetProperty("mode").GetString());
        Assert.StartsWith("twb_test_", key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevelopmentRunsWithZeroConfigurationAndMakesItsOwnAdminKey()
    {
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:AdminKey"] = "" });
        using var client = factory.CreateAdminClient();

        var health = await client.GetAsync("/api/v1/health");
        var admin = await client.GetAsync("/admin/v1/businesses/1");

        await health.AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
        await admin.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    /// <summary>Binds and validates as the server does at start; returns the report, or null when valid.</summary>
    private static string? Check(Dictionary<string, string?> settings, string environment)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton<IHostEnvironment>(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = environment })
            .AddTwaBotOptions(configuration);
        using var provider = services.BuildServiceProvider();
        return ConfigurationErrors.Check(provider);
    }

    /// <summary>Exit code 1 and the message, without a stack trace.</summary>
    private static void AssertStoppedInOneLine(int exitCode, string output, string expected)
    {
        Assert.Equal(1, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    /// <summary>Starts the real server binary with these environment variables and waits for it to exit.</summary>
    private static async Task<(int ExitCode, string Output)> RunServerAsync(
        Dictionary<string, string> environment, string? urls = "http://127.0.0.1:0")
    {
        // Without urls, the addresses come from the environment (ASPNETCORE_HTTP_PORTS), as in the Docker image.
        var start = new ProcessStartInfo("dotnet", urls is null ? [typeof(Program).Assembly.Location] : [typeof(Program).Assembly.Location, "--urls", urls])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        // A file of its own unless the test names one, deleted afterwards (a server that stops late may have made it).
        var ownDatabase = environment.ContainsKey("ConnectionStrings__TwaBot") ? null : Path.Combine(Path.GetTempPath(), $"twabot-cfg-{Guid.NewGuid():N}.db");
        if (ownDatabase is not null)
        {
            start.Environment["ConnectionStrings__TwaBot"] = $"Data Source={ownDatabase}";
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The server did not stop within 60 s:\n{await output}{await error}");
        }
        finally
        {
            if (ownDatabase is not null)
            {
                await process.WaitForExitAsync(CancellationToken.None);
                DatabaseFiles.Delete(ownDatabase);
            }
        }

        return (process.ExitCode, await output + await error);
    }
}
