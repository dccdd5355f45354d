namespace EdgeCodec.Codec.Residual;

/// <summary>
/// The residual layer's transform (docs/format.md, "The residual layer"): 16×16 blocks of three planes, an orthonormal
/// luma/chroma rotation of RGB followed by the orthonormal 2-D DCT-II of each plane. The inverse is normative and
/// integer: every decoder on every machine adds exactly the same correction to its picture. The forward transform is
/// the encoder's and may be any float implementation.
/// </summary>
internal static class ResidualTransform
{
    /// <summary>Pixels per block side.</summary>
    public const int Block = 16;

    /// <summary>Coefficients per block (three planes of 16×16).</summary>
    public const int Coefficients = 3 * Block * Block;

    /// <summary>Fraction bits of <see cref="Cos"/> and <see cref="Colour"/>.</summary>
    public const int ConstantBits = 13;

    /// <summary>Fraction bits of coefficients and intermediates (quarter pixels).</summary>
    public const int SampleBits = 2;

    /// <summary>Bound of every coefficient and intermediate, in quarter pixels: ±2^15 (±8192 pixel values).</summary>
    public const int Limit = 1 << 15;

    /// <summary>
    /// The encoder's dead zone: <c>q = sign(c) · floor(|c| / step + 0.5 − DeadZone)</c>. Small coefficients cost more
    /// bits than they correct; 0.25 gives the same PSNR for ~20 % fewer bits than rounding to nearest (session 31,
    /// <c>training/residual.py</c>, which fits the pack's tables with the same quantiser). Not part of the format.
    /// </summary>
    public const double DeadZone = 0.25;

    /// <summary>Largest quantised value the decoder uses; larger ones are clamped (they cannot come from a picture).</summary>
    public const int MaxSymbol = 1 << 15;

    /// <summary>
    /// <c>round(2^13 · a(k) · cos(π (n + ½) k / 16))</c> with <c>a(0) = √(1/16)</c>, <c>a(k) = √(2/16)</c>:
    /// row k (frequency) holds the basis function's 16 samples n.
    /// </summary>
    internal static ReadOnlySpan<short> Cos =>
    [
        2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048,
        2882, 2772, 2554, 2239, 1837, 1365, 841, 284, -284, -841, -1365, -1837, -2239, -2554, -2772, -2882,
        2841, 2408, 1609, 565, -565, -1609, -2408, -2841, -2841, -2408, -1609, -565, 565, 1609, 2408, 2841,
        2772, 1837, 284, -1365, -2554, -2882, -2239, -841, 841, 2239, 2882, 2554, 1365, -284, -1837, -2772,
        2676, 1108, -1108, -2676, -2676, -1108, 1108, 2676, 2676, 1108, -1108, -2676, -2676, -1108, 1108, 2676,
        2554, 284, -2239, -2772, -841, 1837, 2882, 1365, -1365, -2882, -1837, 841, 2772, 2239, -284, -2554,
        2408, -565, -2841, -1609, 1609, 2841, 565, -2408, -2408, 565, 2841, 1609, -1609, -2841, -565, 2408,
        2239, -1365, -2772, 284, 2882, 841, -2554, -1837, 1837, 2554, -841, -2882, -284, 2772, 1365, -2239,
        2048, -2048, -2048, 2048, 2048, -2048, -2048, 2048, 2048, -2048, -2048, 2048, 2048, -2048, -2048, 2048,
        1837, -2554, -841, 2882, -284, -2772, 1365, 2239, -2239, -1365, 2772, 284, -2882, 841, 2554, -1837,
        1609, -2841, 565, 2408, -2408, -565, 2841, -1609, -1609, 2841, -565, -2408, 2408, 565, -2841, 1609,
        1365, -2882, 1837, 841, -2772, 2239, 284, -2554, 2554, -284, -2239, 2772, -841, -1837, 2882, -1365,
        1108, -2676, 2676, -1108, -1108, 2676, -2676, 1108, 1108, -2676, 2676, -1108, -1108, 2676, -2676, 1108,
        841, -2239, 2882, -2554, 1365, 284, -1837, 2772, -2772, 1837, -284, -1365, 2554, -2882, 2239, -841,
        565, -1609, 2408, -2841, 2841, -2408, 1609, -565, -565, 1609, -2408, 2841, -2841, 2408, -1609, 565,
        284, -841, 1365, -1837, 2239, -2554, 2772, -2882, 2882, -2772, 2554, -2239, 1837, -1365, 841, -284,
    ];

