using EdgeCodec.Format;

namespace EdgeCodec.Entropy;

/// <summary>
/// An immutable, validated set of quantized CDF tables with 16-bit precision (every CDF ends at 65536),
/// used by <see cref="RansCodec"/>.
/// </summary>
/// <remarks>
/// <para>
/// Table <c>t</c> codes the values <c>Offset(t) .. Offset(t) + SymbolCount(t) - 1</c> directly as symbols
/// <c>0 .. n - 1</c>, plus one escape symbol <c>n</c> for every other <see cref="int"/> value. Its stored CDF
/// has <c>n + 2</c> entries: <c>cdf[0] = 0</c>, strictly increasing, <c>cdf[n + 1] = 65536</c>, so every symbol,
/// including the escape, has a frequency of at least 1 and no value is ever unencodable.
/// </para>
/// <para>
/// The tables ship inside the model pack and must be bit-identical on encoder and decoder, so everything here,
/// including <see cref="QuantizePmf"/>, uses integer arithmetic only.
/// </para>
/// </remarks>
public sealed class CdfTableSet
{
    /// <summary>Number of bits of CDF precision; every CDF ends at <c>1 &lt;&lt; PrecisionBits</c>.</summary>
    public const int PrecisionBits = 16;

    /// <summary>The value every stored CDF ends at (65536).</summary>
    public const int Total = 1 << PrecisionBits;

    /// <summary>Largest number of directly coded symbols per table (the escape symbol comes on top).</summary>
    public const int MaxSymbolCount = 4096;

    /// <summary>Largest number of tables in one set.</summary>
    public const int MaxTableCount = 1024;

    // The decoder maps a 16-bit slot to its symbol through a per-table bucket array indexed by the slot's top
    // bits, then scans forward a few CDF entries. 2^10 buckets per table keeps 64 tables in 128 KiB (L2-resident)
    // while most buckets already point at the right symbol.
    internal const int BucketBits = 10;
    internal const int BucketShift = PrecisionBits - BucketBits;

    private readonly int[][] _cdfs;
    private readonly int[] _offsets;

    // Flat decode structures: all CDFs back to back, all bucket arrays back to back.
    internal readonly int[] FlatCdf;
    internal readonly ushort[] FlatBuckets;
    internal readonly TableInfo[] Info;

    private CdfTableSet(int[][] cdfs, int[] offsets)
    {
        _cdfs = cdfs;
        _offsets = offsets;
        Info = new TableInfo[cdfs.Length];

        int cdfTotal = 0;
        foreach (int[] cdf in cdfs)
        {
            cdfTotal += cdf.Length;
        }

        FlatCdf = new int[cdfTotal];
        FlatBuckets = new ushort[cdfs.Length << BucketBits];
        int cdfBase = 0;
        for (int t = 0; t < cdfs.Length; t++)
        {
            int[] cdf = cdfs[t];
            cdf.CopyTo(FlatCdf, cdfBase);
            int bucketBase = t << BucketBits;

            // bucket[b] = the symbol whose interval contains slot b << BucketShift, i.e. the largest s with cdf[s] <= slot.
            int s = 0;
            for (int b = 0; b < (1 << BucketBits); b++)
            {
                int slot = b << BucketShift;
                while (cdf[s + 1] <= slot)
                {
                    s++;
                }

                FlatBuckets[bucketBase + b] = (ushort)s;
            }

            Info[t] = new TableInfo(cdfBase, bucketBase, cdf.Length - 2, offsets[t]);
            cdfBase += cdf.Length;
        }
    }

    /// <summary>Number of tables in the set.</summary>
    public int TableCount => _cdfs.Length;

    /// <summary>
    /// Builds a table set after validating every table.
    /// </summary>
    /// <param name="cdfs">One quantized CDF per table, <c>n + 2</c> entries each (see the type remarks). The arrays are copied.</param>
    /// <param name="offsets">The value coded by symbol 0 of each table; same count as <paramref name="cdfs"/>.</param>
    /// <returns>The validated table set.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="cdfs"/>, <paramref name="offsets"/> or one of the CDFs is <see langword="null"/>.</exception>
    /// <exception cref="EdgeCodecFormatException">
    /// A table is invalid (<see cref="FormatError.InvalidTable"/>): wrong endpoints, not strictly increasing (a zero
    /// frequency), fewer than 1 or more than <see cref="MaxSymbolCount"/> symbols, an offset range that overflows
    /// <see cref="int"/>, a count mismatch, or zero or more than <see cref="MaxTableCount"/> tables.
    /// </exception>
    public static CdfTableSet Create(IReadOnlyList<int[]> cdfs, IReadOnlyList<int> offsets)
    {
        ArgumentNullException.ThrowIfNull(cdfs);
        ArgumentNullException.ThrowIfNull(offsets);
        if (cdfs.Count == 0 || cdfs.Count > MaxTableCount)
        {
            throw Invalid($"A table set needs 1..{MaxTableCount} tables, got {cdfs.Count}.");
        }

        if (offsets.Count != cdfs.Count)
        {
            throw Invalid($"Got {cdfs.Count} CDFs but {offsets.Count} offsets.");
        }

        var copies = new int[cdfs.Count][];
        var offsetCopy = new int[cdfs.Count];
        for (int t = 0; t < cdfs.Count; t++)
        {
            int[] cdf = cdfs[t] ?? throw new ArgumentNullException(nameof(cdfs), $"CDF {t} is null.");
            ValidateCdf(cdf, t);
            int n = cdf.Length - 2;
            if ((long)offsets[t] + n - 1 > int.MaxValue)
            {
                throw Invalid($"Table {t}: offset {offsets[t]} + {n} symbols overflows int32.");
            }

            copies[t] = (int[])cdf.Clone();
            offsetCopy[t] = offsets[t];
        }

        return new CdfTableSet(copies, offsetCopy);
    }

