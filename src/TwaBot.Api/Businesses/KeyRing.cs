using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;

namespace TwaBot.Api.Businesses;

/// <summary>
/// The folder of Data Protection keys that encrypt Meta access tokens (<see cref="AccessTokenProtector"/>) and what
/// Idempotency-Keys keep (<see cref="Sending.Idempotency.IdempotencyProtector"/>):
/// <c>TwaBot:KeyRingFolder</c>, or beside the database (<c>twabot.db</c> → <c>twabot.keys</c>), so that it sits
/// on the same volume. A database restored without its key ring keeps everything but the tokens; backups take both.
/// </summary>
public sealed class KeyRing(string folder)
{
    public string Folder { get; } = folder;

    /// <summary>The configured folder (relative to the content root), or the one beside the database file.</summary>
    internal static string FolderFor(string? configured, string databaseFile, string contentRoot)
    {
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return Path.GetFullPath(configured, contentRoot);
        }

        var extension = Path.GetExtension(databaseFile);
        return Path.GetFullPath(databaseFile[..^extension.Length] + ".keys", contentRoot);
    }

    /// <summary>
    /// Why the server could not use the folder (it cannot be created, a file cannot be written and removed in it,
    /// a key in it cannot be read, as after a restore by root, or the temporary folder new keys pass through cannot
    /// be written), or null. Checked at start: Data Protection
    /// itself would only log the failure, and every token would then look lost.
    /// </summary>
    internal string? Problem()
    {
        var probe = Path.Combine(Folder, $".write-check-{Guid.NewGuid():N}");
        try
        {
            CreateOwnerOnly();
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"TwaBot:KeyRingFolder: the key ring folder {Folder} cannot be created or written ({error.Message}); "
                + "the server's user must be able to write it (it holds the keys that encrypt Meta access tokens)";
        }

        // Data Protection makes each new key as an empty file in the temporary folder (Path.GetTempFileName, so TMPDIR
        // or /tmp) and moves it here: a container whose root file system is read-only, /tmp included, could make no key.
        try
        {
            File.Delete(Path.GetTempFileName());
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return $"TMPDIR: the temporary folder {Path.GetTempPath()} cannot be written ({error.Message}); "
                + "Data Protection makes each new key of the key ring there first: make it writable (a read-only container: "
                + "--tmpfs /tmp) or point TMPDIR at a folder the server's user can write";
        }

        foreach (var key in Directory.EnumerateFiles(Folder, "*.xml"))
        {
            try
            {
                using var readable = File.OpenRead(key);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                return $"TwaBot:KeyRingFolder: the key {key} cannot be read ({error.Message}); "
                    + "the server's user must be able to read every file of the key ring (chown -R after a restore)";
            }
        }

        return null;
    }

    /// <summary>
    /// A folder made here is the server's user's alone (<c>0700</c>), as the database files are <c>0600</c>: Data
    /// Protection makes its key files private, but the umask's usual <c>0755</c> would let anyone list them. A missing
    /// parent (the database's folder) is made as usual, since the mode applies to the last folder only; a folder that
    /// exists keeps its mode.
    /// </summary>
    private void CreateOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(Folder);
        }
        else
        {
            Directory.CreateDirectory(Folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}

public static class AccessTokenProtectionExtensions
{
    public static IServiceCollection AddAccessTokenProtection(this IServiceCollection services)
    {
        services.AddSingleton(provider => new KeyRing(KeyRing.FolderFor(
            provider.GetRequiredService<IOptions<TwaBotOptions>>().Value.KeyRingFolder,
            new SqliteConnectionStringBuilder(provider.GetRequiredService<SqliteConnections>().ConnectionString).DataSource,
            provider.GetRequiredService<IHostEnvironment>().ContentRootPath)));
        // A fixed application name: by default the ring is tied to the content root, and moving the
        // installation to another folder would make every stored token unreadable.
        services.AddDataProtection().SetApplicationName("TwaBot");
        services.AddOptions<KeyManagementOptions>().Configure<KeyRing, ILoggerFactory>((options, keyRing, loggers) =>
            options.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(keyRing.Folder), loggers));
        services.AddSingleton<AccessTokenProtector>();
        return services;
    }
}
