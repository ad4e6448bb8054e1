using System.Globalization;

namespace Mmss.GrainInterfaces.Peers;

/// <summary>
/// Dial-number ranges as operators write them, <c>2000-2999,3100</c>: numeric UDNs/GDNs, inclusive bounds, single numbers
/// allowed. A number that is not all digits matches no range.
/// </summary>
public sealed class NumberRanges
{
    private readonly (ulong First, ulong Last)[] _ranges;

    private NumberRanges((ulong, ulong)[] ranges) => _ranges = ranges;

    public static readonly NumberRanges None = new([]);

    public bool IsEmpty => _ranges.Length == 0;

    public bool Contains(string number)
    {
        if (_ranges.Length == 0 || !TryNumber(number, out var value)) return false;
        foreach (var (first, last) in _ranges)
        {
            if (value >= first && value <= last) return true;
        }
        return false;
    }

    public bool Overlaps(NumberRanges other) =>
        _ranges.Any(a => other._ranges.Any(b => a.First <= b.Last && b.First <= a.Last));

    /// <summary>Parses the list; <paramref name="error"/> says what is wrong with it.</summary>
    public static bool TryParse(string? text, out NumberRanges ranges, out string? error)
    {
        ranges = None;
        error = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        var parsed = new List<(ulong, ulong)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            var firstText = dash < 0 ? part : part[..dash].Trim();
            var lastText = dash < 0 ? part : part[(dash + 1)..].Trim();
            if (!TryNumber(firstText, out var first) || !TryNumber(lastText, out var last))
            {
                error = $"'{part}' is not a number or a range of numbers (e.g. 2000-2999)";
                return false;
            }
            if (last < first)
            {
                error = $"'{part}' ends before it starts";
                return false;
            }
            parsed.Add((first, last));
        }
        ranges = new NumberRanges(parsed.ToArray());
        return true;
    }

    private static bool TryNumber(string text, out ulong value)
    {
        value = 0;
        if (text.Length is 0 or > 19) return false;
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) return false;
        }
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public override string ToString() => string.Join(",", _ranges.Select(r => r.First == r.Last ? $"{r.First}" : $"{r.First}-{r.Last}"));
}
