namespace Mmss.Gateway.Hosting;

/// <summary>
/// Events per key (a source address, a UDN) within a fixed window that opens at the key's first event, in this
/// process's memory only, for at most <c>capacity</c> keys. A full table first drops the keys whose window has passed,
/// then the older half of the rest: events from ever more keys — a flood from many addresses — cannot grow memory
/// without bound, and an attacker needs more keys than the table holds to be forgotten early, which already defeats
/// any per-key limit. One lock: each use is a dictionary lookup, far cheaper than the request or login it counts.
/// </summary>
public sealed class WindowedCounts
{
    private readonly long _windowTicks;
    private readonly int _capacity;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public WindowedCounts(TimeSpan window, int capacity, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        (_windowTicks, _capacity, _time) = (window.Ticks, capacity, time);
    }

    /// <summary>Keys held now (expired ones included until a full table drops them).</summary>
    public int Keys
    {
        get
        {
            lock (_lock) return _windows.Count;
        }
    }

    /// <summary>The key's events in its current window, and how long that window has left (zero: no open window).</summary>
    public (int Count, TimeSpan Remaining) Peek(string key)
    {
        var now = Now;
        lock (_lock)
        {
            return _windows.TryGetValue(key, out var window) && window.IsOpen(now, _windowTicks)
                ? (window.Count, TimeSpan.FromTicks(window.Start + _windowTicks - now))
                : (0, TimeSpan.Zero);
        }
    }

    /// <summary>Counts one event of the key; the key's count in its window, this one included.</summary>
    public int Add(string key)
    {
        var now = Now;
        lock (_lock) return Open(key, now).Count += 1;
    }

    /// <summary>
    /// True the first time it is asked for a key within the key's window (opening one if none is open), false after:
    /// what is logged per key is logged once per window, not once per request or attempt.
    /// </summary>
    public bool FirstReport(string key)
    {
        var now = Now;
        lock (_lock)
        {
            var window = Open(key, now);
            if (window.Reported) return false;
            window.Reported = true;
            return true;
        }
    }

    private long Now => _time.GetUtcNow().UtcTicks;

    /// <summary>The key's open window, a new one if its last has passed. Called under the lock.</summary>
    private Window Open(string key, long now)
    {
        if (_windows.TryGetValue(key, out var window))
        {
            if (!window.IsOpen(now, _windowTicks)) (window.Start, window.Count, window.Reported) = (now, 0, false);
            return window;
        }
        if (_windows.Count >= _capacity) MakeRoom(now);
        window = new Window { Start = now };
        _windows[key] = window;
        return window;
    }

    /// <summary>Drops the passed windows, then, if that freed too little, the older half: a sort once per capacity/2 new keys.</summary>
    private void MakeRoom(long now)
    {
        foreach (var (key, window) in _windows)
        {
            if (!window.IsOpen(now, _windowTicks)) _windows.Remove(key);
        }
        if (_windows.Count < _capacity) return;
        var oldest = _windows.OrderBy(w => w.Value.Start).Take(_windows.Count - _capacity / 2).Select(w => w.Key).ToList();
        foreach (var key in oldest) _windows.Remove(key);
    }

    private sealed class Window
    {
        public long Start;
        public int Count;
        public bool Reported;

        public bool IsOpen(long now, long length) => now - Start < length;
    }
}
