namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>
/// Arguments of one accumulation microkernel call: up to <see cref="ConvGeometry.TilePixels"/> neighbouring output
/// pixels of one row × up to <see cref="ConvGeometry.TileBlocks"/> blocks of 16 output channels.
/// </summary>
/// <remarks>
/// Invariant: <c>Acc[px·64 + b·16 + lane] = Init[b·16 + lane] + Σ_taps Σ_groups Σ_4 x·w</c> in wrapping int32, which is
/// exactly the int32 sum of the scalar reference (int32 addition is associative modulo 2^32).
/// </remarks>
internal unsafe struct ConvTile
{
    /// <summary>Interior address of the first output pixel in the padded NHWC input; tap offsets are added to it.</summary>
    public byte* Input;

    /// <summary>Bytes between horizontally neighbouring pixels (the channel stride, a multiple of 4).</summary>
    public int PixelStride;

    /// <summary>Byte offsets of the k·k taps relative to the output pixel's own position (may be negative).</summary>
    public int* TapOffsets;

    public int Taps;

    /// <summary>Input channel groups of 4.</summary>
    public int Groups;

    /// <summary>Packed weights of the tile's first block.</summary>
    public byte* Weights;

    /// <summary>Bytes between two packed blocks of 16 output channels.</summary>
    public int BlockStride;

    public int Blocks;

    public int Pixels;

    /// <summary>Initial accumulators (16 per block, from the tile's first block): 0, or the folded activation offset.</summary>
    public int* Init;

    /// <summary>Output accumulators, <c>[Pixels][64]</c>.</summary>
    public int* Acc;
}

/// <summary>Arguments of one requantise-and-store call for the accumulators of a <see cref="ConvTile"/>.</summary>
internal unsafe struct StoreArgs
{
    public int* Acc;
    public int Pixels;
    public int Blocks;

    /// <summary>First packed output channel of the tile.</summary>
    public int P0;

    /// <summary>Real output channels; packed lanes at or above it are padding and never stored.</summary>
    public int OutChannels;

    public RequantParams* Params;

    /// <summary>Element address of the tile's first pixel (bytes for u8 output, ints for i32 output).</summary>
    public byte* Dst;

    public bool U8;

    /// <summary>Elements between the outputs of horizontally neighbouring conv pixels.</summary>
    public int XStep;

    /// <summary>Per packed channel: element offset of that channel from a pixel's base (layout, depth-to-space).</summary>
    public int* ChanOffset;

    /// <summary>Per block of 16 packed channels: 1 when their 16 offsets are consecutive (one vector store).</summary>
    public byte* Contiguous;
}

/// <summary>Per-channel requantisation tables in packed channel order (16-aligned, padding lanes neutral).</summary>
internal unsafe struct RequantParams
{
    /// <summary><c>bias·mult + 2^(shift-1)</c> modulo 2^64: <c>(bias + acc)·mult + round ≡ acc·mult + BiasRound</c>.</summary>
    public long* BiasRound;

    /// <summary>The multiplier sign-extended to 64 bits (its low 32 bits feed <c>vpmuldq</c>).</summary>
    public long* Mult;

    public int* Mult32;

    public ulong* Shift;

    /// <summary><c>-shift</c>, for Arm's <c>sshl</c>.</summary>
    public long* NegShift;

    public int Zp;
    public int Lo;
    public int Hi;
}

/// <summary>Parameters of the <c>add</c> kernel.</summary>
internal readonly record struct AddParams(int ZpA, int ZpB, int MultA, int MultB, int Shift, int Zp, int Lo, int Hi);

/// <summary>Tile shape shared by every microkernel.</summary>
internal static class ConvGeometry
{
    public const int Block = 16;
    public const int TileBlocks = 4;
    public const int TileChannels = Block * TileBlocks;
    public const int TilePixels = 8;
}