    /// <summary>
    /// The inverse colour rotation, <c>round(2^13 · m)</c>, row = R, G, B, column = plane (luma, (R − B)/√2,
    /// (R − 2G + B)/√6; the forward rotation is its transpose).
    /// </summary>
    internal static ReadOnlySpan<short> Colour => [4730, 5793, 3344, 4730, 0, -6689, 4730, -5793, 3344];

    /// <summary>
    /// The normative inverse of one block (scalar reference; <see cref="ResidualInverseSimd"/> is the vector kernel, chosen
    /// once where 128-bit vectors are accelerated): quantised values <paramref name="q"/> (768: plane-major,
    /// then vertical and horizontal frequency) times <paramref name="stepQ2"/> (quarter pixels) → the RGB correction
    /// in pixel values (768: channel-major, then row and column). Every intermediate is clamped to ±2^15 quarter pixels,
    /// so no step can overflow 32 bits; pictures never reach the clamps.
    /// </summary>
    public static void InverseBlock(ReadOnlySpan<int> q, int stepQ2, Span<int> rgb)
    {
        const int N = Block, Plane = Block * Block, Round = 1 << (ConstantBits - 1);
        ReadOnlySpan<short> cos = Cos;
        ReadOnlySpan<short> colour = Colour;
        Span<int> c = stackalloc int[Plane];
        Span<int> t = stackalloc int[Plane];
        Span<int> s = stackalloc int[Coefficients];
        Span<int> rows = stackalloc int[N];
        for (int p = 0; p < 3; p++)
        {
            // A row of zero coefficients transforms to (0 + Round) >> ConstantBits = 0 and adds nothing to the column
            // sums, so only the rows holding a value are computed: the same numbers for a fraction of the work
            // (a picture's residual has a few values per block).
            var qp = q.Slice(p * Plane, Plane);
            int used = 0;
            for (int k = 0; k < N; k++)
            {
                var row = qp.Slice(k * N, N);
                if (!row.ContainsAnyExcept(0))
                {
                    continue;
                }

                var ck = c.Slice(k * N, N);
                for (int l = 0; l < N; l++)
                {
                    ck[l] = Math.Clamp(Math.Clamp(row[l], -MaxSymbol, MaxSymbol) * stepQ2, -Limit, Limit);
                }

                // Rows: horizontal frequency l -> column x.
                for (int x = 0; x < N; x++)
                {
                    int sum = Round;
                    for (int l = 0; l < N; l++)
                    {
                        sum += ck[l] * cos[(l * N) + x];
                    }

                    t[(k * N) + x] = Math.Clamp(sum >> ConstantBits, -Limit, Limit);
                }

                rows[used++] = k;
            }

            // Columns: vertical frequency k -> row y.
            var sp = s.Slice(p * Plane, Plane);
            for (int y = 0; y < N; y++)
            {
                for (int x = 0; x < N; x++)
                {
                    int sum = Round;
                    for (int i = 0; i < used; i++)
                    {
                        int k = rows[i];
                        sum += cos[(k * N) + y] * t[(k * N) + x];
                    }

                    sp[(y * N) + x] = Math.Clamp(sum >> ConstantBits, -Limit, Limit);
                }
            }
        }

        const int Shift = ConstantBits + SampleBits;
        for (int ch = 0; ch < 3; ch++)
        {
            int m0 = colour[ch * 3], m1 = colour[(ch * 3) + 1], m2 = colour[(ch * 3) + 2];
            for (int i = 0; i < Plane; i++)
            {
                rgb[(ch * Plane) + i] = ((m0 * s[i]) + (m1 * s[Plane + i]) + (m2 * s[(2 * Plane) + i]) + (1 << (Shift - 1))) >> Shift;
            }
        }
    }

