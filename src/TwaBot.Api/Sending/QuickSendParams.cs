using System.Text;

namespace TwaBot.Api.Sending;

/// <summary>
/// quick-send's <c>params</c>: comma-separated template variables (<c>Rahul,ORD-123,₹1499</c>), where
/// <c>\,</c> keeps a comma inside a value and <c>\\</c> a backslash.
/// </summary>
public static class QuickSendParams
{
    public static IReadOnlyList<string> Split(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return [];
        }

        var values = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && i + 1 < value.Length && value[i + 1] is ',' or '\\')
            {
                current.Append(value[++i]);
            }
            else if (c == ',')
            {
                values.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        values.Add(current.ToString().Trim());
        return values;
    }
}
