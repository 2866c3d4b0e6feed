namespace TwaBot.Api.Messages;

/// <summary>
/// <c>failure_reason</c> sentences for Meta's error codes: what happened, in words a CRM user can act
/// on. 131026 is the public docs' own text.
/// </summary>
public static class FailureReasons
{
    private static readonly Dictionary<int, string> ByCode = new()
    {
        [131026] = "Message undeliverable — recipient's phone is not on WhatsApp.",
        [Meta.MetaErrorCodes.OutsideWindow] = "More than 24 hours have passed since the customer last replied; send an approved template instead.",
        [131049] = "Meta did not deliver this marketing message to keep engagement healthy; try again after 24 hours.",
        [Meta.MetaErrorCodes.MarketingStopped] = "The customer has stopped marketing messages from this business.",
        [131051] = "WhatsApp does not support this message type.",
        [131062] = "WhatsApp does not take this message for a customer known only by their business-scoped user id (a username); it needs their phone number.",
        [131053] = "The media could not be downloaded or is of an unsupported type or size.",
        [130472] = "The customer's number is part of a Meta experiment and did not receive the message.",
        [131000] = "Meta could not send the message because of an unknown error.",
        [131048] = "The number is limited for spam: too many customers blocked or reported its messages.",
        [131056] = "Too many messages were sent to this customer in a short time; wait before sending again.",
        [130429] = "The WhatsApp number's sending rate limit was reached.",
        [132000] = "The number of template variables does not match the template.",
        [132001] = "The template does not exist in this language or is not approved.",
        [132015] = "The template is paused because of low quality.",
        [132016] = "The template is disabled because of low quality.",
        [131031] = "The WhatsApp Business account is locked.",
        [131042] = "There is a payment problem with the WhatsApp Business account.",
    };

    /// <summary>
    /// Meta's 24-hour rule stops free-form messages; when it refuses a template, advising a template would not help.
    /// The send's own answer says the same (<see cref="Sending.WindowClosedText.TemplateRefused"/>).
    /// </summary>
    private const string TemplateOutsideWindow =
        "Meta refused this template under its 24-hour customer service window rule (131047); templates normally work at any time: check the template's status and category in WhatsApp Manager.";

    /// <summary>
    /// The sentence for Meta's code (for a <paramref name="template"/> or OTP message, one that does not advise a template).
    /// For a code without one, Meta's title and its <c>error_data.details</c> (<paramref name="details"/>): the title alone
    /// ("Generic user error") says nothing a CRM user can act on.
    /// </summary>
    public static string For(int? code, string? title, bool template = false, string? details = null)
    {
        if (template && code == Meta.MetaErrorCodes.OutsideWindow)
        {
            return TemplateOutsideWindow;
        }

        if (code is { } known && ByCode.TryGetValue(known, out var sentence))
        {
            return sentence;
        }

        var what = string.IsNullOrWhiteSpace(title) ? "an error" : $"'{title.Trim()}'";
        var reported = code is null
            ? $"Meta reported {what} and did not deliver the message"
            : $"Meta reported {what} (code {code}) and did not deliver the message";
        return DetailsBeyond(title, details) is { } said ? $"{reported}: {said}" : reported + ".";
    }

    /// <summary>Meta's details, when they say more than its title; cut to a length an answer can carry.</summary>
    private static string? DetailsBeyond(string? title, string? details)
    {
        var said = details?.Trim();
        return string.IsNullOrEmpty(said) || string.Equals(said.TrimEnd('.'), title?.Trim().TrimEnd('.'), StringComparison.OrdinalIgnoreCase)
            ? null
            : Unicode.TextCut.Prefix(said, MaxDetailsLength).ToString();
    }

    private const int MaxDetailsLength = 500;
}