    /// <summary>
    /// Adds the decoded residual of one tile to <paramref name="image"/>: <paramref name="symbols"/> holds the
    /// tile's blocks in row-major order (768 values each) over <paramref name="rect"/>, the tile's rectangle in padded
    /// pixels; pixels outside the image are dropped, sums are clamped to 0..255. All-zero blocks and blocks wholly in the
    /// padding are skipped.
    /// </summary>
    public static void Apply(ReadOnlySpan<int> symbols, int stepQ2, (int X, int Y, int Width, int Height) rect, Imaging.RgbImage image)
    {
        int columns = rect.Width / Block, rows = rect.Height / Block;
        for (int r = 0; r < rows; r++)
        {
            ApplyRow(symbols.Slice(r * columns * Coefficients, columns * Coefficients), stepQ2, rect.X, rect.Y + (r * Block), image);
        }
    }

    /// <summary>
    /// <see cref="Apply(ReadOnlySpan{int}, int, ValueTuple{int, int, int, int}, Imaging.RgbImage)"/> on up to
    /// <paramref name="threads"/> threads, a row of blocks at a time (rows touch disjoint pixels: the same bytes).
    /// </summary>
    public static void Apply(int[] symbols, int stepQ2, (int X, int Y, int Width, int Height) rect, Imaging.RgbImage image, int threads)
    {
        int columns = rect.Width / Block, rows = rect.Height / Block;
        Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, r =>
            ApplyRow(symbols.AsSpan(r * columns * Coefficients, columns * Coefficients), stepQ2, rect.X, rect.Y + (r * Block), image));
    }

    private static void ApplyRow(ReadOnlySpan<int> symbols, int stepQ2, int x, int y0, Imaging.RgbImage image)
    {
        const int Plane = Block * Block;
        int h = Math.Min(Block, image.Height - y0);
        if (h <= 0)
        {
            return; // padding below the picture
        }

        Span<int> rgb = stackalloc int[Coefficients];
        for (int b = 0; b < symbols.Length / Coefficients; b++)
        {
            var q = symbols.Slice(b * Coefficients, Coefficients);
            int x0 = x + (b * Block);
            int w = Math.Min(Block, image.Width - x0);
            if (w <= 0 || !q.ContainsAnyExcept(0))
            {
                continue; // padding beyond the picture, or no correction
            }

            if (ResidualInverseSimd.IsSelected)
            {
                ResidualInverseSimd.InverseBlock(q, stepQ2, rgb);
            }
            else
            {
                InverseBlock(q, stepQ2, rgb);
            }

            for (int yy = 0; yy < h; yy++)
            {
                var row = image.Row(y0 + yy).Slice(x0 * 3, w * 3);
                for (int xx = 0; xx < w; xx++)
                {
                    int i = (yy * Block) + xx;
                    row[xx * 3] = (byte)Math.Clamp(row[xx * 3] + rgb[i], 0, 255);
                    row[(xx * 3) + 1] = (byte)Math.Clamp(row[(xx * 3) + 1] + rgb[Plane + i], 0, 255);
                    row[(xx * 3) + 2] = (byte)Math.Clamp(row[(xx * 3) + 2] + rgb[(2 * Plane) + i], 0, 255);
                }
            }
        }
    }

    /// <summary>
    /// The encoder's forward transform and quantiser for one tile: the residual <c>original − picture</c> over
    /// <paramref name="rect"/> (pixels outside the image repeat the nearest one inside, which keeps the edge blocks
    /// smooth), transformed and divided by the step (<paramref name="stepQ2"/> quarter pixels), rounded towards zero
    /// by <see cref="DeadZone"/> more than to nearest.
    /// Returns the tile's symbols in the order <see cref="Apply"/> reads them.
    /// </summary>
    public static int[] ForwardTile(Imaging.RgbImage original, Imaging.RgbImage picture, int stepQ2, (int X, int Y, int Width, int Height) rect)
        => Quantise(ForwardTileScaled(original, picture, stepQ2, rect));

    /// <summary>The dead-zone quantiser of <see cref="ForwardTile"/> on coefficients already divided by the step.</summary>
    public static int[] Quantise(double[] scaled)
    {
        var symbols = new int[scaled.Length];
        for (int i = 0; i < scaled.Length; i++)
        {
            double magnitude = Math.Floor(Math.Abs(scaled[i]) + 0.5 - DeadZone);
            symbols[i] = (int)Math.Clamp(Math.CopySign(magnitude, scaled[i]), -MaxSymbol, MaxSymbol);
        }

        return symbols;
    }

    /// <summary>The tile's coefficients in the order <see cref="Apply"/> reads them, divided by the step, not yet rounded (<see cref="ForwardTile"/>).</summary>
    public static double[] ForwardTileScaled(Imaging.RgbImage original, Imaging.RgbImage picture, int stepQ2, (int X, int Y, int Width, int Height) rect)
        => Scale(ForwardTileCoefficients(original, picture, rect), stepQ2);

    /// <summary><paramref name="coefficients"/> (<see cref="ForwardTileCoefficients"/>) divided by the step of <paramref name="stepQ2"/> quarter pixels: <see cref="ForwardTileScaled"/> for each step an encoder tries, from one transform.</summary>
    public static double[] Scale(double[] coefficients, int stepQ2)
    {
        double step = stepQ2 / 4.0;
        var scaled = new double[coefficients.Length];
        for (int i = 0; i < scaled.Length; i++)
        {
            scaled[i] = coefficients[i] / step;
        }

        return scaled;
    }

    /// <summary>The tile's residual coefficients in pixel values (the orthonormal transform of <c>original − picture</c>), in the order <see cref="Apply"/> reads them.</summary>
    public static double[] ForwardTileCoefficients(Imaging.RgbImage original, Imaging.RgbImage picture, (int X, int Y, int Width, int Height) rect)
    {
        const int N = Block, Plane = Block * Block;
        double[] basis = FloatBasis.Value;
        double[] rotation = FloatRotation.Value;
        int columns = rect.Width / Block, rows = rect.Height / Block;
        var symbols = new double[columns * rows * Coefficients];
        var planes = new double[Coefficients];
        var t = new double[Plane];
        for (int b = 0; b < columns * rows; b++)
        {
            int x0 = rect.X + (b % columns * Block), y0 = rect.Y + (b / columns * Block);
            for (int y = 0; y < N; y++)
            {
                int sy = Math.Min(y0 + y, original.Height - 1);
                var o = original.Row(sy);
                var r = picture.Row(sy);
                for (int x = 0; x < N; x++)
                {
                    int sx = Math.Min(x0 + x, original.Width - 1) * 3;
                    double dr = o[sx] - r[sx], dg = o[sx + 1] - r[sx + 1], db = o[sx + 2] - r[sx + 2];
                    for (int p = 0; p < 3; p++)
                    {
                        planes[(p * Plane) + (y * N) + x] = (rotation[p * 3] * dr) + (rotation[(p * 3) + 1] * dg) + (rotation[(p * 3) + 2] * db);
                    }
                }
            }

            var output = symbols.AsSpan(b * Coefficients, Coefficients);
            for (int p = 0; p < 3; p++)
            {
                var plane = planes.AsSpan(p * Plane, Plane);
                for (int k = 0; k < N; k++)
                {
                    for (int x = 0; x < N; x++)
                    {
                        double sum = 0;
                        for (int y = 0; y < N; y++)
                        {
                            sum += basis[(k * N) + y] * plane[(y * N) + x];
                        }

                        t[(k * N) + x] = sum;
                    }
                }

                for (int k = 0; k < N; k++)
                {
                    for (int l = 0; l < N; l++)
                    {
                        double sum = 0;
                        for (int x = 0; x < N; x++)
                        {
                            sum += t[(k * N) + x] * basis[(l * N) + x];
                        }

                        output[(p * Plane) + (k * N) + l] = sum;
                    }
                }
            }
        }

        return symbols;
    }

    private static readonly Lazy<double[]> FloatBasis = new(() =>
    {
        var d = new double[Block * Block];
        for (int k = 0; k < Block; k++)
        {
            double a = k == 0 ? Math.Sqrt(1.0 / Block) : Math.Sqrt(2.0 / Block);
            for (int n = 0; n < Block; n++)
            {
                d[(k * Block) + n] = a * Math.Cos(Math.PI * (n + 0.5) * k / Block);
            }
        }

        return d;
    });

    /// <summary>The forward colour rotation (rows: planes), the transpose of <see cref="Colour"/> in floating point.</summary>
    private static readonly Lazy<double[]> FloatRotation = new(() =>
    [
        1 / Math.Sqrt(3), 1 / Math.Sqrt(3), 1 / Math.Sqrt(3),
        1 / Math.Sqrt(2), 0, -1 / Math.Sqrt(2),
        1 / Math.Sqrt(6), -2 / Math.Sqrt(6), 1 / Math.Sqrt(6),
    ]);
}
