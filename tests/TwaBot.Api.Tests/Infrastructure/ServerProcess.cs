using System.Diagnostics;
using System.Net;
using System.Text;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// The real server binary, started as its own process on a loopback port of its own with its own database
/// file: what Postman, curl and newman talk to. Output is kept for failure messages.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _databasePath;
    private Uri? _address;

    private ServerProcess(Process process, string databasePath)
    {
        _process = process;
        _databasePath = databasePath;
    }

    /// <summary>Where the server listens, as it said in its "Now listening on" line (known once <see cref="StartAsync"/> returns).</summary>
    public Uri Address => _address ?? throw new InvalidOperationException($"The server has not said where it listens yet:\n{Output}");

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
        if (databasePath is null)
        {
            // A new file: a copy of the migrated template, as a factory's (tests of the start's migration name their own file).
            databasePath = Path.Combine(Path.GetTempPath(), $"twabot-process-{Guid.NewGuid():N}.db");
            MigratedDatabaseTemplate.CopyTo(databasePath);
        }

        // Port 0: the kernel's choice at the bind itself. A port found free beforehand could be taken by another test's server
        // before this one bound it, and /healthz then answered from that server until it stopped.
        var start = new ProcessStartInfo("dotnet", [typeof(Program).Assembly.Location, "--urls", "http://127.0.0.1:0"])
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

        var server = new ServerProcess(Process.Start(start)!, databasePath);
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
        using var client = new HttpClient();
        try
        {
            await Poll.UntilAsync(async () =>
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException($"The server exited with code {_process.ExitCode}:\n{Output}");
                }

                if (_address is null)
                {
                    if (ListeningLine().Match(Output) is not { Success: true } listening)
                    {
                        return false;
                    }

                    _address = new Uri(listening.Groups["address"].Value);
                }

                try
                {
                    return (await client.GetAsync(new Uri(_address, "/healthz"))).StatusCode == HttpStatusCode.OK;
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

    /// <summary>Kestrel's start line, as text or as Serilog's compact JSON (<c>"@mt":"Now listening on: {address}","address":"…"</c>).</summary>
    [System.Text.RegularExpressions.GeneratedRegex("""Now listening on: (\{address\}",\s*"address":")?(?<address>http://127\.0\.0\.1:[0-9]+)""")]
    private static partial System.Text.RegularExpressions.Regex ListeningLine();
}
