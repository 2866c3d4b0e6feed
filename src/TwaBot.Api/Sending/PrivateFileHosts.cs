using System.Net;
using System.Net.Sockets;

namespace TwaBot.Api.Sending;

/// <summary>
/// File URL hosts Meta cannot download from: Meta's servers fetch a media file over the internet, so a link to this
/// machine (<c>localhost</c>, loopback) or to a private, link-local, shared (CGNAT), unspecified, multicast, reserved,
/// documentation or benchmarking address reaches nothing, and the send would fail later at Meta instead of at once. Judged from the URL as written: literal
/// addresses and <c>localhost</c> names only, never a DNS lookup (a public name may still point anywhere).
/// </summary>
public static class PrivateFileHosts
{
    /// <summary>
    /// Why Meta cannot reach <paramref name="host"/> (a <see cref="Uri.Host"/>: an IPv6 address in brackets), or null
    /// for a public address or an ordinary name.
    /// </summary>
    public static string? Unreachable(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = host.TrimEnd('.'); // "localhost." is the same name, fully qualified
        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return "a localhost name, which is this machine";
        }

        // An address with the name's trailing dot ("10.0.0.1.") is the address: URL parsers and resolvers read it so.
        if (!IPAddress.TryParse(name.Trim('[', ']'), out var address))
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4(); // ::ffff:10.0.0.1 is 10.0.0.1
        }
        else if (IsIPv4Compatible(address) || IsNat64(address))
        {
            address = new IPAddress(address.GetAddressBytes()[12..]); // the older form ::10.0.0.1 too, and 64:ff9b::10.0.0.1
        }

        return address.AddressFamily == AddressFamily.InterNetwork ? OfIPv4(address.GetAddressBytes()) : OfIPv6(address);
    }

    /// <summary>::a.b.c.d (RFC 4291's deprecated IPv4-compatible form), but not :: and ::1, which are IPv6's own.</summary>
    private static bool IsIPv4Compatible(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId == 0
        && address.GetAddressBytes() is var bytes && bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0
        && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback);

    /// <summary>
    /// 64:ff9b::a.b.c.d (RFC 6052's well-known NAT64 prefix): a NAT64 gateway sends it on to a.b.c.d, so it reaches what
    /// that address reaches.
    /// </summary>
    private static bool IsNat64(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6
        && address.GetAddressBytes() is [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0, ..];

    private static string? OfIPv4(byte[] a) => a switch
    {
        [0, ..] => "an address of 0.0.0.0/8 (\"this network\"), which is not routed",
        [127, ..] => "a loopback address, which is this machine",
        [10, ..] or [172, >= 16 and <= 31, ..] or [192, 168, ..] => "a private network address",
        [169, 254, ..] => "a link-local address",
        [100, >= 64 and <= 127, ..] => "a carrier-grade NAT (shared) address",
        [>= 224 and <= 239, ..] => "a multicast address, which names a group, not a server",
        [>= 240, ..] => "a reserved address of 240.0.0.0/4 (the broadcast address included), which is not routed",
        [192, 0, 2, _] or [198, 51, 100, _] or [203, 0, 113, _] => "an address reserved for documentation, which is not routed",
        [198, 18 or 19, ..] => "an address reserved for network benchmarks, which is not routed",
        _ => null,
    };

    private static string? OfIPv6(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        return address.Equals(IPAddress.IPv6Any) ? "the unspecified address ::"
            : address.Equals(IPAddress.IPv6Loopback) ? "a loopback address, which is this machine"
            : (bytes[0] & 0xFE) == 0xFC ? "a unique-local (private) address"
            : bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80 ? "a link-local address"
            : bytes[0] == 0xFF ? "a multicast address, which names a group, not a server"
            : bytes is [0x20, 0x01, 0x0D, 0xB8, ..] ? "an address reserved for documentation, which is not routed"
            : null;
    }
}
