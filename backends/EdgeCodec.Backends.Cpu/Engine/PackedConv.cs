using System.Runtime.CompilerServices;
using EdgeCodec.Inference;

namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// A <see cref="ConvNode"/> pre-packed once for one <see cref="KernelTable"/>: weights in the kernel's layout (blocks
/// of 16 output channels, input channels in groups of 4, zero-padded), requantisation tables with the bias and the
/// rounding constant folded in, and the output-channel order that makes depth-to-space a contiguous store.
/// </summary>
/// <remarks>
/// Packed channel order: without d2s, <c>p = o</c>. With d2s (CRD, <c>o = 4c + 2i + j</c>) the channels are grouped by
/// sub-pixel: <c>p = (2i + j)·C' + c</c>, so a block of packed channels lands on consecutive channels of one output
/// pixel. Permuting channels is exact: each one has its own weights, bias, multiplier and shift.
/// </remarks>
internal sealed unsafe class PackedConv
{
    private readonly byte[] _weights;
    private readonly int[] _init;
    private readonly long[] _biasRound;
    private readonly long[] _mult;
    private readonly int[] _mult32;
    private readonly ulong[] _shift;
    private readonly long[] _negShift;
    private readonly short[]? _winograd;

    public PackedConv(ConvNode node, KernelTable table)
    {
        ArgumentNullException.ThrowIfNull(node);
        Node = node;
        Table = table;
        OutChannels = node.OutChannels;
        PaddedOut = RoundUp(OutChannels, ConvGeometry.Block);
        InChannels = node.InChannels;
        ChannelStride = RoundUp(InChannels, 4);
        Groups = ChannelStride / 4;
        Kernel = node.Kernel;
        Taps = Kernel * Kernel;
        Ratio = node.DepthToSpace == 2 ? 2 : 1;
        ResultChannels = OutChannels / (Ratio * Ratio);
        int elem = table.Layout == WeightLayout.S8OcIc ? 1 : 2;
        BlockStride = Taps * Groups * 64 * elem;
        _weights = GC.AllocateArray<byte>(checked(PaddedOut / ConvGeometry.Block * BlockStride), pinned: true);
        _init = GC.AllocateArray<int>(PaddedOut, pinned: true);
        _biasRound = GC.AllocateArray<long>(PaddedOut, pinned: true);
        _mult = GC.AllocateArray<long>(PaddedOut, pinned: true);
        _mult32 = GC.AllocateArray<int>(PaddedOut, pinned: true);
        _shift = GC.AllocateArray<ulong>(PaddedOut, pinned: true);
        _negShift = GC.AllocateArray<long>(PaddedOut, pinned: true);
        Original = new int[PaddedOut];
        Pack();
        if (table.HasWinograd)
        {
            _winograd = WinogradConv.Pack(node, Original, PaddedOut, Groups, ChannelStride, table.Layout);
        }
    }

    public ConvNode Node { get; }

    public KernelTable Table { get; }

    public int OutChannels { get; }

    /// <summary>Output channels rounded up to a block of 16; the extra lanes have zero weights and are never stored.</summary>
    public int PaddedOut { get; }

    public int InChannels { get; }

    /// <summary>Bytes per pixel of the NHWC input this conv reads (<see cref="InChannels"/> rounded up to 4).</summary>
    public int ChannelStride { get; }

    public int Groups { get; }

    public int Kernel { get; }

    public int Taps { get; }

    /// <summary>1, or 2 with depth-to-space.</summary>
    public int Ratio { get; }

    /// <summary>Channels of the result tensor (<c>O / r²</c>).</summary>
    public int ResultChannels { get; }

    public int BlockStride { get; }

    /// <summary>Packed channel → original output channel (-1 for padding lanes).</summary>
    public int[] Original { get; }

    public byte* Weights => (byte*)Unsafe.AsPointer(ref _weights[0]);

    public int* Init => (int*)Unsafe.AsPointer(ref _init[0]);

    /// <summary>True when this conv runs as exact Winograd F(2×2, 3×3) (<see cref="WinogradConv"/>).</summary>
    public bool HasWinograd => _winograd is not null;

    /// <summary>The transformed weights <c>[pos][block][group]</c>, 64 int16 each in the path's <see cref="WeightLayout"/> (null pointer without Winograd).</summary>
    public short* WinogradWeights => _winograd is null ? null : (short*)Unsafe.AsPointer(ref _winograd[0]);

    /// <summary>Fills <paramref name="prm"/> with pointers into this conv's (pinned) tables.</summary>
    public void GetParams(RequantParams* prm)
    {
        prm->BiasRound = (long*)Unsafe.AsPointer(ref _biasRound[0]);
        prm->Mult = (long*)Unsafe.AsPointer(ref _mult[0]);
        prm->Mult32 = (int*)Unsafe.AsPointer(ref _mult32[0]);
        prm->Shift = (ulong*)Unsafe.AsPointer(ref _shift[0]);
        prm->NegShift = (long*)Unsafe.AsPointer(ref _negShift[0]);
        prm->Zp = Node.ZeroPoint;
        prm->Lo = Node.Lo;
        prm->Hi = Node.Hi;
    }

    /// <summary>Sub-pixel (<c>2i + j</c>) and result channel of packed channel <paramref name="p"/>.</summary>
    public (int SubPixel, int Channel) Place(int p) => Ratio == 1 ? (0, p) : (p / ResultChannels, p % ResultChannels);

    private static int RoundUp(int v, int m) => (v + m - 1) / m * m;

    private void Pack()
    {
        ConvNode node = Node;
        int k = Kernel, cin = InChannels;
        for (int p = 0; p < PaddedOut; p++)
        {
            int o = -1;
            if (p < OutChannels)
            {
                (int q, int c) = Place(p);
                o = Ratio == 1 ? p : (4 * c) + q;
            }

            Original[p] = o;
            int block = p / ConvGeometry.Block, lane = p % ConvGeometry.Block;
            int sumW = 0;
            for (int tap = 0; tap < Taps; tap++)
            {
                for (int g = 0; g < Groups; g++)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        int c = (4 * g) + j;
                        int w = o >= 0 && c < cin ? node.Weight[(((o * cin) + c) * Taps) + tap] : 0;
                        sumW += w;
                        int step = (((block * Taps) + tap) * Groups) + g;
                        int index = (step * 64) + Table.Layout.InGroup(lane, j);
                        if (Table.Layout == WeightLayout.S8OcIc)
                        {
                            _weights[index] = (byte)(sbyte)w;
                        }
                        else
                        {
                            Unsafe.As<byte, short>(ref _weights[2 * index]) = (short)w;
                        }
                    }
                }
            }

            // Wrapping int32, like the reference's accumulator: init + Σ(x-128)·w ≡ Σ x·w (mod 2^32).
            _init[p] = Table.OffsetActivations ? unchecked(128 * sumW) : 0;
            if (o >= 0)
            {
                int shift = node.Shift[o];
                _mult[p] = node.Mult[o];
                _mult32[p] = node.Mult[o];
                _shift[p] = (ulong)shift;
                _negShift[p] = -shift;
                _biasRound[p] = unchecked(((long)node.Bias[o] * node.Mult[o]) + (1L << (shift - 1)));
            }
            else
            {
                _shift[p] = 1;
                _negShift[p] = -1;
            }
        }
    }
}
