namespace Mmss.Grains;

[GenerateSerializer]
public sealed class UploadAllowanceState
{
    [Id(0)] public DateOnly Day { get; set; }

    [Id(1)] public long Bytes { get; set; }
}
