namespace TwaBot.Api.Meta;

/// <summary>
/// The shape of a token the client can send as <c>Authorization: Bearer …</c>: RFC 6750's characters
/// (letters, digits, <c>- . _ ~ + /</c>, then optional <c>=</c> padding). Meta's tokens are letters
/// and digits; anything else (spaces, line breaks, NUL, non-ASCII) is a pasting mistake, and line
/// breaks or NUL would make .NET refuse to build the header at all.
/// </summary>
public static class MetaAccessToken
{
    public static bool IsWellFormed(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }

        var end = token.Length;
        while (end > 1 && token[end - 1] == '=')
        {
            end--;
        }

        return token.AsSpan(0, end).IndexOfAnyExcept(TokenCharacters) < 0;
    }

    private static readonly System.Buffers.SearchValues<char> TokenCharacters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
}
