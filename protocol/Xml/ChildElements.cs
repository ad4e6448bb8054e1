using System.Collections;

namespace Mmss.Protocol.Xml;

/// <summary>
/// An element's child elements, skipping its text. A struct with a struct enumerator so that a <c>foreach</c> over them,
/// done for every stanza's properties, allocates nothing; it is still an <see cref="IEnumerable{T}"/> for LINQ.
/// </summary>
public readonly struct ChildElements(List<object>? children) : IEnumerable<XmlElement>
{
    public Enumerator GetEnumerator() => new(children);

    IEnumerator<XmlElement> IEnumerable<XmlElement>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public struct Enumerator(List<object>? children) : IEnumerator<XmlElement>
    {
        private int _index = -1;

        public XmlElement Current { get; private set; } = null!;

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (children is null) return false;
            while (++_index < children.Count)
            {
                if (children[_index] is XmlElement element)
                {
                    Current = element;
                    return true;
                }
            }
            return false;
        }

        public void Reset()
        {
            _index = -1;
            Current = null!;
        }

        public readonly void Dispose()
        {
        }
    }
}
