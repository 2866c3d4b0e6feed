using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// The real server binary, started as its own process on a free loopback port with its own database
/// file: what Postman, curl and newman talk to. Output is kept for failure messages.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _databasePath;

    private ServerProcess(Process process, Uri address, string databasePath)
    {
        _process = process;
        Address = address;
        _databasePath = databasePath;
    }

    public Uri Address { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts the server (sandbox mode unless settings say otherwise) on <paramref name="databasePath"/> (when null, a new
    /// copy of the migrated template, <see cref="MigratedDatabaseTemplate"/>) and waits until /healthz answers.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(IReadOnlyDictionary<string, string>? settings = null, string? databasePath = null)
    {
        var server = Launch(settings, databasePath);
        await server.WaitUntilServingAsync();
        return server;
    }

    /// <summary>Starts the server without waiting for it, on <paramref name="databasePath"/> (a copy of the migrated template when null).</summary>
    public static ServerProcess Launch(IReadOnlyDictionary<string, string>? settings = null, string? databasePath = null)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}");
        if (databasePath is null)
        {
            // A new file: a copy of the migrated template, as a factory's (tests of the start's migration name their own file).
            databasePath = Path.Combine(Path.GetTempPath(), $"twabot-process-{Guid.NewGuid():N}.db");
            MigratedDatabaseTemplate.CopyTo(databasePath);
        }

        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", address.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(typeof(Program).Assembly.Location)!,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ConnectionStrings__TwaBot"] = $"Data Source={databasePath}";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var server = new ServerProcess(Process.Start(start)!, address, databasePath);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Ends the process at once (SIGKILL), as a crash or an out-of-memory kill would.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>Sends SIGTERM, as Docker and systemd stop a service, and returns the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan limit)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(limit);
        return _process.ExitCode;
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address };

    /// <summary>The sandbox key the server printed on its first start.</summary>
    public string SeededApiKey() => Printed("twb_test_[A-Za-z0-9]{49}", "sandbox key");

    /// <summary>The admin key a sandbox server without <c>TwaBot:AdminKey</c> printed for this run.</summary>
    public string PrintedAdminKey() => Printed("twb_admin_[0-9a-f]+", "admin key");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A stop first: a killed runtime leaves its diagnostic socket and debugger pipes
            // (dotnet-diagnostic-*, clr-debug-pipe-*) in the temp folder.
            try
            {
                await TerminateAsync(TimeSpan.FromSeconds(10));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        DatabaseFiles.Delete(_databasePath);
    }

    private async Task WaitUntilServingAsync()
    {
        using var client = CreateClient();
        try
        {
            await Poll.UntilAsync(async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
                }

                try
                {
                    return (await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false; // not listening yet
                }
            }, "the server to answer /healthz", Poll.ProcessStartLimit);
        }
        catch (TimeoutException slow)
        {
            throw new TimeoutException($"{slow.Message}:\n{Output}", slow);
        }
    }

    /// <summary>
    /// The output once something in it matches <paramref name="pattern"/> (or as it is after 5 s). The banners are
    /// printed as the start ends, so /healthz may answer before the output reader has taken in their lines.
    /// </summary>
    public string OutputMatching(string pattern)
    {
        System.Threading.SpinWait.SpinUntil(() => System.Text.RegularExpressions.Regex.IsMatch(Output, pattern), TimeSpan.FromSeconds(5));
        return Output;
    }

    private string Printed(string pattern, string what)
    {
        var key = System.Text.RegularExpressions.Regex.Match(OutputMatching(pattern), pattern).Value;
        return key.Length > 0 ? key : throw new InvalidOperationException($"No {what} in the server's output:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
