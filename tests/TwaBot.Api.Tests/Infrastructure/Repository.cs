using System.Diagnostics;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>Files of the repository the tests read (README, Postman collection) and its Node tools.</summary>
public static class Repository
{
    private static readonly SemaphoreSlim NpmInstall = new(1, 1);

    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>
    /// A Node tool of package.json (newman, redocly), installed with <c>npm ci</c> on first use on a fresh machine,
    /// or when package.json gained it since the last install.
    /// </summary>
    public static async Task<string> NodeToolAsync(string name)
    {
        var tool = PathOf($"node_modules/.bin/{name}");
        await NpmInstall.WaitAsync();
        try
        {
            if (!File.Exists(tool))
            {
                var (exitCode, output) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], TimeSpan.FromMinutes(5));
                Assert.True(exitCode == 0, $"npm ci failed ({exitCode}):\n{output}");
            }
        }
        finally
        {
            NpmInstall.Release();
        }

        return tool;
    }

    /// <summary>The tool's exit code and its output, standard output then standard error.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (exitCode, standardOutput, standardError) = await RunApartAsync(fileName, arguments, timeout, environment);
        return (exitCode, standardOutput + standardError);
    }

    /// <summary>
    /// The tool's exit code, standard output and standard error apart: for an answer read from standard output, which a warning
    /// on standard error must not spoil (bash's "setlocale: LC_ALL: cannot change locale" where LC_ALL names a locale the machine lacks).
    /// </summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunApartAsync(
        string fileName, IEnumerable<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Root,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} did not finish within {timeout}.");
        }

        return (process.ExitCode, await output, await error);
    }

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "TwaBot.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("TwaBot.sln not found above " + AppContext.BaseDirectory);
    }
}
