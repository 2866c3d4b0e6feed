namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>A folder path of the test's own under the temp folder (not created); deleted with its contents on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"twabot-folder-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
