using System.Buffers.Binary;
using System.IO.Hashing;

namespace EdgeCodec.Format;

/// <summary>
/// The header of an <c>.ecx</c> container file: what was coded, with which model, in which tile grid. An indexed
/// container stores it in a fixed 48 bytes, a compact one in about 30 (byte layouts in <c>docs/format.md</c>).
/// </summary>
public sealed class ContainerHeader
{
    /// <summary>Serialized size of the header in an indexed (<see cref="ContainerLayout.Indexed"/>) container, in bytes.</summary>
    public const int Size = 48;

    /// <summary>
    /// The newest container format version this implementation writes and reads. Version 2 adds the flags byte (its
    /// only flag: <see cref="PreviewLayer"/>); a header without flags is written as version 1, so that version-1
    /// readers keep reading every stream they can decode, and reject the others by their version.
    /// </summary>
    public const ushort CurrentFormatVersion = 2;

    /// <summary>The flag of <see cref="PreviewLayer"/> in an indexed version-2 header's byte 38 and in the streaming HEADER's flags element (the compact header's flags byte uses bit 1: <see cref="CompactContainer.PreviewLayerFlag"/>).</summary>
    internal const byte PreviewLayerFlag = 1;

    /// <summary>Largest accepted image width or height.</summary>
    public const int MaxDimension = 1 << 20;

    internal static ReadOnlySpan<byte> Magic => "ECX1"u8;

    /// <summary>The container format version of this header's bytes: 2 with a <see cref="PreviewLayer"/>, else 1.</summary>
    public ushort FormatVersion => PreviewLayer ? (ushort)2 : (ushort)1;

    /// <summary>
    /// Layer 0 of every tile holds only its hyper-latent (the <c>z</c> stream), and latent group k is layer k + 1: a
    /// picture drawn from the hyper-prior's predicted means appears after a few percent of the stream
    /// (docs/format.md, "The preview layer"). Without it, layer 0 holds <c>z</c> and group 0 together.
    /// </summary>
    public bool PreviewLayer { get; init; }

    /// <summary>The layer that holds latent group <paramref name="group"/> (0-based): one later with a <see cref="PreviewLayer"/>.</summary>
    internal int LayerOfGroup(int group) => PreviewLayer ? group + 1 : group;

    /// <summary>Model pack identity (first 8 bytes, big-endian, of its SHA-256); every packet must carry the same value.</summary>
    public ulong ModelId { get; init; }

    /// <summary>Image width in pixels, 1..<see cref="MaxDimension"/>.</summary>
    public int Width { get; init; }

    /// <summary>Image height in pixels, 1..<see cref="MaxDimension"/>.</summary>
    public int Height { get; init; }

    /// <summary>Number of frames, or 0 when unknown (a live stream being recorded).</summary>
    public uint FrameCount { get; init; }

    /// <summary>Tile width in pixels, 1..65535.</summary>
    public int TileWidth { get; init; }

    /// <summary>Tile height in pixels, 1..65535.</summary>
    public int TileHeight { get; init; }

    /// <summary>Tile columns; must equal <c>ceil(Width / TileWidth)</c>.</summary>
    public int TileColumns { get; init; }

    /// <summary>Tile rows; must equal <c>ceil(Height / TileHeight)</c>.</summary>
    public int TileRows { get; init; }

    /// <summary>Number of refinement layers per tile, 1..255.</summary>
    public byte LayerCount { get; init; }

    /// <summary>Quality level (rate point) of the model used for the whole file.</summary>
    public byte QualityLevel { get; init; }

    /// <summary>Number of tiles per frame.</summary>
    public int TileCount => TileColumns * TileRows;

    /// <summary>This header with <paramref name="layers"/> layers instead of its own (for a layer prefix of its stream).</summary>
    internal ContainerHeader WithLayerCount(int layers) =>
        Create(ModelId, Width, Height, TileWidth, TileHeight, checked((byte)layers), FrameCount, QualityLevel, PreviewLayer);

    /// <summary>Creates a header whose tile grid is derived from the image and tile sizes.</summary>
    /// <param name="modelId">Model pack identity.</param>
    /// <param name="width">Image width in pixels.</param>
    /// <param name="height">Image height in pixels.</param>
    /// <param name="tileWidth">Tile width in pixels.</param>
    /// <param name="tileHeight">Tile height in pixels.</param>
    /// <param name="layerCount">Refinement layers per tile.</param>
    /// <param name="frameCount">Frames, or 0 if unknown.</param>
    /// <param name="qualityLevel">Quality level.</param>
    /// <param name="previewLayer">Layer 0 holds the hyper-latent alone (<see cref="PreviewLayer"/>).</param>
    /// <returns>A validated header.</returns>
    /// <exception cref="ArgumentException">A value is out of range (see <see cref="Validate"/>).</exception>
    public static ContainerHeader Create(ulong modelId, int width, int height, int tileWidth, int tileHeight, byte layerCount, uint frameCount = 1, byte qualityLevel = 0, bool previewLayer = false)
    {
        if (tileWidth <= 0 || tileHeight <= 0)
        {
            throw new ArgumentException("Tile sizes must be positive.");
        }

        var header = new ContainerHeader
        {
            ModelId = modelId,
            Width = width,
            Height = height,
            FrameCount = frameCount,
            TileWidth = tileWidth,
            TileHeight = tileHeight,
            TileColumns = (int)(((long)width + tileWidth - 1) / tileWidth),
            TileRows = (int)(((long)height + tileHeight - 1) / tileHeight),
            LayerCount = layerCount,
            QualityLevel = qualityLevel,
            PreviewLayer = previewLayer,
        };
        string? problem = header.FindProblem();
        return problem is null ? header : throw new ArgumentException(problem);
    }

