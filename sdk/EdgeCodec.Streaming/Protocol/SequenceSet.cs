namespace EdgeCodec.Streaming.Protocol;

/// <summary>
/// A set of sequence numbers as a cumulative point (everything below <see cref="Cumulative"/>) plus sorted, disjoint,
/// non-adjacent [start, end) ranges above it: exactly what an ACK carries.
/// </summary>
internal sealed class SequenceSet
{
    private readonly List<(ulong Start, ulong End)> _ranges = [];

    public ulong Cumulative { get; private set; }

    public IReadOnlyList<(ulong Start, ulong End)> Ranges => _ranges;

    public bool Contains(ulong sequence)
    {
        if (sequence < Cumulative)
        {
            return true;
        }

        int i = FindFirstEndAbove(sequence);
        return i < _ranges.Count && _ranges[i].Start <= sequence;
    }

    /// <summary>Adds one sequence; false if it was already present.</summary>
    public bool Add(ulong sequence)
    {
        if (Contains(sequence))
        {
            return false;
        }

        int i = FindFirstEndAbove(sequence); // first range with End > sequence; its Start > sequence
        bool joinsPrevious = i > 0 && _ranges[i - 1].End == sequence;
        bool joinsNext = i < _ranges.Count && _ranges[i].Start == sequence + 1;
        if (joinsPrevious && joinsNext)
        {
            _ranges[i - 1] = (_ranges[i - 1].Start, _ranges[i].End);
            _ranges.RemoveAt(i);
        }
        else if (joinsPrevious)
        {
            _ranges[i - 1] = (_ranges[i - 1].Start, sequence + 1);
        }
        else if (joinsNext)
        {
            _ranges[i] = (sequence, _ranges[i].End);
        }
        else
        {
            _ranges.Insert(i, (sequence, sequence + 1));
        }

        Normalize();
        return true;
    }

    /// <summary>Declares every sequence below <paramref name="point"/> present.</summary>
    public void AdvanceTo(ulong point)
    {
        if (point > Cumulative)
        {
            Cumulative = point;
            while (_ranges.Count > 0 && _ranges[0].Start <= Cumulative)
            {
                Cumulative = Math.Max(Cumulative, _ranges[0].End);
                _ranges.RemoveAt(0);
            }
        }
    }

    private void Normalize()
    {
        while (_ranges.Count > 0 && _ranges[0].Start <= Cumulative)
        {
            Cumulative = Math.Max(Cumulative, _ranges[0].End);
            _ranges.RemoveAt(0);
        }
    }

    private int FindFirstEndAbove(ulong sequence)
    {
        int lo = 0, hi = _ranges.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ranges[mid].End > sequence)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        return lo;
    }
}
