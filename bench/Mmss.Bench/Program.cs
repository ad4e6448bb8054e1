using System.Text.Json;
using Mmss.Bench;

// Load tool: real XMPP connections over TCP against the MMSS or a peer server; see bench/README.md.
var options = BenchOptions.Parse(args);
if (options.Scenario == "report")
{
    Report.Write(options.Inputs, options.Out ?? "results.md", options.Svg);
    Console.WriteLine(File.ReadAllText(options.Out ?? "results.md"));
    return 0;
}
if (options.Scenario == "forwarder")
{
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
    AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
    try
    {
        await new Forwarder(options).RunAsync(stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
    return 0;
}
var result = await new Scenarios(options).RunAsync();
var json = JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true });
if (options.Json is not null) await File.WriteAllTextAsync(options.Json, json);
Console.WriteLine(json);
return 0;
