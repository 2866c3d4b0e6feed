using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace TwaBot.Bench;

/// <summary>
/// The Release build of the server as its own process: sandbox mode in the Production environment,
/// on a free loopback port, with a fresh SQLite file, the emulator answering sends after 20 ms, limits
/// out of the way, and only warnings logged. The seeded sandbox key is read from its console.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    public const int GraphLatencyMilliseconds = 20;
    private const int MaxKeptLines = 200;

    private readonly Process _process;
    private readonly Queue<string> _output = new();

    private ServerProcess(Process process, Uri address, string databasePath, string adminKey, string appSecret)
    {
        _process = process;
        Address = address;
        DatabasePath = databasePath;
        AdminKey = adminKey;
        AppSecret = appSecret;
    }

    public Uri Address { get; }

    public string DatabasePath { get; }

    public string AdminKey { get; }

    public string AppSecret { get; }

    /// <summary>The seeded Sandbox Business's key, printed once at first start.</summary>
    public string ApiKey { get; private set; } = "";

    public int ProcessId => _process.Id;

    public static async Task<ServerProcess> StartAsync(string repositoryRoot, bool statusWebhooks)
    {
        var dll = Path.Combine(repositoryRoot, "src/TwaBot.Api/bin/Release/net10.0/TwaBot.Api.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"No Release build of the server at {dll}; run bench/run.sh, which builds it.");
        }

        var address = new Uri($"http://127.0.0.1:{FreePort()}/");
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-bench-{Guid.NewGuid():N}.db");
        var adminKey = "bench_admin_" + RandomNumberGenerator.GetHexString(32, lowercase: true);
        var appSecret = RandomNumberGenerator.GetHexString(32, lowercase: true);
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", address.ToString().TrimEnd('/')])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["ConnectionStrings__TwaBot"] = $"Data Source={databasePath}",
            ["TwaBot__Sandbox__Enabled"] = "true",
            ["TwaBot__Sandbox__BenchmarkReferences"] = "true",
            ["TwaBot__Sandbox__GraphLatencyMilliseconds"] = GraphLatencyMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["TwaBot__Sandbox__StatusWebhooks"] = statusWebhooks ? "true" : "false",
            ["TwaBot__AdminKey"] = adminKey,
            ["TwaBot__Meta__AppSecret"] = appSecret,
            // The bench measures the send path, not the limits in front of it.
            ["TwaBot__RateLimits__GlobalPerMinute"] = "100000000",
            ["TwaBot__RateLimits__PerKeyPerMinute"] = "100000000",
            ["TwaBot__Plans__Pro__DailyLimit"] = "100000000",
            // One Information line per request would make the console part of what is measured.
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        // Experiments give the server (not the bench) a setting as BENCH_SERVER_<name>=<value>.
        const string ServerOnly = "BENCH_SERVER_";
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (name.StartsWith(ServerOnly, StringComparison.Ordinal) && name.Length > ServerOnly.Length)
            {
                settings[name[ServerOnly.Length..]] = (string)entry.Value!;
            }
        }
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        var server = new ServerProcess(Process.Start(start)!, address, databasePath, adminKey, appSecret);
        server._process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server.WaitUntilReadyAsync();
        return server;
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address };

    /// <summary>The seeded business's WhatsApp number, from the admin API.</summary>
    public async Task<SandboxNumber> SandboxNumberAsync()
    {
        using var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/admin/v1/businesses/1", UriKind.Relative)));
        var whatsapp = document.RootElement.GetProperty("business").GetProperty("whatsapp");
        return new SandboxNumber(
            whatsapp.GetProperty("phone_number_id").GetString()!, whatsapp.GetProperty("waba_id").GetString()!,
            whatsapp.GetProperty("display_phone_number").GetString() ?? "15550000000");
    }

    /// <summary>The last lines the server printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first: a killed runtime leaves its diagnostic socket and debugger pipes in the temp folder.
            using (var stop = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await stop.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(DatabasePath + suffix);
            File.Delete(InboxProbe.InboxFile(DatabasePath) + suffix);
        }

        File.Delete(DatabasePath + ".server-lock"); // the server's claim on the database (released when it ended)

        var keyRing = Path.ChangeExtension(DatabasePath, ".keys"); // the server's key ring for Meta access tokens
        if (Directory.Exists(keyRing))
        {
            Directory.Delete(keyRing, recursive: true);
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        using var client = CreateClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
            }

            ApiKey = SandboxKey().Match(Output).Value;
            try
            {
                using var health = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (health.StatusCode == HttpStatusCode.OK && ApiKey.Length > 0)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The server did not answer /healthz with its sandbox key printed within 60 s:\n{Output}");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            // Only the last lines matter; the key is printed at start, before any load.
            if (_output.Count > MaxKeptLines && ApiKey.Length > 0)
            {
                _output.Dequeue();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("twb_test_[A-Za-z0-9]{49}")]
    private static partial Regex SandboxKey();
}

/// <summary>The sandbox business's WhatsApp number as Meta's webhooks name it.</summary>
public sealed record SandboxNumber(string PhoneNumberId, string WabaId, string DisplayPhoneNumber);