    /// <summary>
    /// Turns non-negative integer weights into a valid quantized CDF, deterministically and with integer arithmetic only.
    /// </summary>
    /// <param name="weights">
    /// <c>n + 1</c> weights: the <c>n</c> direct symbols followed by the escape symbol. At most
    /// <see cref="MaxSymbolCount"/> + 1 entries, each non-negative, summing to at most <see cref="long.MaxValue"/>.
    /// All-zero weights give a uniform table.
    /// </param>
    /// <returns>A CDF of <c>n + 2</c> entries where every symbol has frequency &gt;= 1 and the total is 65536.</returns>
    /// <exception cref="ArgumentException">Fewer than 2 or more than <see cref="MaxSymbolCount"/> + 1 weights, a negative weight, or a sum that overflows.</exception>
    /// <remarks>
    /// Each symbol first gets frequency 1; the remaining <c>65536 - (n + 1)</c> units are split in proportion to
    /// the weights (floor), and the rounding leftover goes to the heaviest symbol (lowest index on ties).
    /// </remarks>
    public static int[] QuantizePmf(ReadOnlySpan<long> weights)
    {
        int symbols = weights.Length;
        if (symbols < 2 || symbols > MaxSymbolCount + 1)
        {
            throw new ArgumentException($"Need 2..{MaxSymbolCount + 1} weights (direct symbols + escape), got {symbols}.", nameof(weights));
        }

        long sum = 0;
        int heaviest = 0;
        for (int i = 0; i < symbols; i++)
        {
            if (weights[i] < 0)
            {
                throw new ArgumentException($"Weight {i} is negative.", nameof(weights));
            }

            if (weights[i] > long.MaxValue - sum)
            {
                throw new ArgumentException("The weights sum to more than long.MaxValue.", nameof(weights));
            }

            sum += weights[i];
            if (weights[i] > weights[heaviest])
            {
                heaviest = i;
            }
        }

        var freq = new int[symbols];
        long spare = Total - symbols;
        long assigned = 0;
        for (int i = 0; i < symbols; i++)
        {
            long share = sum == 0 ? spare / symbols : (long)((UInt128)(ulong)weights[i] * (ulong)spare / (ulong)sum);
            freq[i] = 1 + (int)share;
            assigned += share;
        }

        freq[heaviest] += (int)(spare - assigned);

        var cdf = new int[symbols + 1];
        for (int i = 0; i < symbols; i++)
        {
            cdf[i + 1] = cdf[i] + freq[i];
        }

        return cdf;
    }

    /// <summary>The value coded by symbol 0 of table <paramref name="table"/>.</summary>
    /// <param name="table">Table index, 0..<see cref="TableCount"/>-1.</param>
    /// <returns>The smallest directly coded value.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="table"/> is out of range.</exception>
    public int Offset(int table) => _offsets[table];

    /// <summary>Number of directly coded symbols <c>n</c> of table <paramref name="table"/> (the escape symbol not included).</summary>
    /// <param name="table">Table index, 0..<see cref="TableCount"/>-1.</param>
    /// <returns>The direct symbol count.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="table"/> is out of range.</exception>
    public int SymbolCount(int table) => _cdfs[table].Length - 2;

    /// <summary>The stored CDF of table <paramref name="table"/> (<c>n + 2</c> entries, 0 .. 65536).</summary>
    /// <param name="table">Table index, 0..<see cref="TableCount"/>-1.</param>
    /// <returns>A read-only view of the CDF.</returns>
    /// <exception cref="IndexOutOfRangeException"><paramref name="table"/> is out of range.</exception>
    public ReadOnlySpan<int> GetCdf(int table) => _cdfs[table];

    private static void ValidateCdf(int[] cdf, int t)
    {
        int n = cdf.Length - 2;
        if (n < 1 || n > MaxSymbolCount)
        {
            throw Invalid($"Table {t}: a CDF needs 3..{MaxSymbolCount + 2} entries (n direct symbols + escape + 1), got {cdf.Length}.");
        }

        if (cdf[0] != 0)
        {
            throw Invalid($"Table {t}: cdf[0] must be 0, got {cdf[0]}.");
        }

        if (cdf[^1] != Total)
        {
            throw Invalid($"Table {t}: the last CDF entry must be {Total}, got {cdf[^1]}.");
        }

        for (int i = 1; i < cdf.Length; i++)
        {
            if (cdf[i] <= cdf[i - 1])
            {
                throw Invalid($"Table {t}: CDF must be strictly increasing (every frequency >= 1), but cdf[{i}] = {cdf[i]} <= cdf[{i - 1}] = {cdf[i - 1]}.");
            }
        }
    }

    private static EdgeCodecFormatException Invalid(string message) => new(message, FormatError.InvalidTable);

    internal readonly record struct TableInfo(int CdfBase, int BucketBase, int Count, int Offset);
}
