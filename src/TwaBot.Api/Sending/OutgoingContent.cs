namespace TwaBot.Api.Sending;

/// <summary>A validated message to send: the normalized recipient and what to send them.</summary>
public abstract record OutgoingContent(string Phone);

/// <summary>Sends that name a template: send-template, send-otp, quick-send with template=.</summary>
public interface ITemplateContent
{
    string TemplateName { get; }

    string Language { get; }

    /// <summary>How many body parameters the send gives ({{1}}, {{2}}, …).</summary>
    int BodyParameterCount { get; }
}

public sealed record TemplateContent(
    string Phone, string TemplateName, string Language, IReadOnlyList<string> BodyParams, IReadOnlyList<string> HeaderParams)
    : OutgoingContent(Phone), ITemplateContent
{
    public int BodyParameterCount => BodyParams.Count;

    /// <summary>Values for the template's buttons that take one, in the buttons' order.</summary>
    public IReadOnlyList<string> ButtonParams { get; init; } = [];
}

public sealed record TextContent(string Phone, string Text) : OutgoingContent(Phone);

public sealed record MediaContent(string Phone, string MediaType, string MediaUrl, string? Caption, string? Filename)
    : OutgoingContent(Phone);

/// <summary>An OTP goes out through an authentication template with the code as its one parameter.</summary>
public sealed record OtpContent(string Phone, string TemplateName, string Language, string Code)
    : OutgoingContent(Phone), ITemplateContent
{
    public int BodyParameterCount => 1;
}