    /// <summary>Checks every field range and the tile-grid consistency.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        string? problem = FindProblem();
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }
    }

    internal void Write(Span<byte> destination)
    {
        Magic.CopyTo(destination);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], ModelId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)Width);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], (uint)Height);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], FrameCount);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[28..], (ushort)TileWidth);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[30..], (ushort)TileHeight);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[32..], (ushort)TileColumns);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[34..], (ushort)TileRows);
        destination[36] = LayerCount;
        destination[37] = QualityLevel;
        destination[38..44].Clear();
        destination[38] = PreviewLayer ? PreviewLayerFlag : (byte)0; // version 2's flags byte; zero (reserved) in version 1
        BinaryPrimitives.WriteUInt32LittleEndian(destination[44..], Crc32.HashToUInt32(destination[..44]));
    }

    internal static ContainerHeader Parse(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new EdgeCodecFormatException($"Container is {source.Length} bytes, shorter than its {Size}-byte header.", FormatError.Truncated, source.Length);
        }

        if (!source[..4].SequenceEqual(Magic))
        {
            throw new EdgeCodecFormatException("Not an EdgeCodec container (neither magic \"ECX1\" nor \"ECXC\").", FormatError.UnsupportedVersion, 0);
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(source[44..]) != Crc32.HashToUInt32(source[..44]))
        {
            throw new EdgeCodecFormatException("Container header CRC32 mismatch.", FormatError.CrcMismatch, 44);
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]);
        if (version is < 1 or > CurrentFormatVersion || BinaryPrimitives.ReadUInt16LittleEndian(source[6..]) != Size)
        {
            throw new EdgeCodecFormatException($"Container format version {version} is not supported (this SDK reads 1..{CurrentFormatVersion}).", FormatError.UnsupportedVersion, 4);
        }

        // Version 1: bytes 38..43 are reserved, written as zero and ignored. Version 2: byte 38 holds flags, and a
        // flag this SDK does not know, or a version-2 header without any (written as version 1), is not ours to read.
        byte flags = version == 1 ? (byte)0 : source[38];
        if (version == 2 && flags != PreviewLayerFlag)
        {
            throw new EdgeCodecFormatException($"Container header flags 0x{flags:x2} are not supported in version 2.", FormatError.UnsupportedVersion, 38);
        }

        uint width = BinaryPrimitives.ReadUInt32LittleEndian(source[16..]);
        uint height = BinaryPrimitives.ReadUInt32LittleEndian(source[20..]);
        var header = new ContainerHeader
        {
            PreviewLayer = (flags & PreviewLayerFlag) != 0,
            ModelId = BinaryPrimitives.ReadUInt64LittleEndian(source[8..]),
            Width = (int)Math.Min(width, int.MaxValue),
            Height = (int)Math.Min(height, int.MaxValue),
            FrameCount = BinaryPrimitives.ReadUInt32LittleEndian(source[24..]),
            TileWidth = BinaryPrimitives.ReadUInt16LittleEndian(source[28..]),
            TileHeight = BinaryPrimitives.ReadUInt16LittleEndian(source[30..]),
            TileColumns = BinaryPrimitives.ReadUInt16LittleEndian(source[32..]),
            TileRows = BinaryPrimitives.ReadUInt16LittleEndian(source[34..]),
            LayerCount = source[36],
            QualityLevel = source[37],
        };

        string? problem = header.FindProblem();
        return problem is null ? header : throw new EdgeCodecFormatException($"Container header is invalid: {problem}", FormatError.Malformed, 16);
    }

    private string? FindProblem()
    {
        if (Width is < 1 or > MaxDimension || Height is < 1 or > MaxDimension)
        {
            return $"Width and Height must be 1..{MaxDimension}, got {Width}x{Height}.";
        }

        if (TileWidth is < 1 or > ushort.MaxValue || TileHeight is < 1 or > ushort.MaxValue)
        {
            return $"TileWidth and TileHeight must be 1..65535, got {TileWidth}x{TileHeight}.";
        }

        if (TileColumns != (Width + TileWidth - 1) / TileWidth || TileRows != (Height + TileHeight - 1) / TileHeight)
        {
            return $"A {Width}x{Height} image in {TileWidth}x{TileHeight} tiles has a {(Width + TileWidth - 1) / TileWidth}x{(Height + TileHeight - 1) / TileHeight} grid, not {TileColumns}x{TileRows}.";
        }

        if (TileCount > ushort.MaxValue + 1)
        {
            return $"The tile grid has {TileCount} tiles; tile indices are 16-bit.";
        }

        return LayerCount == 0 ? "LayerCount must be at least 1." : null;
    }
}
