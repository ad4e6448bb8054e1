using System.Text;

namespace Mmss.Protocol.Sasl;

/// <summary>The "name=value, name="quoted"" lists of RFC 2831 §7.1.</summary>
public static class DigestDirectives
{
    /// <summary>Parses directives; null when the text is malformed or a directive repeats.</summary>
    public static Dictionary<string, string>? Parse(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (true)
        {
            while (i < text.Length && (text[i] is ' ' or '\t' or ',' or '\r' or '\n')) i++;
            if (i >= text.Length) return result;
            var eq = text.IndexOf('=', i);
            if (eq <= i) return null;
            var name = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var sb = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) return null;
                    var c = text[i++];
                    if (c == '"') break;
                    if (c == '\\')
                    {
                        if (i >= text.Length) return null;
                        c = text[i++];
                    }
                    sb.Append(c);
                }
                value = sb.ToString();
            }
            else
            {
                var comma = text.IndexOf(',', i);
                var end = comma < 0 ? text.Length : comma;
                value = text[i..end].Trim();
                i = end;
            }
            if (!result.TryAdd(name, value)) return null;
        }
    }

    public static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
