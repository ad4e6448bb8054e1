using Mmss.Fuzz;
using Mmss.Fuzz.Targets;

// Mmss.Fuzz <target>                 run under afl-fuzz (SharpFuzz persistent fork server; input on stdin)
// Mmss.Fuzz replay <target> <path>.. run inputs (files or folders) once each, report any crash; exit 1 on a crash
// Mmss.Fuzz seed <target> <folder>   write the seed corpus
// Mmss.Fuzz dict <target> <file>     write the afl-fuzz dictionary
// Mmss.Fuzz list                     the targets and the assemblies each one instruments
FuzzTarget[] targets =
[
    new XmlStreamTarget(),
    new SaslTarget(),
    new JidJiveTarget(),
    new MultipartUploadTarget(),
    new AdminJsonTarget(),
    new WebSocketTarget(),
    new ZlibTarget(),
];

FuzzTarget Find(string name) =>
    targets.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"unknown target '{name}'; one of: {string.Join(", ", targets.Select(t => t.Name))}");

switch (args)
{
    case ["list"]:
        foreach (var t in targets) Console.WriteLine($"{t.Name} {string.Join(",", t.InstrumentedAssemblies)}");
        return 0;
    case ["seed", var name, var folder]:
    {
        Directory.CreateDirectory(folder);
        foreach (var (seedName, bytes) in Find(name).Seeds()) File.WriteAllBytes(Path.Combine(folder, seedName), bytes);
        return 0;
    }
    case ["dict", var name, var file]:
        File.WriteAllLines(file, Find(name).DictionaryBytes().Select((token, i) => $"t{i}=\"{AflEscape(token)}\""));
        return 0;
    case ["replay", var name, .. var paths]:
        return Replay.Run(Find(name), paths);
    case [var name]:
    {
        var target = Find(name);
        SharpFuzz.Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            _ = target.Run(buffer.ToArray());
        });
        return 0;
    }
    default:
        Console.Error.WriteLine("usage: Mmss.Fuzz list | seed <target> <folder> | dict <target> <file> | replay <target> <file-or-folder>... | <target>");
        return 2;
}

// afl-fuzz dictionary syntax: printable ASCII as is, '"' and '\\' escaped, every other byte as \xNN.
static string AflEscape(byte[] token) => string.Concat(token.Select(b =>
    b is (byte)'"' or (byte)'\\' ? "\\" + (char)b : b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}"));
