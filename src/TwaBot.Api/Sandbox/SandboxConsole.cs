using TwaBot.Api.Admin;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// Prints the secrets a developer needs to try the sandbox (the generated admin key) straight to
/// the console, once the server listens (after the first-start key, so the two read together). They are deliberately
/// not log events, so no log sink ever holds them.
/// </summary>
internal sealed class SandboxConsole(AdminKeyProvider adminKey) : OnceListening
{
    public override Task StartedAsync(CancellationToken cancellationToken)
    {
        if (adminKey.GeneratedKey is { } generated)
        {
            Console.Out.WriteLine(
                $"""

                 TwaBot sandbox: no TwaBot:AdminKey configured, so this run uses a generated admin key:
                     X-Admin-Key: {generated}
                 (It changes on every start. Set TwaBot:AdminKey to keep one.)

                """);
        }

        return Task.CompletedTask;
    }
}
