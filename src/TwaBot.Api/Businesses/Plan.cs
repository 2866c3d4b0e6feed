namespace TwaBot.Api.Businesses;

/// <summary>A business's subscription. Starter may not send; Growth and Pro differ in daily caps.</summary>
public enum Plan
{
    Starter,
    Growth,
    Pro,
}
