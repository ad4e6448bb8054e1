namespace Mmss.GrainInterfaces;

/// <summary>
/// The vendor property Priority (project extension beside spec 8.1): <c>Priority=emergency</c> puts an MMS ahead of
/// ordinary traffic everywhere it could wait. Only users provisioned with <c>"emergency": true</c> may send it.
/// </summary>
public static class MmsPriority
{
    public const string Property = "Priority";

    public const string Emergency = "emergency";

    /// <summary>The attachment upload's form field that asks for the same exemption (its value: <see cref="Emergency"/>).</summary>
    public const string UploadField = "priority";
}
