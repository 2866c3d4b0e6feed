using System.Net.Sockets;

namespace TwaBot.Api.Http;

/// <summary>
/// Kestrel failing to open its addresses (a port in use, an address not on this machine, a malformed
/// ASPNETCORE_URLS, HTTPS without a certificate): an operator's mistake, reported by Program as one line
/// and exit code 1, not as the host's stack trace and an abort.
/// </summary>
public static class ListenFailures
{
    public static bool IsOne(Exception? error) => error switch
    {
        IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException } => true,
        IOException e => e.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal),
        // Raised by Kestrel's bind itself: an address not on this machine, a port below 1024 without the right.
        SocketException { SocketErrorCode: SocketError.AddressNotAvailable or SocketError.AccessDenied or SocketError.AddressAlreadyInUse } => true,
        FormatException e => e.Message.StartsWith("Invalid url", StringComparison.Ordinal),
        ArgumentOutOfRangeException { ParamName: "port" } => true,
        InvalidOperationException e => e.Message.StartsWith("Unable to configure HTTPS endpoint", StringComparison.Ordinal),
        _ => false,
    };

    /// <summary>Where the server was told to listen, read before it starts (the host is disposed when its start fails).</summary>
    public static string ConfiguredAddresses(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            return "the addresses of Kestrel:Endpoints";
        }

        if (configuration["urls"] is { Length: > 0 } urls)
        {
            return urls;
        }

        var ports = new[] { configuration["http_ports"], configuration["https_ports"] }.Where(p => !string.IsNullOrEmpty(p)).ToList();
        return ports.Count > 0 ? $"port {string.Join(", ", ports)}" : "its default address";
    }

    public static string Describe(Exception error, string addresses)
    {
        ArgumentNullException.ThrowIfNull(error);
        return $"TwaBot server cannot listen on {addresses} (set by ASPNETCORE_URLS, ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints or --urls): {FirstLine(error.Message)}";
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd();
}
