namespace Mmss.Gateway.Provisioning;

/// <summary>Rules for UDNs and GDNs: they are JID localparts, so they stay short and plain.</summary>
public static class DialNumber
{
    public const int MaxLength = 64;

    /// <summary>Spec 7.5.2: "ACK" and "FAIL" are addresses of the MMSS itself, never of a user or group.</summary>
    private static readonly string[] Reserved = ["ACK", "FAIL"];

    public static string? Validate(string? number)
    {
        if (string.IsNullOrEmpty(number)) return "a dial number is required";
        if (number.Length > MaxLength) return $"a dial number has at most {MaxLength} characters";
        foreach (var c in number)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '.' and not '-')
                return "a dial number has only ASCII letters, digits, '.' and '-'";
        }
        if (Reserved.Contains(number, StringComparer.OrdinalIgnoreCase)) return $"'{number}' is reserved (spec 7.5.2)";
        return null;
    }
}
