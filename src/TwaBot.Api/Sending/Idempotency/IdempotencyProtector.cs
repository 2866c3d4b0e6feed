using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace TwaBot.Api.Sending.Idempotency;

/// <summary>
/// What is stored for an <c>Idempotency-Key</c> is encrypted with the key ring that encrypts Meta access tokens
/// (<see cref="Businesses.KeyRing"/>): a kept answer to send-otp holds the one-time code, and a request's plain
/// SHA-256 would give the code back to anyone with the database who tries the million six-digit codes. Values an
/// earlier version stored in plain text are read as they are.
/// </summary>
public sealed class IdempotencyProtector(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("TwaBot.Idempotency");

    public byte[] Protect(byte[] value) => _protector.Protect(value);

    /// <summary>A kept answer's JSON body, or null when this key ring cannot decrypt it.</summary>
    /// <remarks>Plain JSON starts with '{'; Data Protection's output never does (it starts with its magic header).</remarks>
    public byte[]? UnprotectAnswer(byte[] stored) => stored is [(byte)'{', ..] ? stored : TryUnprotect(stored);

    /// <summary>A request's SHA-256, or null when this key ring cannot decrypt it.</summary>
    /// <remarks>A plain hash is exactly its length; encrypted, it is several times longer.</remarks>
    public byte[]? UnprotectRequestHash(byte[] stored) => stored.Length == SHA256.HashSizeInBytes ? stored : TryUnprotect(stored);

    /// <summary>The id of the ring key a stored value was encrypted with, or null when it is not Data Protection's output.</summary>
    /// <remarks>Data Protection writes its magic header (09 F0 C9 F0), then the key's id: no secret, it names the key's file.</remarks>
    public static Guid? KeyIdOf(byte[] stored) =>
        stored is [0x09, 0xF0, 0xC9, 0xF0, ..] && stored.Length >= 20 ? new Guid(stored.AsSpan(4, 16)) : null;

    private byte[]? TryUnprotect(byte[] stored)
    {
        try
        {
            return _protector.Unprotect(stored);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
