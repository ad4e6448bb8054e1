using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Faults;

/// <summary>
/// The gateways' S3 attachment store (a real s3rver) killed for a while in the middle of a workload in which one MMS in
/// three carries an attachment. While it is down uploads must be refused with 503 (the MMS then goes without its file)
/// and MMS keep flowing; once it is back uploads are accepted again; and every file accepted, before or after the
/// outage, comes back byte for byte to a recipient.
/// </summary>
public static class S3DownLoop
{
    /// <summary>Uploads to see refused before the store comes back, and accepted after.</summary>
    private const int UploadsWanted = 5;

    public static async Task RunAsync(FaultRun run, S3Server s3, AttachmentTraffic attachments, FaultOptions options, List<string> notes, List<string> failures)
    {
        var phases = new OutagePhases();
        await run.WaitForSentAsync(options.Messages / 3);
        await s3.StopAsync();
        phases.DownAt = run.Ledger.SentCount;
        phases.DownTime = DateTime.UtcNow;

        // A recipient fetching a file accepted before the outage, while it lasts.
        var acked = run.Ledger.Snapshot(_ => true).Where(m => m.Acked).Select(m => m.Id).ToHashSet();
        var whileDown = new List<AttachmentTraffic.Download>();
        foreach (var upload in attachments.Uploads.Where(u => u.Status == 200 && acked.Contains(u.Id)).Take(3))
            whileDown.Add(await attachments.DownloadAsync(upload));

        var outage = TimeSpan.FromSeconds(options.OutageSeconds);
        var refusedEnough = await FaultRun.WaitAsync(() => DateTime.UtcNow - phases.DownTime >= outage &&
            attachments.Uploads.Count(u => u.Started >= phases.DownTime && u.Status != 200) >= UploadsWanted, TimeSpan.FromSeconds(120));
        await s3.StartAsync();
        phases.UpAt = run.Ledger.SentCount;
        phases.UpTime = DateTime.UtcNow;

        // A third of the workload again after the outage, however long it lasted.
        await run.WaitForSentAsync(Math.Max(options.Messages, phases.UpAt + options.Messages / 3));
        var acceptedAgain = await FaultRun.WaitAsync(() => attachments.Uploads.Count(u => u.Started >= phases.UpTime && u.Status == 200) >= UploadsWanted,
            TimeSpan.FromSeconds(90));

        // Every file accepted so far, once the MMS sent so far are answered (a file's recipients are known only then).
        var accepted = attachments.Uploads.Where(u => u.Status == 200).ToList();
        phases.EndAt = run.Ledger.SentCount;
        await FaultRun.WaitAsync(() => !run.Ledger.AnswersOf(id => phases.PhaseOf(id) != "later").ContainsKey("none"), TimeSpan.FromSeconds(options.SettleSeconds));
        var downloads = new List<AttachmentTraffic.Download>();
        await Parallel.ForEachAsync(accepted, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (upload, _) =>
        {
            var download = await attachments.DownloadAsync(upload);
            lock (downloads) downloads.Add(download);
        });

        var uploads = attachments.Uploads.ToList();
        notes.Add($"s3rver killed after {phases.DownAt} messages, started again after {phases.UpAt} ({phases.Outage.TotalSeconds:0.0} s down)");
        notes.Add("uploads (by when they began): " + string.Join("; ", OutagePhases.Names.Select(phase =>
            $"{phase}: {DescribeUploads(uploads.Where(u => UploadPhase(phases, u) == phase).ToList())}")));
        var refusedAfter = uploads.Where(u => u.Started >= phases.UpTime && u.Status != 200).ToList();
        if (refusedAfter.Count > 0)
        {
            notes.Add($"{refusedAfter.Count} uploads begun after the store was back were still refused, the last one begun " +
                      $"{(refusedAfter.Max(u => u.Started) - phases.UpTime).TotalSeconds:0.0} s after it ({refusedAfter[^1].Answer})");
        }
        if (uploads.FirstOrDefault(u => u.Status != 200) is { } refusal) notes.Add($"a refusal: {refusal.Status} {refusal.Answer} after {refusal.Took.TotalSeconds:0.0} s");
        notes.Add("downloads while the store was down of files accepted before: " +
                  (whileDown.Count == 0 ? "none tried" : string.Join(", ", whileDown.Select(d => $"{d.Status} in {d.Took.TotalSeconds:0.0} s"))));
        notes.Add("downloads by a recipient after the run, of every accepted file (by when it was uploaded): " + string.Join("; ", OutagePhases.Names.Select(phase =>
        {
            var those = downloads.Where(d => UploadPhase(phases, d.Upload) == phase).ToList();
            return $"{phase}: {those.Count(d => d.SameBytes)} of {those.Count} the same bytes";
        })));
        notes.Add("MMS answers by when they were sent: " + phases.DescribeAnswers(run.Ledger));

        if (!refusedEnough) failures.Add($"fewer than {UploadsWanted} uploads were refused within 120 s of the store going down");
        foreach (var odd in uploads.Where(u => u.Status is not (200 or 503)).Take(5))
            failures.Add($"upload for {odd.Id} through {odd.Gateway} answered {(odd.Status == 0 ? "nothing" : odd.Status.ToString())} after {odd.Took.TotalSeconds:0.0} s: {odd.Answer}");
        if (!acceptedAgain) failures.Add($"fewer than {UploadsWanted} uploads were accepted within 90 s of the store coming back");
        foreach (var bad in downloads.Where(d => !d.SameBytes).Take(5))
            failures.Add($"download of {bad.Upload.File} ({bad.Upload.Id}, uploaded {UploadPhase(phases, bad.Upload)}) answered {bad.Status}{(bad.Status == 200 ? " with other bytes" : "")}: {bad.Answer}");
        if (run.Ledger.AnswersOf(_ => true).Keys.FirstOrDefault(k => k.StartsWith("FAIL", StringComparison.Ordinal)) is { } fail)
            failures.Add($"MMS were answered {fail}: MMS must keep flowing while the attachment store is down");
        if (phases.LatencyBlowUp(run.Ledger, "the store") is { } slower) failures.Add(slower);
    }

    private static string UploadPhase(OutagePhases phases, AttachmentTraffic.Upload upload) =>
        upload.Started < phases.DownTime ? "before" : upload.Started < phases.UpTime ? "during" : "after";

    private static string DescribeUploads(List<AttachmentTraffic.Upload> uploads)
    {
        if (uploads.Count == 0) return "none";
        var statuses = string.Join(", ", uploads.GroupBy(u => u.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key.ToString())}: {g.Count()}"));
        var took = uploads.Select(u => u.Took.TotalMilliseconds).Order().ToList();
        return $"{uploads.Count} ({statuses}), took p50 {took[took.Count / 2]:0} ms, max {took[^1]:0} ms";
    }
}
