using System.Diagnostics;
using EdgeCodec.Backends;
using EdgeCodec.Codec.Residual;
using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Inference;
using EdgeCodec.Models;

namespace EdgeCodec.Codec;

/// <summary>
/// Push/pull decoder: <see cref="SetHeader"/>, then <see cref="SendPacket"/> in any order (duplicates are
/// ignored), then <see cref="TryReceiveFrame"/> once a frame is complete, or <see cref="DecodeFrame"/> at any
/// time for a progressive picture of what has arrived. <see cref="Decode(Stream)"/> does all of it for a container
/// file, complete or truncated, and keeps the decoder for the next one; <see cref="Decode(ModelPack, Stream, DecoderOptions?)"/>
/// is the same with a decoder made for one call.
/// </summary>
/// <remarks>
/// Parsing (rANS, hyper decoder, context models) is integer and identical on every machine; only the
/// synthesis backend may differ within its stated tolerance. Tiles whose base layer is missing are
/// concealed and reported, never a crash. Not thread-safe: one caller at a time.
/// </remarks>
public sealed class EdgeCodecDecoder : IDisposable
{
    private readonly ModelPack _pack;
    private readonly DecoderOptions _options;
    private readonly ISynthesisBackend _backend;
    private readonly TileEntropyPath _path;
    private readonly QuantizeNode _synthesisInput;
    private readonly SortedDictionary<uint, LatentPacket?[,]> _frames = [];
    private readonly Dictionary<ModelPack, ISynthesisBackend> _adapterBackends = new(ReferenceEqualityComparer.Instance);
    private readonly TensorPool _pool = new(); // emptied when the picture geometry changes (TensorPool.For)
    private ContainerHeader? _header;
    private TileGrid? _grid;
    private bool _endOfStream;

