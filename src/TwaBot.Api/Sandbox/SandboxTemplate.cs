namespace TwaBot.Api.Sandbox;

/// <summary>
/// A template as the emulated Meta knows it: its own store, apart from the server's <c>templates</c>
/// table, so template sync and sends behave as against the real Graph API.
/// </summary>
public sealed class SandboxTemplate
{
    public long Id { get; set; }

    public required string WabaId { get; set; }

    public required string MetaId { get; set; }

    public required string Name { get; set; }

    public required string Language { get; set; }

    public required string Category { get; set; }

    public required string Status { get; set; }

    public required string Body { get; set; }

    public string? HeaderText { get; set; }

    public string? FooterText { get; set; }

    /// <summary>Meta's reason for a rejection (INVALID_FORMAT, …), or null, which the list answers as NONE.</summary>
    public string? RejectedReason { get; set; }

    /// <summary>Meta's quality score (GREEN, YELLOW, RED), or null, which the list answers as UNKNOWN (not scored yet).</summary>
    public string? QualityScore { get; set; }

    /// <summary>The BUTTONS component's buttons as submitted (a JSON array), or null when it has none.</summary>
    public string? ButtonsJson { get; set; }
}
