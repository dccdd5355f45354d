using System.Runtime.CompilerServices;

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

    /// <summary>Multiply-adds below which a conv is not split across threads (~20 µs of work on one AVX-512 core).</summary>
    internal const long MinParallelMacs = 1L << 22;

    /// <summary>Runs <paramref name="pc"/> over an <c>height × width</c> input.</summary>
    /// <param name="pc">The packed conv.</param>
    /// <param name="input">Interior pixel (0, 0) of a padded NHWC input with <see cref="PackedConv.ChannelStride"/> bytes per pixel and a border ≥ k/2.</param>
    /// <param name="inputRowStride">Bytes between input rows.</param>
    /// <param name="height">Input rows.</param>
    /// <param name="width">Input columns.</param>
    /// <param name="output">The output view.</param>
    /// <param name="threads">Maximum threads.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

        // A small conv (the hyper decoder's and context models' at latent resolution) runs on the calling thread: a
        // Parallel.For costs more than it saves there, and on a busy machine its second worker may come late.
        if ((long)height * width * pc.OutChannels * pc.Taps * pc.ChannelStride < MinParallelMacs)
        {
            threads = 1;
        }

        job.Winograd = pc.WinogradWeights;
        job.WinogradGemm = pc.Table.WinogradGemm;
        job.Blocks = pc.PaddedOut / ConvGeometry.Block;
        Job* pj = &job;
        if (job.Winograd != null && height >= 2 && width >= 2)
        {
            // Row pairs (Winograd's 2×2 output tiles); an odd last row goes to the direct kernel.
            Chunked(pj, height / 2, threads, &WinogradRows);
            if ((height & 1) != 0)
            {
                Rows(pj, height - 1, height);
            }
        }
        else
        {
            Chunked(pj, height, threads, &Rows);
        }

        // The packed tables are pinned but must stay reachable while raw pointers into them are in use.
        GC.KeepAlive(pc);
    }

    /// <summary>Runs <paramref name="body"/> over <c>[0, count)</c> split into up to 4 chunks per thread.</summary>
    private static void Chunked(Job* job, int count, int threads, delegate*<Job*, int, int, void> body)
    {
        int chunks = Math.Min(count, Math.Max(1, threads) * 4);
        if (threads <= 1 || chunks <= 1)
        {
            body(job, 0, count);
            return;
        }

        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            i => body(job, (int)((long)count * i / chunks), (int)((long)count * (i + 1) / chunks)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(Job* job, int y0, int y1)
    {
        int* acc = stackalloc int[ConvGeometry.TilePixels * ConvGeometry.TileChannels];
        ConvTile t = NewTile(job, acc);
        StoreArgs s = NewStore(job, acc);
        for (int y = y0; y < y1; y++)
        {
            for (int x0 = 0; x0 < job->Width; x0 += ConvGeometry.TilePixels)
            {
                Segment(job, ref t, ref s, y, x0, Math.Min(ConvGeometry.TilePixels, job->Width - x0));
            }
        }
    }

    /// <summary>Direct conv of <paramref name="pixels"/> outputs of row <paramref name="y"/> from column <paramref name="x0"/>, every block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Segment(Job* job, ref ConvTile t, ref StoreArgs s, int y, int x0, int pixels)
    {
        ref Job pc = ref *job;
        int elem = s.U8 ? 1 : 4;
        byte* row = pc.Input + ((long)y * pc.InputRowStride);
        byte* dstRow = pc.Output.Dst + (y * pc.Output.YStep * elem);
        t.Pixels = s.Pixels = pixels;
        t.Input = row + ((long)x0 * pc.ChannelStride);
        s.Dst = dstRow + ((long)x0 * pc.Output.XStep * elem);
        for (int b0 = 0; b0 < pc.Blocks; b0 += ConvGeometry.TileBlocks)
        {
            t.Blocks = s.Blocks = Math.Min(ConvGeometry.TileBlocks, pc.Blocks - b0);
            t.Weights = pc.Weights + ((long)b0 * pc.BlockStride);
            t.Init = pc.Init + (b0 * ConvGeometry.Block);
            s.P0 = b0 * ConvGeometry.Block;
            pc.ConvFn(ref t);
            pc.StoreFn(ref s);
        }
    }

    /// <summary>
    /// Winograd F(2×2, 3×3) over output row pairs <c>[p0, p1)</c>: per strip of <see cref="ConvGeometry.TilePixels"/>
    /// columns one input transform, then per tile of 64 output channels the 16 GEMMs, the output transform and the
    /// shared requantise-and-store for both rows. An odd last column goes to the direct kernel.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WinogradRows(Job* job, int p0, int p1)
    {
        ref Job pc = ref *job;
        const int R = ConvGeometry.TileChannels, P = WinogradConv.StripTiles * R;
        int* acc0 = stackalloc int[ConvGeometry.TilePixels * R];
        int* acc1 = stackalloc int[ConvGeometry.TilePixels * R];
        int* m = stackalloc int[WinogradConv.Positions * P];
        int cs = pc.ChannelStride;
        short* v = stackalloc short[WinogradConv.StripTiles * WinogradConv.Positions * cs];
        ConvTile t = NewTile(job, acc0);
        StoreArgs s = NewStore(job, acc0);
        int elem = s.U8 ? 1 : 4;
        int evenWidth = pc.Width & ~1;
        long blockU = (long)pc.Groups * 64;
        for (int pair = p0; pair < p1; pair++)
        {
            int y = 2 * pair;
            byte* patchRow = pc.Input + ((long)(y - 1) * pc.InputRowStride) - cs;
            for (int x0 = 0; x0 < evenWidth; x0 += ConvGeometry.TilePixels)
            {
                int pixels = Math.Min(ConvGeometry.TilePixels, evenWidth - x0), tiles = pixels / 2;
                WinogradConv.TransformInput(patchRow + ((long)x0 * cs), pc.InputRowStride, cs, tiles, v);
                for (int b0 = 0; b0 < pc.Blocks; b0 += ConvGeometry.TileBlocks)
                {
                    int nb = Math.Min(ConvGeometry.TileBlocks, pc.Blocks - b0);
                    for (int pos = 0; pos < WinogradConv.Positions; pos++)
                    {
                        for (int bl = 0; bl < nb; bl += 2)
                        {
                            short* u = pc.Winograd + ((((long)pos * pc.Blocks) + b0 + bl) * blockU);
                            pc.WinogradGemm(u, blockU, v + ((long)pos * cs), (long)WinogradConv.Positions * cs, tiles, pc.Groups, bl + 1 < nb, m + (pos * P) + (bl * ConvGeometry.Block));
                        }
                    }

                    for (int bl = 0; bl < nb; bl++)
                    {
                        int off = bl * ConvGeometry.Block;
                        WinogradConv.TransformOutput(m + off, tiles, pc.Init + ((b0 + bl) * ConvGeometry.Block), acc0 + off, acc1 + off);
                    }

                    s.Pixels = pixels;
                    s.Blocks = nb;
                    s.P0 = b0 * ConvGeometry.Block;
                    for (int r = 0; r < 2; r++)
                    {
                        s.Acc = r == 0 ? acc0 : acc1;
                        s.Dst = pc.Output.Dst + ((y + r) * pc.Output.YStep * elem) + ((long)x0 * pc.Output.XStep * elem);
                        pc.StoreFn(ref s);
                    }
                }
            }

            if (evenWidth < pc.Width)
            {
                s.Acc = acc0;
                Segment(job, ref t, ref s, y, evenWidth, 1);
                Segment(job, ref t, ref s, y + 1, evenWidth, 1);
            }
        }
    }

    private static ConvTile NewTile(Job* job, int* acc)
    {
        ConvTile t = default;
        t.PixelStride = job->ChannelStride;
        t.TapOffsets = job->Taps;
        t.Taps = job->TapCount;
        t.Groups = job->Groups;
        t.BlockStride = job->BlockStride;
        t.Acc = acc;
        return t;
    }

    private static StoreArgs NewStore(Job* job, int* acc)
    {
        StoreArgs s = default;
        s.Acc = acc;
        s.OutChannels = job->OutChannels;
        s.Params = job->Params;
        s.U8 = job->Output.U8;
        s.ChanOffset = job->Output.ChanOffset;
        s.Contiguous = job->Output.Contiguous;
        s.XStep = job->Output.XStep;
        return s;
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
        public int Blocks;
        public short* Winograd;
        public delegate*<short*, long, short*, long, int, int, bool, int*, void> WinogradGemm;
    }
}
