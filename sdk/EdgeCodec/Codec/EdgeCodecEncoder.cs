using EdgeCodec.Backends;
using EdgeCodec.Codec.Residual;
using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Codec;

/// <summary>
/// Encodes RGB images into latent packets with one model pack: analysis through ONNX Runtime
/// (float), then quantisation, the integer entropy path and rANS — the same integer code the
/// decoder runs, so every decoder derives identical probability tables.
/// </summary>
/// <remarks>Not thread-safe: use one encoder per thread. Needs the ONNX Runtime native library.</remarks>
public sealed class EdgeCodecEncoder : IDisposable
{
    private readonly ModelPack _pack;
    private readonly EncoderOptions _options;
    private readonly OnnxAnalysis _analysis;
    private readonly TileEntropyPath _path;
    private readonly TensorPool _pool = new(); // analysis windows and the entropy path's tensors, kept between pictures
    private (List<(ushort Expert, ModelPack Pack)> Candidates, DecoderBackend Provider)? _routing;

    /// <summary>Creates an encoder for <paramref name="pack"/>.</summary>
    /// <param name="pack">The model pack; must stay alive while the encoder is used.</param>
    /// <param name="options">Options, or null for defaults.</param>
    /// <exception cref="NotSupportedException">ONNX Runtime is not available, or <see cref="EncoderOptions.Analysis"/> asks for
    /// an int8 analysis the pack does not have.</exception>
    /// <exception cref="EdgeCodecFormatException">An analysis graph of the pack that ONNX Runtime cannot load.</exception>
    public EdgeCodecEncoder(ModelPack pack, EncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pack);
        _pack = pack;
        _options = options ?? new EncoderOptions();
        _analysis = new OnnxAnalysis(pack, _options.EffectiveThreads, _options.Analysis);
        _path = new TileEntropyPath(pack);
    }

    /// <summary>The model pack.</summary>
    public ModelPack Pack => _pack;

    /// <summary>
    /// Runs the analysis twice on a blank picture of the given size and discards it, so that ONNX Runtime has prepared
    /// every input shape that size needs (one per distinct analysis region, <see cref="EncoderOptions.AnalysisRegion"/>)
    /// before the first real picture: a cold encoder's first picture costs 1.7–2.1× a later one at 1080p and 2.8–3.6×
    /// at 768×512, and its second one about as much (docs/benchmarks.md: ONNX Runtime's memory pattern plans a shape's
    /// allocations in its first run and makes them in the second, so one blank run leaves the first picture as slow as
    /// a cold one). A camera calls this at
    /// start-up with its frame size, so its first frames take as long as the others. Changes no stream.
    /// </summary>
    /// <param name="width">Frame width in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <param name="height">Frame height in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is outside 1..<see cref="RgbImage.MaxDimension"/>.</exception>
    public void WarmUp(int width, int height)
    {
        var blank = new RgbImage(width, height);
        Analyse(blank, 0);
        Analyse(blank, 0);
    }

    /// <summary>Encodes one image.</summary>
    /// <param name="image">The image; read only.</param>
    /// <param name="quality">Quality level, 0 (smallest) .. <c>Pack.QualityLevels.Count - 1</c>.</param>
    /// <param name="layers">Refinement layers to emit, 1 .. groups; 0 = all.</param>
    /// <param name="streamId">Stream id written into every packet.</param>
    /// <param name="frameIndex">Frame index written into every packet.</param>
    /// <param name="firstSequence">Sequence number of the first packet.</param>
    /// <exception cref="ArgumentOutOfRangeException">Quality or layers out of range.</exception>
    public EncodedImage Encode(RgbImage image, int quality, int layers = 0, uint streamId = 0, uint frameIndex = 0, ulong firstSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegative(quality);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(quality, _pack.QualityLevels.Count);
        ValidateLayers(layers);
        var (grid, y, z) = Analyse(image, quality);
        return EncodeLatents(image, grid, quality, y, z, layers, streamId, frameIndex, firstSequence);
    }

    /// <summary>
    /// Encodes one image at a quality setting: a quality level and, when <see cref="QualitySetting.ResidualStep"/> is
    /// set, a residual layer after its latent layers that codes what the synthesis missed (docs/format.md, "The residual
    /// layer"). The encoder synthesises its own picture (with the tiles' experts) to measure that residual, so this
    /// costs about one decode more than <see cref="Encode(RgbImage, int, int, uint, uint, ulong)"/>.
    /// </summary>
    /// <param name="image">The image; read only.</param>
    /// <param name="setting">Level and residual step, e.g. an entry of <see cref="ModelPack.QualityLadder"/>.</param>
    /// <param name="layers">Layers to emit: 1 .. groups (latent layers only) or groups + 1 with a residual layer; 0 = all.</param>
    /// <param name="streamId">Stream id written into every packet.</param>
    /// <param name="frameIndex">Frame index written into every packet.</param>
    /// <param name="firstSequence">Sequence number of the first packet.</param>
    /// <exception cref="ArgumentOutOfRangeException">Level, step or layers out of range.</exception>
    /// <exception cref="NotSupportedException">A residual step was asked for and the pack has no residual tables.</exception>
    public EncodedImage Encode(RgbImage image, QualitySetting setting, int layers = 0, uint streamId = 0, uint frameIndex = 0, ulong firstSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(setting);
        int groups = _pack.Layout.Groups;
        if (setting.ResidualStep is not { } step || (layers > 0 && layers <= groups))
        {
            return Encode(image, setting.Level, layers, streamId, frameIndex, firstSequence);
        }

        CheckResidualStep(step, layers);
        ArgumentOutOfRangeException.ThrowIfNegative(setting.Level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(setting.Level, _pack.QualityLevels.Count);
        int quality = setting.Level;
        var (grid, y, z) = Analyse(image, quality);
        return EncodeWithLayer(image, grid, quality, y, z, step, streamId, frameIndex, firstSequence);
    }

    /// <summary>A residual step index and a layer count valid for this encoder's pack (<paramref name="step"/> set: the stream gets a residual layer).</summary>
    /// <exception cref="NotSupportedException">The pack has no residual tables.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Step or layers out of range.</exception>
    private void CheckResidualStep(int step, int layers)
    {
        var tables = _pack.Residual ?? throw new NotSupportedException($"Model pack {_pack.Sha256[..12]} has no residual layer tables.");
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(step, tables.StepsQ2.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layers, _pack.Layout.Groups + 1);
    }

    /// <summary>All groups of gained latents <paramref name="y"/> and hyper-latents <paramref name="z"/>, then a residual layer of step index <paramref name="step"/> over their picture.</summary>
    private EncodedImage EncodeWithLayer(RgbImage image, TileGrid grid, int quality, float[] y, float[] z, int step, uint streamId, uint frameIndex, ulong firstSequence)
    {
        var (payloads, experts, picture) = EncodeWhole(image, grid, quality, y, z);
        byte[][] layer = ResidualPayloads(image, picture, grid, quality, step);
        return Assemble(image, grid, quality, WithResidual(payloads, layer), experts, streamId, frameIndex, firstSequence);
    }

    /// <summary>Every group of <paramref name="y"/> and <paramref name="z"/> coded, and the picture a decoder draws from them (with the tiles' experts): what a residual layer is measured against.</summary>
    private (TileStreams[] Payloads, ushort[] Experts, RgbImage Picture) EncodeWhole(RgbImage image, TileGrid grid, int quality, float[] y, float[] z)
    {
        var (payloads, latents) = EncodeTiles(grid, y, z, _pack.Layout.Groups);
        var (experts, _, picture) = Synthesize(image, grid, latents, quality);
        return (payloads, experts, picture);
    }

    /// <summary>
    /// Each tile's residual-layer payload for <paramref name="picture"/>, the synthesis of <paramref name="quality"/>;
    /// from the tiles' <paramref name="coefficients"/> (<see cref="ResidualTransform.ForwardTileCoefficients"/>) when
    /// the caller tries several steps over one picture.
    /// </summary>
    private byte[][] ResidualPayloads(RgbImage image, RgbImage picture, TileGrid grid, int quality, int step, double[][]? coefficients = null)
    {
        var tables = _pack.Residual!;
        int stepQ2 = tables.StepsQ2[step];
        var layer = new byte[grid.Count][];
        Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, tile =>
        {
            double[] scaled = coefficients is null
                ? ResidualTransform.ForwardTileScaled(image, picture, stepQ2, grid.PixelRect(tile))
                : ResidualTransform.Scale(coefficients[tile], stepQ2);
            int[] symbols = ResidualLayer.Optimise(tables, _pack.GaussianTables, quality, step, scaled);
            layer[tile] = ResidualLayer.Encode(tables, _pack.GaussianTables, quality, step, symbols);
        });
        return layer;
    }

    private static TileStreams[] WithResidual(TileStreams[] payloads, byte[][] layer)
        => [.. payloads.Select((tile, i) => tile with { Residual = layer[i] })];

    /// <summary>The squared error of <paramref name="picture"/> with a residual layer applied as a decoder applies it.</summary>
    private long ResidualError(RgbImage image, RgbImage picture, TileGrid grid, int quality, byte[][] layer)
    {
        var tables = _pack.Residual!;
        var corrected = new RgbImage(picture.Width, picture.Height, (byte[])picture.Pixels.Clone());
        long error = 0;
        for (int tile = 0; tile < grid.Count; tile++)
        {
            var rect = grid.PixelRect(tile);
            var (step, symbols) = ResidualLayer.Decode(layer[tile], tables, _pack.GaussianTables, quality, ResidualLayer.Blocks(rect));
            ResidualTransform.Apply(symbols, tables.StepsQ2[step], rect, corrected, _options.EffectiveThreads);
            error += TileSynthesis.SquaredError(image, corrected, grid, tile);
        }

        return error;
    }

    /// <summary>
    /// For <see cref="EncodeWithin(RgbImage, long, Func{EncodedImage, long}, uint, uint, ulong)"/>: the best stream of
    /// <paramref name="quality"/> (<paramref name="whole"/>: its groups' payloads, routing and picture), all its groups and a residual layer, that fits the budget: the finest step that fits
    /// (a finer step never codes fewer bytes, so a binary search over the steps by size finds it), with its size and error.
    /// </summary>
    private (EncodedImage Encoded, long Size, long Error)? WithinResidual(RgbImage image, TileGrid grid, (TileStreams[] Payloads, ushort[] Experts, RgbImage Picture) whole,
        int quality, long maxBytes, Func<EncodedImage, long> sizeOf, uint streamId, uint frameIndex, ulong firstSequence)
    {
        var tables = _pack.Residual!;
        int groups = _pack.Layout.Groups;
        var (payloads, experts, picture) = whole;
        int[] byFineness = [.. Enumerable.Range(0, tables.StepsQ2.Count).OrderByDescending(i => tables.StepsQ2[i])]; // coarsest first
        var coefficients = new double[grid.Count][]; // one transform of the picture's residual serves every step tried
        Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, tile =>
            coefficients[tile] = ResidualTransform.ForwardTileCoefficients(image, picture, grid.PixelRect(tile)));
        int lo = 0, hi = byFineness.Length - 1;
        (EncodedImage Encoded, long Size, byte[][] Layer)? found = null;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            byte[][] layer = ResidualPayloads(image, picture, grid, quality, byFineness[mid], coefficients);
            var encoded = Assemble(image, grid, quality, WithResidual(payloads, layer), experts, streamId, frameIndex, firstSequence);
            long size = sizeOf(encoded);
            if (size <= maxBytes)
            {
                found = (encoded, size, layer);
                lo = mid + 1; // fits: try finer
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found is { } f ? (f.Encoded, f.Size, ResidualError(image, picture, grid, quality, f.Layer)) : null;
    }

    /// <summary>
    /// Encodes one image from latents the studio encoder refined for it (docs/refinement.md) instead of running the
    /// analysis transforms, at the setting the latents were optimised for (<see cref="RefinedLatents.Setting"/>: their
    /// quality level, and a residual layer at their step if they were refined with it in the loop). Quantisation, the
    /// integer entropy path, rANS, packets and expert routing are the same as for <see cref="Encode(RgbImage, int, int, uint, uint, ulong)"/>.
    /// </summary>
    /// <param name="image">The image the latents were refined for; sets the container's size and, with experts, drives routing.</param>
    /// <param name="latents">Refined latents read with <see cref="RefinedLatents.Read"/> for this encoder's pack.</param>
    /// <param name="layers">Refinement layers to emit, 1 .. groups; 0 = all.</param>
    /// <param name="streamId">Stream id written into every packet.</param>
    /// <param name="frameIndex">Frame index written into every packet.</param>
    /// <param name="firstSequence">Sequence number of the first packet.</param>
    /// <exception cref="ArgumentException">The latents belong to another model or to an image of another size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Layers out of range.</exception>
    public EncodedImage Encode(RgbImage image, RefinedLatents latents, int layers = 0, uint streamId = 0, uint frameIndex = 0, ulong firstSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(latents);
        return Encode(image, latents, latents.Setting, layers, streamId, frameIndex, firstSequence);
    }

    /// <summary>
    /// Encodes one image from refined latents (<see cref="Encode(RgbImage, RefinedLatents, int, uint, uint, ulong)"/>)
    /// at a quality setting: with <see cref="QualitySetting.ResidualStep"/> set, a residual layer after the latent
    /// layers codes what the synthesis of the refined latents missed, as <see cref="Encode(RgbImage, QualitySetting, int, uint, uint, ulong)"/>
    /// does for the one-pass latents. The studio encoder's ladder: <c>edgecodec eval --refined-latents DIR --ladder</c>.
    /// </summary>
    /// <param name="image">The image the latents were refined for.</param>
    /// <param name="latents">Refined latents read with <see cref="RefinedLatents.Read"/> for this encoder's pack.</param>
    /// <param name="setting">
    /// The setting; its level must be the one the latents were refined for, and for latents refined with the layer in
    /// the loop (<see cref="RefinedLatents.ResidualStep"/>) so must its step (a prefix of the latent layers alone is
    /// still allowed).
    /// </param>
    /// <param name="layers">Layers to emit: 1 .. groups (latent layers only) or groups + 1 with a residual layer; 0 = all.</param>
    /// <param name="streamId">Stream id written into every packet.</param>
    /// <param name="frameIndex">Frame index written into every packet.</param>
    /// <param name="firstSequence">Sequence number of the first packet.</param>
    /// <exception cref="ArgumentException">The latents belong to another model, another image size or another level or residual step than <paramref name="setting"/>'s.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Step or layers out of range.</exception>
    /// <exception cref="NotSupportedException">A residual step was asked for and the pack has no residual tables.</exception>
    public EncodedImage Encode(RgbImage image, RefinedLatents latents, QualitySetting setting, int layers = 0, uint streamId = 0, uint frameIndex = 0, ulong firstSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(setting);
        if (setting.Level != latents.Quality)
        {
            throw new ArgumentException($"The latents were refined for quality level {latents.Quality}, not {setting.Level}.", nameof(setting));
        }

        int groups = _pack.Layout.Groups;
        bool prefix = layers > 0 && layers <= groups;
        if (latents.ResidualStep is { } refinedFor && setting.ResidualStep != refinedFor && !prefix)
        {
            throw new ArgumentException($"The latents were refined for {latents.Setting} (the residual layer in the loop); encode them at that setting, not {setting}.", nameof(setting));
        }

        if (setting.ResidualStep is not { } step || prefix)
        {
            ValidateLayers(layers);
            return EncodeLatents(image, Grid(image), latents.Quality, latents.Y, RefinedZ(image, latents), layers, streamId, frameIndex, firstSequence);
        }

        CheckResidualStep(step, layers);
        return EncodeWithLayer(image, Grid(image), latents.Quality, latents.Y, RefinedZ(image, latents), step, streamId, frameIndex, firstSequence);
    }

    /// <summary>The hyper-latents of <paramref name="latents"/> as the entropy path takes them, once they are checked to be for this pack and <paramref name="image"/>.</summary>
    /// <exception cref="ArgumentException">The latents belong to another model or to an image of another size.</exception>
    private float[] RefinedZ(RgbImage image, RefinedLatents latents)
    {
        if (latents.ModelId != _pack.ModelId)
        {
            throw new ArgumentException($"The latents are for model {latents.ModelId:x16}, the encoder's pack is {_pack.ModelId:x16}.", nameof(latents));
        }

        if (latents.Width != image.Width || latents.Height != image.Height)
        {
            throw new ArgumentException($"The latents are for a {latents.Width}x{latents.Height} image, not {image.Width}x{image.Height}.", nameof(latents));
        }

        return Array.ConvertAll(latents.Z, v => (float)v); // |z| <= 2^20: exact in float
    }

    /// <summary>
    /// Encodes one image into the stream that reconstructs it best within a byte budget: of every quality level and
    /// number of refinement layers (with the pack's residual tables, also a residual layer at any of its steps) whose
    /// complete <c>.ecx</c> container fits in <paramref name="maxBytes"/>, the one
    /// whose decoded picture has the least squared error (measured by synthesising the candidates; ties go to the
    /// smaller stream). For a camera uplink with fixed-size slots or a storage quota per picture.
    /// </summary>
    /// <param name="image">The image; read only.</param>
    /// <param name="maxBytes">The largest container, in bytes, that may be returned, in the default (compact) layout.</param>
    /// <param name="streamId">Stream id written into every packet.</param>
    /// <param name="frameIndex">Frame index written into every packet.</param>
    /// <param name="firstSequence">Sequence number of the first packet.</param>
    /// <returns>
    /// The chosen stream (its <see cref="EncodedImage.Header"/> names the quality level and layer count), byte for
    /// byte what <see cref="Encode(RgbImage, int, int, uint, uint, ulong)"/> writes for that level and layer count, or
    /// with a residual layer (layer count groups + 1) what <see cref="Encode(RgbImage, QualitySetting, int, uint, uint, ulong)"/>
    /// writes for that level and step.
    /// </returns>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="maxBytes"/> is smaller than this image's smallest stream (quality 0, base layer only; with
    /// <see cref="EncoderOptions.PreviewLayer"/>, the smallest preview layer alone); the message gives that size.
    /// </exception>
    /// <remarks>
    /// <para>With <see cref="EncoderOptions.PreviewLayer"/>, a budget below every base layer still gets a whole picture:
    /// the preview layer alone (each tile's hyper-latent, a few hundred bytes per 1024-px tile), of the level whose
    /// preview is the largest that fits.</para>
    /// Runs the analysis transform once, the entropy path once per quality level, and the synthesis once per
    /// candidate that can win: the highest level that fits with all its layers and every higher level that fits
    /// with fewer (a prefix of a higher level can beat a lower level whole). Lower levels are not synthesised: the
    /// model's levels rise in quality with rate, and within a level every layer adds to it. With a pack that has
    /// residual tables, the three highest levels that fit whole are also tried with a residual layer after their
    /// groups, each at the finest step that still fits (a binary search over the steps: a few layer encodes, one
    /// synthesis per level, the highest one shared with the search above), and the stream of least squared error wins;
    /// that search costs about two decodes more.
    /// </remarks>
    public EncodedImage EncodeWithin(RgbImage image, long maxBytes, uint streamId = 0, uint frameIndex = 0, ulong firstSequence = 0)
        => EncodeWithin(image, maxBytes, ContainerSize, streamId, frameIndex, firstSequence);

    /// <summary>
    /// Encodes one image into the stream that reconstructs it best within a byte budget counted by
    /// <paramref name="sizeOf"/>: a stream's size on a link (<c>StreamSender.LinkBytes</c> in EdgeCodec.Streaming, so
    /// that a frame fits one frame interval of the link), in a store, or in any other framing. Otherwise as
    /// <see cref="EncodeWithin(RgbImage, long, uint, uint, ulong)"/>, which counts compact <c>.ecx</c> container bytes.
    /// </summary>
    /// <param name="image">The image; read only.</param>
    /// <param name="maxBytes">The largest size, as <paramref name="sizeOf"/> counts it, that may be returned.</param>
    /// <param name="sizeOf">
    /// The size of a candidate stream (a whole stream, or a stream with fewer layers: its header's layer count says
    /// which). It must not shrink when a layer is added, and it is called a few times per quality level.
    /// </param>
    /// <param name="streamId">Stream id written into every packet.</param>
    /// <param name="frameIndex">Frame index written into every packet.</param>
    /// <param name="firstSequence">Sequence number of the first packet (sizes on a link depend on it).</param>
    /// <returns>The chosen stream, byte for byte what <see cref="Encode(RgbImage, int, int, uint, uint, ulong)"/> (or, with a residual layer, <see cref="Encode(RgbImage, QualitySetting, int, uint, uint, ulong)"/>) writes for its setting.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> or <paramref name="sizeOf"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="maxBytes"/> is smaller than this image's smallest stream (quality 0, base layer only); the
    /// message gives that size.
    /// </exception>
    public EncodedImage EncodeWithin(RgbImage image, long maxBytes, Func<EncodedImage, long> sizeOf, uint streamId = 0, uint frameIndex = 0, ulong firstSequence = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(sizeOf);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        var grid = Grid(image);
        TensorPool pool = _pool.For(grid.Width, grid.Height, grid.TileSize); // a camera's geometry stays the same
        float[] planar = ToPaddedPlanar(image, grid.PaddedWidth, grid.PaddedHeight, pool);
        float[] analysed = _analysis.Analyze(planar, grid.PaddedHeight, grid.PaddedWidth, _options.AnalysisRegion, pool);
        pool.Return(planar);
        int groups = _pack.Layout.Groups, plane = grid.LatentHeight * grid.LatentWidth;

        // One level's gained latents at a time, in one buffer (a multiply per element, against keeping a copy per
        // level: 4 MB each at 1080p, seven levels); each use below ends before the next level is gained.
        float[] scratch = TensorPool.Floats(pool, analysed.Length);
        float[] Gained(int q)
        {
            analysed.CopyTo(scratch, 0);
            ApplyGain(scratch, _pack.QualityLevels[q].Gain.Span, plane);
            return scratch;
        }

        // Sizes of every (level, layers) prefix, from one full encode per level without routing: a prefix of a
        // stream is the stream with fewer layers (packets are written layer by layer), and routing only changes
        // expert ids, whose size the final check below covers.
        var hyper = new float[_pack.QualityLevels.Count][];
        var candidates = new List<(int Quality, int Layers)>();
        long smallest = long.MaxValue;
        EncodedImage? previewOnly = null; // with a preview layer: the largest stream of z alone that fits, if nothing more does
        long previewOnlySize = 0;
        for (int q = 0; q < hyper.Length; q++)
        {
            float[] y = Gained(q);
            float[] z = _analysis.HyperAnalyze(y, grid.LatentHeight, grid.LatentWidth);
            hyper[q] = z;
            var full = Assemble(image, grid, q, EncodeTiles(grid, y, z, groups).Payloads, new ushort[grid.Count], streamId, frameIndex, firstSequence);
            if (_options.PreviewLayer)
            {
                var preview = Prefix(full, 0);
                long size = sizeOf(preview);
                smallest = Math.Min(smallest, size);
                if (size <= maxBytes && size > previewOnlySize)
                {
                    (previewOnly, previewOnlySize) = (preview, size);
                }
            }

            int fitting = 0;
            for (int k = 1; k <= groups; k++)
            {
                long size = sizeOf(Prefix(full, k));
                smallest = Math.Min(smallest, size);
                if (size <= maxBytes)
                {
                    fitting = k;
                }
            }

            if (fitting > 0)
            {
                candidates.Add((q, fitting));
            }
        }

        // With a residual layer, a lower level plus the layer can beat a higher level alone (the pack's ladder).
        int[] residualLevels = _pack.Residual is null ? []
            : [.. candidates.Where(c => c.Layers == groups).Select(c => c.Quality).OrderDescending().Take(ResidualCandidateLevels)];

        // A level below the highest one that fits whole reconstructs worse than it (fewer bits of the same model).
        int complete = candidates.FindLastIndex(c => c.Layers == groups);
        if (complete > 0)
        {
            candidates.RemoveRange(0, complete);
        }

        EncodedImage? best = null;
        long bestError = long.MaxValue, bestSize = long.MaxValue;
        var whole = new Dictionary<int, (TileStreams[] Payloads, ushort[] Experts, RgbImage Picture)>(); // for the residual search
        foreach (var (q, k) in candidates)
        {
            var (payloads, latents) = EncodeTiles(grid, Gained(q), hyper[q], k);
            // One synthesis pass routes the tiles (with experts) and measures the picture; a lone candidate without
            // experts needs neither.
            var (experts, error) = (new ushort[grid.Count], 0L);
            if (candidates.Count > 1 || _options.Experts.Count > 0 || residualLevels.Length > 0)
            {
                (experts, error, var picture) = Synthesize(image, grid, latents, q);
                if (k == groups)
                {
                    whole[q] = (payloads, experts, picture);
                }
            }

            var encoded = Assemble(image, grid, q, payloads, experts, streamId, frameIndex, firstSequence);
            long size = sizeOf(encoded);
            if (size > maxBytes)
            {
                continue; // routed expert ids made it longer than the unrouted estimate
            }

            if (error < bestError || (error == bestError && size < bestSize))
            {
                (best, bestError, bestSize) = (encoded, error, size);
            }
        }

        foreach (int q in residualLevels)
        {
            if (!whole.TryGetValue(q, out var synthesized))
            {
                synthesized = EncodeWhole(image, grid, q, Gained(q), hyper[q]);
            }

            if (WithinResidual(image, grid, synthesized, q, maxBytes, sizeOf, streamId, frameIndex, firstSequence) is { } r
                && (r.Error < bestError || (r.Error == bestError && r.Size < bestSize)))
            {
                (best, bestError, bestSize) = (r.Encoded, r.Error, r.Size);
            }
        }

        pool.Return(scratch);
        pool.Return(analysed);
        return best ?? previewOnly ?? throw new ArgumentOutOfRangeException(nameof(maxBytes),
            $"The smallest stream for this {image.Width}x{image.Height} image is {smallest} bytes ({(_options.PreviewLayer ? "the preview layer" : "quality 0, base layer")} only).");
    }

    /// <summary>How many of the highest levels that fit whole <see cref="EncodeWithin(RgbImage, long, Func{EncodedImage, long}, uint, uint, ulong)"/> also tries with a residual layer (the shipped ladder adds one to levels 2..5, two levels below the top at most).</summary>
    private const int ResidualCandidateLevels = 3;

    /// <summary>The image's tile grid: the encoder's tile size, or the pack's.</summary>
    private TileGrid Grid(RgbImage image) => new(image.Width, image.Height, _options.TileSize > 0 ? _options.TileSize : _pack.Layout.TileSize);

    /// <summary>The analysis transforms at <paramref name="quality"/>: the grid, gained latents y and hyper-latents z.</summary>
    private (TileGrid Grid, float[] Y, float[] Z) Analyse(RgbImage image, int quality)
    {
        var grid = Grid(image);
        TensorPool pool = _pool.For(grid.Width, grid.Height, grid.TileSize); // a camera's geometry stays the same
        float[] planar = ToPaddedPlanar(image, grid.PaddedWidth, grid.PaddedHeight, pool);
        float[] y = _analysis.Analyze(planar, grid.PaddedHeight, grid.PaddedWidth, _options.AnalysisRegion, pool);
        pool.Return(planar);
        ApplyGain(y, _pack.QualityLevels[quality].Gain.Span, grid.LatentHeight * grid.LatentWidth);
        return (grid, y, _analysis.HyperAnalyze(y, grid.LatentHeight, grid.LatentWidth));
    }

    /// <summary>Bytes of the complete container holding <paramref name="encoded"/>.</summary>
    private static long ContainerSize(EncodedImage encoded) => encoded.WriteContainer(Stream.Null);

    /// <summary>The stream of the first <paramref name="layers"/> latent layers of <paramref name="full"/> (its packets are in layer order); 0 with a preview layer: the preview alone.</summary>
    private static EncodedImage Prefix(EncodedImage full, int layers)
    {
        int kept = full.Header.LayerOfGroup(layers - 1) + 1; // with a preview layer, one more than the latent layers
        if (kept == full.Header.LayerCount)
        {
            return full;
        }

        return new EncodedImage(full.Header.WithLayerCount(kept), full.Packets.Take(kept * full.Header.TileCount).ToArray()) { ExpertsPerTile = full.ExpertsPerTile };
    }

    /// <summary>Quantises and entropy-codes gained latents <paramref name="y"/> (read only) and hyper-latents <paramref name="z"/>.</summary>
    private EncodedImage EncodeLatents(RgbImage image, TileGrid grid, int quality, float[] y, float[] z, int layers, uint streamId, uint frameIndex, ulong firstSequence)
    {
        layers = layers == 0 ? _pack.Layout.Groups : layers;
        var (payloads, latents) = EncodeTiles(grid, y, z, layers);
        ushort[] experts = _options.Experts.Count == 0 ? new ushort[grid.Count] : Route(image, grid, latents, quality);
        return Assemble(image, grid, quality, payloads, experts, streamId, frameIndex, firstSequence);
    }

    /// <summary>
    /// Every tile's streams (z and groups 0 .. <paramref name="layers"/> − 1), and the latents a decoder rebuilds from them
    /// (predicted means for the layers not written).
    /// </summary>
    private (TileStreams[] Payloads, I32Tensor Latents) EncodeTiles(TileGrid grid, float[] y, float[] z, int layers)
    {
        var payloads = new TileStreams[grid.Count];
        var latents = new I32Tensor(_pack.Layout.LatentChannels, grid.LatentHeight, grid.LatentWidth);
        Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, tile =>
            payloads[tile] = EncodeTile(grid, tile, y, z, layers, latents));
        return (payloads, latents);
    }

    /// <summary>
    /// The header and the packets in prefix order: layer 0 of every tile, then layer 1, and so on; each tile's
    /// streams laid out as layers by <see cref="LayerPayload.Layers"/> (with a <see cref="EncoderOptions.PreviewLayer"/>
    /// the z stream is a layer of its own).
    /// </summary>
    private EncodedImage Assemble(RgbImage image, TileGrid grid, int quality, TileStreams[] tiles, ushort[] experts, uint streamId, uint frameIndex, ulong firstSequence)
    {
        byte[][][] payloads = [.. tiles.Select(t => LayerPayload.Layers(t, _options.PreviewLayer))];
        int layers = payloads[0].Length; // every tile codes the same groups

        var header = ContainerHeader.Create(_pack.ModelId, image.Width, image.Height, grid.TileSize, grid.TileSize, checked((byte)layers),
            frameCount: checked(frameIndex + 1), qualityLevel: (byte)quality, previewLayer: _options.PreviewLayer); // frames 0..frameIndex; only frameIndex is present
        var packets = new List<LatentPacket>(grid.Count * layers);
        ulong sequence = firstSequence;
        for (int layer = 0; layer < layers; layer++)
        {
            for (int tile = 0; tile < grid.Count; tile++)
            {
                packets.Add(new LatentPacket
                {
                    StreamId = streamId,
                    Sequence = sequence++,
                    FrameIndex = frameIndex,
                    TileIndex = checked((ushort)tile),
                    Layer = (byte)layer,
                    ExpertId = experts[tile],
                    ModelId = _pack.ModelId,
                    Payload = payloads[tile][layer],
                });
            }
        }

        return new EncodedImage(header, packets) { ExpertsPerTile = experts };
    }

    private void ValidateLayers(int layers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(layers, _pack.Layout.Groups);
    }

    /// <inheritdoc/>
    public void Dispose() => _analysis.Dispose();

    /// <summary>Per tile, the expert whose synthesis reconstructs it with the least squared error.</summary>
    private ushort[] Route(RgbImage image, TileGrid grid, I32Tensor latents, int quality) =>
        Synthesize(image, grid, latents, quality).Experts;

    /// <summary>
    /// Synthesises <paramref name="latents"/> tile by tile with the base and every expert and returns per tile the
    /// expert with the least squared error, the image's total squared error with those experts, and that picture.
    /// </summary>
    private (ushort[] Experts, long Error, RgbImage Picture) Synthesize(RgbImage image, TileGrid grid, I32Tensor latents, int quality)
    {
        var (candidates, provider) = _routing ??= RoutingCandidates();
        var yq = (U8Tensor)((QuantizeNode)_pack.GetGraph("synthesis").Nodes[0]).Execute([latents], quality, 1);
        var best = new ushort[grid.Count];
        var bestError = Enumerable.Repeat(long.MaxValue, grid.Count).ToArray();
        RgbImage? picture = null;
        foreach (var (expert, pack) in candidates)
        {
            using var backend = provider.Create(pack, new BackendOptions { Threads = _options.Threads });
            var reconstruction = new RgbImage(image.Width, image.Height);
            for (int tile = 0; tile < grid.Count; tile++)
            {
                TileSynthesis.Run(backend, yq, grid, grid.LatentRect(tile), _pack.Layout.SynthesisHalo, reconstruction);
                long error = TileSynthesis.SquaredError(image, reconstruction, grid, tile);
                if (error < bestError[tile])
                {
                    bestError[tile] = error;
                    best[tile] = expert;
                    if (picture is not null)
                    {
                        CopyTile(reconstruction, picture, grid, tile);
                    }
                }
            }

            picture ??= reconstruction;
        }

        return (best, bestError.Sum(), picture!);
    }

    private static void CopyTile(RgbImage from, RgbImage to, TileGrid grid, int tile)
    {
        var (x, y, w, h) = grid.PixelRect(tile);
        w = Math.Min(w, from.Width - x);
        h = Math.Min(h, from.Height - y);
        for (int r = y; r < y + h; r++)
        {
            from.Row(r).Slice(x * 3, w * 3).CopyTo(to.Row(r).Slice(x * 3, w * 3));
        }
    }

    /// <summary>The backend this encoder synthesises its own picture with (<see cref="EncoderOptions.Backend"/>).</summary>
    internal string SynthesisBackend => (_routing ??= RoutingCandidates()).Provider.Name;

    /// <summary>
    /// The base and every expert as packs, and one backend for all of them (<see cref="EncoderOptions.Backend"/>), one
    /// that can run the adapters so the comparison is fair. Built once per encoder: adapted packs are new objects.
    /// The backend is never the timing probe's choice (<see cref="DecoderBackends.Auto"/>): under load the probe can
    /// pick another backend from one encoder to the next, whose picture differs within the synthesis tolerance, and
    /// the same image would get a different residual layer.
    /// </summary>
    private (List<(ushort Expert, ModelPack Pack)> Candidates, DecoderBackend Provider) RoutingCandidates()
    {
        var candidates = new List<(ushort Expert, ModelPack Pack)> { (0, _pack) };
        candidates.AddRange(_options.Experts.Select(a => (a.Manifest.ExpertId, _pack.WithAdapter(a))));
        ModelPack widest = candidates[^1].Pack;
        DecoderBackend provider = _options.Backend is { Length: > 0 } name && !string.Equals(name, DecoderBackends.Auto, StringComparison.OrdinalIgnoreCase)
            ? DecoderBackends.Resolve(name, widest)
            : DecoderBackends.All.First(b => b.IsAvailable(widest, out _)); // by priority; the reference is always available
        return (candidates, provider);
    }

    private TileStreams EncodeTile(TileGrid grid, int tile, float[] y, float[] z, int layers, I32Tensor latents)
    {
        var layout = _pack.Layout;
        var (zx, zy, zw, zh) = grid.HyperRect(tile);
        var zTile = TensorPool.I32(_pool, layout.HyperChannels, zh, zw); // every element written below
        int hyperPlane = grid.HyperWidth * grid.HyperHeight;
        for (int c = 0; c < layout.HyperChannels; c++)
        {
            for (int r = 0; r < zh; r++)
            {
                for (int x = 0; x < zw; x++)
                {
                    float v = z[(c * hyperPlane) + ((zy + r) * grid.HyperWidth) + zx + x];
                    zTile.Data[(c * zh * zw) + (r * zw) + x] = checked((int)MathF.Round(v, MidpointRounding.ToEven));
                }
            }
        }

        var (lx, ly, lw, lh) = grid.LatentRect(tile);
        int plane = lw * lh, gc = layout.GroupChannels, latentPlane = grid.LatentWidth * grid.LatentHeight;
        double one = 1 << layout.MeanFractionBits;
        var streams = new byte[layers][];
        var yTile = _path.Run(zTile, (k, mean, index) =>
        {
            if (k >= layers)
            {
                return null;
            }

            int[] symbols = _pool.RentInts(gc * plane, clear: false); // every element written below; handed back after the group
            for (int c = 0; c < gc; c++)
            {
                int channel = (k * gc) + c;
                for (int r = 0; r < lh; r++)
                {
                    for (int x = 0; x < lw; x++)
                    {
                        int i = (c * plane) + (r * lw) + x;
                        double v = y[(channel * latentPlane) + ((ly + r) * grid.LatentWidth) + lx + x];
                        symbols[i] = checked((int)Math.Floor(v - (mean.Data[i] / one) + 0.5));
                    }
                }
            }

            streams[k] = RansCodec.Encode(symbols, index.Data, _pack.GaussianTables);
            return symbols;
        }, maxDegreeOfParallelism: TileEntropyPath.ThreadsPerTile(_options.EffectiveThreads, grid.Count), pool: _pool);

        for (int c = 0; c < layout.LatentChannels; c++)
        {
            for (int r = 0; r < lh; r++)
            {
                yTile.Data.AsSpan((c * plane) + (r * lw), lw).CopyTo(latents.Data.AsSpan((c * latentPlane) + ((ly + r) * grid.LatentWidth) + lx, lw));
            }
        }

        _pool.Return(yTile);
        int[] zTables = TileEntropyPath.HyperTableIndices(layout.HyperChannels, zh * zw, _pool);
        byte[] zStream = RansCodec.Encode(zTile.Data, zTables, _pack.FactorizedTables);
        _pool.Return(zTables);
        _pool.Return(zTile);
        return new TileStreams(zStream, streams);
    }

    private static void ApplyGain(float[] y, ReadOnlySpan<float> gain, int plane)
    {
        for (int c = 0; c < gain.Length; c++)
        {
            var p = y.AsSpan(c * plane, plane);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] *= gain[c];
            }
        }
    }

    /// <summary>Planar float 0..1 image padded to (w, h) by edge replication.</summary>
    internal static float[] ToPaddedPlanar(RgbImage image, int width, int height, TensorPool? pool = null)
    {
        float[] planar = TensorPool.Floats(pool, 3 * width * height); // every element written below
        int plane = width * height;
        for (int r = 0; r < height; r++)
        {
            var row = image.Row(Math.Min(r, image.Height - 1));
            for (int x = 0; x < width; x++)
            {
                int sx = Math.Min(x, image.Width - 1) * 3;
                int o = (r * width) + x;
                planar[o] = row[sx] / 255f;
                planar[plane + o] = row[sx + 1] / 255f;
                planar[(2 * plane) + o] = row[sx + 2] / 255f;
            }
        }

        return planar;
    }
}
