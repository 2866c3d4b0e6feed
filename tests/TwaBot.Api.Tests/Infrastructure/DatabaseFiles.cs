using TwaBot.Api.Businesses;
using TwaBot.Api.Data;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>The files a server keeps for one database: the file, its inbox file, their WAL files, and the key ring folder.</summary>
internal static class DatabaseFiles
{
    public static void Delete(string databasePath)
    {
        foreach (var file in new[] { databasePath, WebhookInboxFile.PathBeside(databasePath) })
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(file + suffix);
            }
        }

        File.Delete(DatabaseOwnership.LockPathOf(databasePath));

        var keyRing = KeyRing.FolderFor(configured: null, databasePath, Path.GetTempPath());
        if (Directory.Exists(keyRing))
        {
            Directory.Delete(keyRing, recursive: true);
        }
    }
}