    /// <summary>Creates a decoder for <paramref name="pack"/> on the backend named in <paramref name="options"/>.</summary>
    /// <param name="pack">The model pack; must stay alive while the decoder is used.</param>
    /// <param name="options">Options, or null for defaults (automatic backend).</param>
    /// <exception cref="ArgumentException">Unknown backend name.</exception>
    /// <exception cref="NotSupportedException">The named backend is unavailable; the message says why.</exception>
    public EdgeCodecDecoder(ModelPack pack, DecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pack);
        _pack = pack;
        _options = options ?? new DecoderOptions();
        var backend = DecoderBackends.Resolve(_options.Backend, pack, _options.Log);
        _backend = backend.Create(pack, new BackendOptions { Threads = _options.Threads });
        _path = new TileEntropyPath(pack);
        _synthesisInput = pack.GetGraph("synthesis").Nodes[0] as QuantizeNode
            ?? throw new EdgeCodecFormatException("The synthesis graph must start with a quantize node.");
    }

    /// <summary>The backend doing the synthesis.</summary>
    public string BackendName => _backend.Name;

    /// <summary>
    /// Runs the integer entropy path of every tile and the synthesis (<see cref="ISynthesisBackend.WarmUpRuns"/> times:
    /// once on the integer engines, twice on ONNX Runtime) on a blank latent of the given picture
    /// size, and discards the picture, so that the backend has its buffers (and ONNX Runtime every window shape,
    /// planned and allocated) before the first real picture: a new decoder's first picture otherwise costs up to 2–2.7×
    /// a later one, and at most 1.5× after this (docs/benchmarks.md, "A decoder kept for the next picture"). A player calls this at start-up with its
    /// stream's size. Changes no state: the header and pending packets stay as they were, and every later picture
    /// decodes exactly as without it.
    /// </summary>
    /// <param name="width">Picture width in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <param name="height">Picture height in pixels, 1..<see cref="RgbImage.MaxDimension"/>.</param>
    /// <param name="tileSize">The stream's entropy tile size in pixels (a positive multiple of 64), or 0 for the
    /// pack's default, the one an encoder writes unless told otherwise.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is outside 1..<see cref="RgbImage.MaxDimension"/>,
    /// the picture is over <see cref="DecoderOptions.MaxPixels"/>, or the tile size is not a positive multiple of 64.</exception>
    public void WarmUp(int width, int height, int tileSize = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, RgbImage.MaxDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, RgbImage.MaxDimension);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)width * height, _options.MaxPixels, nameof(width));
        ArgumentOutOfRangeException.ThrowIfNegative(tileSize);
        int tile = tileSize == 0 ? _pack.Layout.TileSize : tileSize;
        if (tile % TileGrid.HyperStride != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tileSize), tileSize, $"A tile size must be a positive multiple of {TileGrid.HyperStride}.");
        }

        var grid = new TileGrid(width, height, tile);
        var layout = _pack.Layout;
        TensorPool pool = _pool.For(grid.Width, grid.Height, grid.TileSize);
        Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, t =>
        {
            var (_, _, zw, zh) = grid.HyperRect(t);
            var z = TensorPool.I32(pool, layout.HyperChannels, zh, zw, clear: true);
            pool.Return(TileEntropyPath.HyperTableIndices(layout.HyperChannels, zh * zw, pool));
            pool.Return(_path.Run(z, (k, mean, index) => pool.RentInts(index.Data.Length, clear: true), null,
                TileEntropyPath.ThreadsPerTile(_options.EffectiveThreads, grid.Count), pool));
            pool.Return(z);
        });

        // The pool now holds the arrays a picture of this geometry rents, so the first real one allocates no more than
        // a later one.
        var y = TensorPool.I32(pool, layout.LatentChannels, grid.LatentHeight, grid.LatentWidth, clear: true);
        var yq = (U8Tensor)_synthesisInput.Execute([y], 0, 1, pool);
        var picture = new RgbImage(width, height, pool.RentBytes(width * height * 3));
        var backends = Enumerable.Repeat(_backend, grid.Count).ToArray();
        for (int pass = 0; pass < _backend.WarmUpRuns; pass++)
        {
            SynthesizeRegions(grid, yq, backends, picture);
        }

        pool.Return(picture.Pixels); // the first real picture is decoded into it
        pool.Return(yq);
        pool.Return(y);
    }

    /// <summary>
    /// Hands a picture this decoder returned back to it, once the caller is done with it (shown, written, copied), so
    /// that the next picture of the same size is decoded into its array instead of a new one: a player that recycles
    /// each frame's picture allocates almost nothing per picture (docs/backends.md, "Keep the decoder").
    /// </summary>
    /// <remarks>
    /// The picture must not be read or written afterwards: a later <see cref="DecodedFrame"/> may own its pixels. A
    /// picture of another size than the decoder's current stream is ignored. May be called from another thread than
    /// the one decoding (a display thread).
    /// </remarks>
    /// <param name="image">A picture from <see cref="DecodedFrame.Image"/> of this decoder.</param>
    /// <exception cref="ArgumentNullException"><paramref name="image"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">The same picture was handed back twice without being decoded into in between.</exception>
    public void Recycle(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var (width, height, _) = _pool.Geometry;
        if (image.Pixels.Length == width * height * 3)
        {
            _pool.Return(image.Pixels);
        }
    }

    /// <summary>Sets the stream geometry. Must be called before packets are sent.</summary>
    /// <param name="header">A container header (or the same fields received in a stream hello).</param>
    /// <exception cref="EdgeCodecFormatException">The header names another model, or its geometry is inconsistent or too large.</exception>
    public void SetHeader(ContainerHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header.ModelId != _pack.ModelId)
        {
            throw new EdgeCodecFormatException($"The stream was encoded with model {header.ModelId:x16}, this decoder has model {_pack.ModelId:x16}.", FormatError.Malformed);
        }

        if ((long)header.Width * header.Height > _options.MaxPixels)
        {
            throw new EdgeCodecFormatException($"Image {header.Width}x{header.Height} exceeds the decoder's limit of {_options.MaxPixels} pixels.", FormatError.LimitExceeded);
        }

        if (header.Width > RgbImage.MaxDimension || header.Height > RgbImage.MaxDimension)
        {
            throw new EdgeCodecFormatException($"Image {header.Width}x{header.Height} exceeds {RgbImage.MaxDimension} pixels per side.", FormatError.LimitExceeded);
        }

        if (header.TileWidth != header.TileHeight)
        {
            throw new EdgeCodecFormatException("Tiles must be square.", FormatError.Malformed);
        }

        var grid = new TileGrid(header.Width, header.Height, header.TileWidth);
        if (grid.Columns != header.TileColumns || grid.Rows != header.TileRows)
        {
            throw new EdgeCodecFormatException($"Tile grid {header.TileColumns}x{header.TileRows} does not match the geometry ({grid.Columns}x{grid.Rows}).", FormatError.Malformed);
        }

        int maxLayers = header.LayerOfGroup(_pack.Layout.Groups) + (_pack.Residual is null ? 0 : 1);
        if (header.LayerCount < 1 || header.LayerCount > maxLayers)
        {
            string residual = _pack.Residual is null && header.LayerCount == maxLayers + 1 ? " (a residual layer needs a model pack with residual tables)" : "";
            throw new EdgeCodecFormatException($"Layer count {header.LayerCount} is outside 1..{maxLayers}{residual}.", FormatError.Malformed);
        }

        if (header.QualityLevel >= _pack.QualityLevels.Count)
        {
            throw new EdgeCodecFormatException($"Quality level {header.QualityLevel} is outside 0..{_pack.QualityLevels.Count - 1}.", FormatError.Malformed);
        }

        _header = header;
        _grid = grid;
        _frames.Clear();
        _endOfStream = false;
    }

    /// <summary>Adds a packet. Duplicates are ignored; packets for another model or outside the grid are rejected.</summary>
    /// <param name="packet">The packet; its payload must stay unchanged until the frame is decoded.</param>
    /// <returns>True when the packet was new, false for a duplicate.</returns>
    /// <exception cref="InvalidOperationException"><see cref="SetHeader"/> was not called.</exception>
    /// <exception cref="EdgeCodecFormatException">Wrong model id, tile or layer out of range.</exception>
    public bool SendPacket(LatentPacket packet)
    {
        ArgumentNullException.ThrowIfNull(packet);
        var header = _header ?? throw new InvalidOperationException("SetHeader must be called before SendPacket.");
        if (packet.ModelId != _pack.ModelId)
        {
            throw new EdgeCodecFormatException($"Packet {packet.Sequence} names model {packet.ModelId:x16}, expected {_pack.ModelId:x16}.", FormatError.Malformed);
        }

        if (packet.TileIndex >= header.TileCount || packet.Layer >= header.LayerCount)
        {
            throw new EdgeCodecFormatException($"Packet {packet.Sequence}: tile {packet.TileIndex} / layer {packet.Layer} outside {header.TileCount} tiles x {header.LayerCount} layers.", FormatError.Malformed);
        }

        if (!_frames.TryGetValue(packet.FrameIndex, out var slots))
        {
            if (_frames.Count >= 64)
            {
                throw new EdgeCodecFormatException("More than 64 frames are pending; receive or drop frames first.", FormatError.LimitExceeded);
            }

            slots = new LatentPacket?[header.TileCount, header.LayerCount];
            _frames[packet.FrameIndex] = slots;
        }

        if (slots[packet.TileIndex, packet.Layer] is not null)
        {
            return false;
        }

        slots[packet.TileIndex, packet.Layer] = packet;
        return true;
    }

    /// <summary>Marks the end of the stream: incomplete frames become receivable with what arrived.</summary>
    public void Flush() => _endOfStream = true;

    /// <summary>Returns the oldest frame that is complete (or any pending frame after <see cref="Flush"/>).</summary>
    /// <param name="frame">The decoded frame, owned by the caller.</param>
    /// <returns>False when no frame is ready.</returns>
    public bool TryReceiveFrame(out DecodedFrame? frame)
    {
        foreach (var (index, slots) in _frames)
        {
            if (_endOfStream || IsComplete(slots))
            {
                frame = DecodeFrame(index);
                _frames.Remove(index);
                return true;
            }
        }

        frame = null;
        return false;
    }

    /// <summary>Decodes frame <paramref name="frameIndex"/> from whatever has arrived so far (progressive display).</summary>
    /// <param name="frameIndex">The frame.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetHeader"/> was not called.</exception>
    public DecodedFrame DecodeFrame(uint frameIndex) => DecodeFrame(frameIndex, tiledSynthesis: true, _options.MaxLayers);

    /// <summary>Decodes frame <paramref name="frameIndex"/> with at most <paramref name="maxLayers"/> layers (a thermal or power budget).</summary>
    /// <param name="frameIndex">The frame.</param>
    /// <param name="maxLayers">Layers to decode, 1..groups (one more with the residual layer, and one more with a <see cref="ContainerHeader.PreviewLayer"/>); 0 = all that arrived.</param>
    /// <exception cref="InvalidOperationException"><see cref="SetHeader"/> was not called.</exception>
    public DecodedFrame DecodeFrame(uint frameIndex, int maxLayers) => DecodeFrame(frameIndex, tiledSynthesis: true, maxLayers);

    /// <summary>Decodes with one synthesis window over the whole image (tests: tiled must equal untiled).</summary>
    internal RgbImage DecodeFrameUntiled(uint frameIndex) => DecodeFrame(frameIndex, tiledSynthesis: false, _options.MaxLayers).Image;

    private DecodedFrame DecodeFrame(uint frameIndex, bool tiledSynthesis, int layerLimit)
    {
        var header = _header ?? throw new InvalidOperationException("SetHeader must be called first.");
        var grid = _grid!;
        _frames.TryGetValue(frameIndex, out var slots);
        slots ??= new LatentPacket?[header.TileCount, header.LayerCount];
        var total = Stopwatch.StartNew();
        var layout = _pack.Layout;
        int maxLayers = layerLimit > 0 ? Math.Min(layerLimit, header.LayerCount) : header.LayerCount;
        TensorPool pool = _pool.For(grid.Width, grid.Height, grid.TileSize);
        var y = TensorPool.I32(pool, layout.LatentChannels, grid.LatentHeight, grid.LatentWidth, clear: true); // a concealed tile stays 0
        var layersPerTile = new int[grid.Count];
        var timer = new EntropyTimer();
        Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, tile =>
            layersPerTile[tile] = DecodeTile(grid, header.PreviewLayer, slots, tile, maxLayers, y, timer, pool));
        double tilesWall = total.Elapsed.TotalSeconds;

        var synthesis = Stopwatch.StartNew();
        var experts = new ushort[grid.Count];
        for (int t = 0; t < grid.Count; t++)
        {
            experts[t] = layersPerTile[t] > 0 ? slots[t, 0]!.ExpertId : (ushort)0;
        }

        // The residual layer's parsing never depends on the picture, so with a thread to spare its entropy decoding
        // runs beside the synthesis and only its inverse transform waits for the picture.
        int residualLayer = header.LayerOfGroup(layout.Groups); // after every latent layer
        bool residual = maxLayers > residualLayer;
        var parsed = new Task<(int Step, int[] Symbols)?>?[grid.Count];
        if (residual && _options.EffectiveThreads > 1)
        {
            for (int t = 0; t < grid.Count; t++)
            {
                if (layersPerTile[t] == residualLayer && slots[t, residualLayer] is { } packet)
                {
                    int tile = t;
                    parsed[t] = Task.Run(() => ParseResidual(grid, tile, packet, header.QualityLevel, timer));
                }
            }
        }

        var withoutAdapter = new List<int>();
        var image = Synthesize(grid, y, header.QualityLevel, tiledSynthesis, experts, withoutAdapter, pool);
        pool.Return(y);
        double synthesisSeconds = synthesis.Elapsed.TotalSeconds;
        double residualSeconds = 0;
        if (residual)
        {
            var residualClock = Stopwatch.StartNew();
            Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, tile =>
            {
                if (layersPerTile[tile] != residualLayer || slots[tile, residualLayer] is not { } packet)
                {
                    return;
                }

                if ((parsed[tile] is { } task ? task.GetAwaiter().GetResult() : ParseResidual(grid, tile, packet, header.QualityLevel, timer)) is { } layer)
                {
                    ResidualTransform.Apply(layer.Symbols, _pack.Residual!.StepsQ2[layer.Step], grid.PixelRect(tile), image,
                        TileEntropyPath.ThreadsPerTile(_options.EffectiveThreads, grid.Count));
                    layersPerTile[tile]++;
                }
            });
            residualSeconds = residualClock.Elapsed.TotalSeconds;
        }

        var timings = new DecodeTimings(timer.EntropySeconds, timer.HyperSeconds, tilesWall, synthesisSeconds, total.Elapsed.TotalSeconds)
        {
            ResidualSeconds = residualSeconds,
        };
        return new DecodedFrame(frameIndex, image, layersPerTile, header.LayerCount, _backend.Name, timings)
        {
            ExpertsPerTile = experts,
            TilesWithoutAdapter = withoutAdapter,
        };
    }

    /// <summary>
    /// Decodes a container (complete or truncated) into its first frame with a decoder made for this call and
    /// disposed after it. To decode several containers, keep one decoder and call <see cref="Decode(Stream)"/>: a
    /// new decoder builds its backend and meets its first picture with cold buffers, which costs about as much again
    /// as the decode itself (docs/benchmarks.md, "A decoder kept for the next picture").
    /// </summary>
    /// <param name="pack">The model pack the container names.</param>
    /// <param name="container">A readable stream positioned at the container's start.</param>
    /// <param name="options">Decoder options.</param>
    /// <returns>The frame and what the container reader recovered.</returns>
    /// <exception cref="EdgeCodecFormatException">The header is unreadable or names another model.</exception>
    public static (DecodedFrame Frame, ContainerReadResult Container) Decode(ModelPack pack, Stream container, DecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pack);
        ArgumentNullException.ThrowIfNull(container);
        var read = ContainerReader.Read(container);
        using var decoder = new EdgeCodecDecoder(pack, options);
        return (decoder.DecodeRead(read), read);
    }

    /// <summary>
    /// Decodes a container (complete or truncated) into its first frame with this decoder, which keeps its backend and
    /// buffers for the next one: the way to decode a folder of pictures or a run of stills. The container's header
    /// replaces the one <see cref="SetHeader"/> set, and frames pending from <see cref="SendPacket"/> are dropped; the
    /// containers may differ in size, quality level and layer count.
    /// </summary>
    /// <param name="container">A readable stream positioned at the container's start.</param>
    /// <returns>The frame and what the container reader recovered.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="container"/> is <see langword="null"/>.</exception>
    /// <exception cref="EdgeCodecFormatException">The header is unreadable, names another model or is outside the
    /// decoder's limits; the decoder stays usable for the next container.</exception>
    /// <exception cref="IOException">Reading the stream failed.</exception>
    public (DecodedFrame Frame, ContainerReadResult Container) Decode(Stream container)
    {
        ArgumentNullException.ThrowIfNull(container);
        var read = ContainerReader.Read(container);
        return (DecodeRead(read), read);
    }

    /// <summary>The first frame of a read container: header, packets, decode; pending frames are dropped.</summary>
    private DecodedFrame DecodeRead(ContainerReadResult read)
    {
        SetHeader(read.Header);
        foreach (var packet in read.Packets)
        {
            SendPacket(packet);
        }

        uint frame = read.Packets.Count > 0 ? read.Packets[0].FrameIndex : 0;
        var decoded = DecodeFrame(frame);
        _frames.Clear();
        return decoded;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _backend.Dispose();
        foreach (var b in _adapterBackends.Values)
        {
            b.Dispose();
        }

        _adapterBackends.Clear();
    }

    private static bool IsComplete(LatentPacket?[,] slots)
    {
        foreach (var p in slots)
        {
            if (p is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Entropy-decodes one tile's latents from its contiguous layers (at most <paramref name="maxLayers"/>) into
    /// <paramref name="y"/>, groups that did not arrive at their predicted means, and returns the layers it used: 0
    /// when the base is missing or corrupt (the tile is concealed). With a <paramref name="preview"/> layer, layer 0
    /// holds z alone and group k is layer k + 1; without, layer 0 holds z and group 0.
    /// </summary>
    private int DecodeTile(TileGrid grid, bool preview, LatentPacket?[,] slots, int tile, int maxLayers, I32Tensor y, EntropyTimer timer, TensorPool pool)
    {
        var layout = _pack.Layout;
        int available = 0;
        while (available < maxLayers && slots[tile, available] is not null)
        {
            available++;
        }

        if (available == 0)
        {
            _options.Log?.Invoke($"tile {tile}: base layer missing, concealed");
            return 0;
        }

        var (zx, zy, zw, zh) = grid.HyperRect(tile);
        var (lx, ly, lw, lh) = grid.LatentRect(tile);
        int offset = preview ? 1 : 0, groups = available - offset; // latent groups that arrived
        int decoded;
        I32Tensor yTile;
        try
        {
            long start = timer.Start();
            var (zStream, group0) = preview ? (slots[tile, 0]!.Payload, default) : LayerPayload.SplitBase(slots[tile, 0]!.Payload);
            var z = TensorPool.I32(pool, layout.HyperChannels, zh, zw);
            int[] zTables = TileEntropyPath.HyperTableIndices(layout.HyperChannels, zh * zw, pool);
            RansCodec.Decode(zStream.Span, zTables, _pack.FactorizedTables, z.Data);
            pool.Return(zTables);
            timer.AddEntropy(start);
            decoded = 0;
            yTile = _path.Run(z, (k, mean, index) =>
            {
                if (k >= groups || decoded < k)
                {
                    return null;
                }

                long t = timer.Start();
                try
                {
                    var symbols = pool.RentInts(index.Data.Length, clear: false);
                    var stream = k == 0 && !preview ? group0 : slots[tile, k + offset]!.Payload;
                    RansCodec.Decode(stream.Span, index.Data, _pack.GaussianTables, symbols);
                    decoded = k + 1;
                    return symbols;
                }
                catch (EdgeCodecFormatException ex)
                {
                    _options.Log?.Invoke($"tile {tile}: layer {k + offset} is corrupt ({ex.Message}); using predicted means from here on");
                    return null;
                }
                finally
                {
                    timer.AddEntropy(t);
                }
            }, timer, TileEntropyPath.ThreadsPerTile(_options.EffectiveThreads, grid.Count), pool);
            pool.Return(z);
        }
        catch (EdgeCodecFormatException ex)
        {
            _options.Log?.Invoke($"tile {tile}: base layer is corrupt ({ex.Message}), concealed");
            return 0;
        }

        int plane = lw * lh;
        for (int c = 0; c < layout.LatentChannels; c++)
        {
            for (int r = 0; r < lh; r++)
            {
                yTile.Data.AsSpan((c * plane) + (r * lw), lw).CopyTo(y.Data.AsSpan((c * y.PlaneSize) + ((ly + r) * grid.LatentWidth) + lx, lw));
            }
        }

        pool.Return(yTile);

        return decoded + offset;
    }

    /// <summary>
    /// A tile's residual layer parsed (its step index and quantised values), or null when it is corrupt: that is
    /// logged, and the tile is shown as synthesised, the coarser picture of the layers before it.
    /// </summary>
    private (int Step, int[] Symbols)? ParseResidual(TileGrid grid, int tile, LatentPacket packet, int quality, EntropyTimer timer)
    {
        long start = timer.Start();
        try
        {
            return ResidualLayer.Decode(packet.Payload.Span, _pack.Residual!, _pack.GaussianTables, quality, ResidualLayer.Blocks(grid.PixelRect(tile)));
        }
        catch (EdgeCodecFormatException ex)
        {
            _options.Log?.Invoke($"tile {tile}: residual layer is corrupt ({ex.Message}); shown without it");
            return null;
        }
        finally
        {
            timer.AddEntropy(start);
        }
    }

    private RgbImage Synthesize(TileGrid grid, I32Tensor y, int quality, bool tiled, ushort[] experts, List<int> withoutAdapter, TensorPool pool)
    {
        var yq = (U8Tensor)_synthesisInput.Execute([y], quality, 1, pool);
        var output = new RgbImage(grid.Width, grid.Height, pool.RentBytes(grid.Width * grid.Height * 3)); // every pixel is synthesised
        if (!tiled)
        {
            TileSynthesis.Run(_backend, yq, grid, (0, 0, grid.LatentWidth, grid.LatentHeight), 0, output);
            pool.Return(yq);
            return output;
        }

        var used = new HashSet<ModelPack>(ReferenceEqualityComparer.Instance);
        var backends = new ISynthesisBackend[grid.Count];
        for (int tile = 0; tile < grid.Count; tile++)
        {
            backends[tile] = BackendFor(experts[tile], tile, withoutAdapter, used);
        }

        SynthesizeRegions(grid, yq, backends, output);
        pool.Return(yq);

        // Sessions of adapters that were swapped out (hot swap) are released.
        foreach (var stale in _adapterBackends.Keys.Where(p => !used.Contains(p)).ToList())
        {
            _adapterBackends[stale].Dispose();
            _adapterBackends.Remove(stale);
        }

        return output;
    }

    /// <summary>
    /// The synthesis of every tile with its backend (<paramref name="backends"/>, by tile). Neighbouring tiles on one
    /// backend share a window: the halo is paid per region, not per tile.
    /// </summary>
    private void SynthesizeRegions(TileGrid grid, U8Tensor yq, ISynthesisBackend[] backends, RgbImage output)
    {
        int regionTiles = backends.Any(b => b.PrefersTileWindows) ? 1 : SynthesisPlan.TilesPerSide(grid, _options.SynthesisRegion);
        foreach (var region in SynthesisPlan.Build(grid, regionTiles, (a, b) => ReferenceEquals(backends[a], backends[b])))
        {
            TileSynthesis.Run(backends[region.FirstTile], yq, grid, (region.X, region.Y, region.Width, region.Height), _pack.Layout.SynthesisHalo, output);
        }
    }

    private ISynthesisBackend BackendFor(ushort expert, int tile, List<int> withoutAdapter, HashSet<ModelPack> used)
    {
        if (expert == 0)
        {
            return _backend;
        }

        if (_options.Adapters is not { } source || !source.TryGetPack(expert, out var adapted))
        {
            _options.Log?.Invoke($"tile {tile}: expert {expert} is not installed; decoded with the base synthesis");
            withoutAdapter.Add(tile);
            return _backend;
        }

        used.Add(adapted);
        if (!_adapterBackends.TryGetValue(adapted, out var backend))
        {
            var provider = DecoderBackends.Get(_backend.Name);
            if (!provider.IsAvailable(adapted, out var reason))
            {
                _options.Log?.Invoke($"expert {expert}: backend '{_backend.Name}' cannot run adapters ({reason}); using automatic selection");
                provider = DecoderBackends.Resolve(DecoderBackends.Auto, adapted, _options.Log);
            }

            backend = provider.Create(adapted, new BackendOptions { Threads = _options.Threads });
            _adapterBackends[adapted] = backend;
        }

        return backend;
    }
}
