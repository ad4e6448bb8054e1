namespace Mmss.Fuzz;

/// <summary>
/// One parser under fuzzing. <see cref="Run"/> feeds it one input and lets through only what is a bug: an exception
/// the parser does not document for bad input, or a broken invariant (<see cref="InvariantException"/>).
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name used on the command line and for the corpus and findings folders.</summary>
    public abstract string Name { get; }

    /// <summary>The project assemblies whose code SharpFuzz instruments for this target (the framework is not instrumented).</summary>
    public abstract IReadOnlyList<string> InstrumentedAssemblies { get; }

    /// <returns>What became of the input, for the replay command: the status, the step, the tokens.</returns>
    public abstract string Run(byte[] input);

    /// <summary>Starting inputs: the spec's examples and what the unit tests send.</summary>
    public abstract IEnumerable<(string Name, byte[] Bytes)> Seeds();

    /// <summary>Tokens of the format for afl-fuzz's dictionary (-x): mutations insert them whole.</summary>
    public abstract IEnumerable<string> Dictionary();

    /// <summary>The dictionary as afl-fuzz gets it: UTF-8, unless the format's tokens are bytes (zlib's).</summary>
    public virtual IEnumerable<byte[]> DictionaryBytes() => Dictionary().Select(System.Text.Encoding.UTF8.GetBytes);
}

/// <summary>A property the parser promises was broken: treated as a crash by afl-fuzz and by the replay command.</summary>
public sealed class InvariantException(string message) : Exception(message);
