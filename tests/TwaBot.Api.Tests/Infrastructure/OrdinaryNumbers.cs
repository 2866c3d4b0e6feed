namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>Customer numbers drawn at random, for tests whose customer must be a new one.</summary>
public static class OrdinaryNumbers
{
    /// <summary>
    /// An Indian mobile (twelve digits, 9198…) the sandbox emulator treats as an ordinary customer: its last four digits are
    /// 1000–9999, never one of the magic endings (<see cref="TwaBot.Api.Sandbox.MagicNumbers"/>, all 0…), which refuse a send
    /// or fail it. Any eight digits would draw one about once in 2,500 runs.
    /// </summary>
    public static string Any() => $"9198{Random.Shared.Next(1_000, 10_000)}{Random.Shared.Next(1_000, 10_000)}";
}
