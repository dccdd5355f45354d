namespace EdgeCodec.Backends.Cpu.Engine;

/// <summary>Where a conv writes: element address of pixel (y, x) channel p = <c>Dst + y·YStep + x·XStep + ChanOffset[p]</c>.</summary>
internal unsafe struct OutputView
{
    public byte* Dst;
    public bool U8;
    public long YStep;
    public int XStep;
    public int* ChanOffset;
    public byte* Contiguous;
}

/// <summary>
/// The conv driver shared by every path: rows in parallel, per row tiles of 64 output channels × 8 pixels, the
/// table's microkernel then its requantise-and-store. No heap allocation except what <see cref="Parallel"/> needs.
/// </summary>
/// <remarks>
/// Determinism: every output element is produced by exactly one tile with the same integer operations, whatever the
/// thread count or row split.
/// </remarks>
internal static unsafe class ConvRunner
{
    /// <summary>Fills the output layout tables for a result of <c>H·r × W·r</c>, laid out by the strides given.</summary>
    /// <param name="pc">The conv.</param>
    /// <param name="channelStride">Elements between channels of one pixel (NHWC: 1; planar: the plane size).</param>
    /// <param name="pixelStride">Elements between neighbouring result pixels (NHWC: channel stride; planar: 1).</param>
    /// <param name="rowStride">Elements between neighbouring result rows.</param>
    /// <param name="chanOffset">Receives <see cref="PackedConv.PaddedOut"/> offsets.</param>
    /// <param name="contiguous">Receives one flag per block of 16.</param>
    public static void Layout(PackedConv pc, long channelStride, int pixelStride, long rowStride, Span<int> chanOffset, Span<byte> contiguous)
    {
        for (int p = 0; p < pc.PaddedOut; p++)
        {
            if (p >= pc.OutChannels)
            {
                chanOffset[p] = 0;
                continue;
            }

            (int q, int c) = pc.Place(p);
            long offset = (c * channelStride) + ((q >> 1) * rowStride) + ((q & 1) * pixelStride);
            chanOffset[p] = checked((int)offset);
        }

        for (int b = 0; b < pc.PaddedOut / ConvGeometry.Block; b++)
        {
            bool ok = (b + 1) * ConvGeometry.Block <= pc.OutChannels;
            for (int l = 1; ok && l < ConvGeometry.Block; l++)
            {
                ok = chanOffset[(b * ConvGeometry.Block) + l] == chanOffset[(b * ConvGeometry.Block) + l - 1] + 1;
            }

            contiguous[b] = ok ? (byte)1 : (byte)0;
        }
    }

    /// <summary>Runs <paramref name="pc"/> over an <c>height × width</c> input.</summary>
    /// <param name="pc">The packed conv.</param>
    /// <param name="input">Interior pixel (0, 0) of a padded NHWC input with <see cref="PackedConv.ChannelStride"/> bytes per pixel and a border ≥ k/2.</param>
    /// <param name="inputRowStride">Bytes between input rows.</param>
    /// <param name="height">Input rows.</param>
    /// <param name="width">Input columns.</param>
    /// <param name="output">The output view.</param>
    /// <param name="threads">Maximum threads.</param>
    public static void Run(PackedConv pc, byte* input, int inputRowStride, int height, int width, OutputView output, int threads)
    {
        int* taps = stackalloc int[9];
        int half = pc.Kernel / 2;
        for (int dy = 0; dy < pc.Kernel; dy++)
        {
            for (int dx = 0; dx < pc.Kernel; dx++)
            {
                taps[(dy * pc.Kernel) + dx] = ((dy - half) * inputRowStride) + ((dx - half) * pc.ChannelStride);
            }
        }

        RequantParams prm;
        pc.GetParams(&prm);
        var job = new Job
        {
            ConvFn = pc.Table.Conv,
            StoreFn = pc.Table.Store,
            Weights = pc.Weights,
            Init = pc.Init,
            ChannelStride = pc.ChannelStride,
            TapCount = pc.Taps,
            Groups = pc.Groups,
            BlockStride = pc.BlockStride,
            PaddedOut = pc.PaddedOut,
            OutChannels = pc.OutChannels,
            Input = input,
            InputRowStride = inputRowStride,
            Width = width,
            Taps = taps,
            Params = &prm,
            Output = output,
        };

        int chunks = Math.Min(height, Math.Max(1, threads) * 4);
        if (threads <= 1 || chunks <= 1)
        {
            Rows(&job, 0, height);
        }
        else
        {
            Job* pj = &job;
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
                i => Rows(pj, (int)((long)height * i / chunks), (int)((long)height * (i + 1) / chunks)));
        }

        // The packed tables are pinned but must stay reachable while raw pointers into them are in use.
        GC.KeepAlive(pc);
    }

    private static void Rows(Job* job, int y0, int y1)
    {
        ref Job pc = ref *job;
        int* acc = stackalloc int[ConvGeometry.TilePixels * ConvGeometry.TileChannels];
        ConvTile t = default;
        t.PixelStride = pc.ChannelStride;
        t.TapOffsets = job->Taps;
        t.Taps = pc.TapCount;
        t.Groups = pc.Groups;
        t.BlockStride = pc.BlockStride;
        t.Acc = acc;
        StoreArgs s = default;
        s.Acc = acc;
        s.OutChannels = pc.OutChannels;
        s.Params = job->Params;
        s.U8 = job->Output.U8;
        s.ChanOffset = job->Output.ChanOffset;
        s.Contiguous = job->Output.Contiguous;
        int elem = s.U8 ? 1 : 4;
        s.XStep = job->Output.XStep;
        int blocks = pc.PaddedOut / ConvGeometry.Block;
        for (int y = y0; y < y1; y++)
        {
            byte* row = job->Input + ((long)y * job->InputRowStride);
            byte* dstRow = job->Output.Dst + (y * job->Output.YStep * elem);
            for (int b0 = 0; b0 < blocks; b0 += ConvGeometry.TileBlocks)
            {
                t.Blocks = s.Blocks = Math.Min(ConvGeometry.TileBlocks, blocks - b0);
                t.Weights = pc.Weights + ((long)b0 * pc.BlockStride);
                t.Init = pc.Init + (b0 * ConvGeometry.Block);
                s.P0 = b0 * ConvGeometry.Block;
                for (int x0 = 0; x0 < job->Width; x0 += ConvGeometry.TilePixels)
                {
                    t.Pixels = s.Pixels = Math.Min(ConvGeometry.TilePixels, job->Width - x0);
                    t.Input = row + ((long)x0 * pc.ChannelStride);
                    pc.ConvFn(ref t);
                    s.Dst = dstRow + ((long)x0 * job->Output.XStep * elem);
                    pc.StoreFn(ref s);
                }
            }
        }
    }

    private struct Job
    {
        public delegate*<ref ConvTile, void> ConvFn;
        public delegate*<ref StoreArgs, void> StoreFn;
        public byte* Weights;
        public int* Init;
        public int ChannelStride;
        public int TapCount;
        public int Groups;
        public int BlockStride;
        public int PaddedOut;
        public int OutChannels;
        public byte* Input;
        public int InputRowStride;
        public int Width;
        public int* Taps;
        public RequantParams* Params;
        public OutputView Output;
    }
}
