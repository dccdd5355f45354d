using System.Buffers.Binary;
using System.IO.Hashing;
using EdgeCodec.Format;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

namespace EdgeCodec.Codec;

/// <summary>
/// Latents of one image optimised offline for that image (the studio encoder, <c>python3 -m training.refine</c>;
/// docs/refinement.md), read from a refined-latents file (<c>.eclt</c>) so that
/// <see cref="EdgeCodecEncoder.Encode(RgbImage, RefinedLatents, int, uint, uint, ulong)"/> entropy-codes them instead
/// of running the analysis transform. The decoder and the bitstream are the same as for any other encode.
/// </summary>
/// <remarks>
/// The file is untrusted input: <see cref="Read"/> checks the magic, version, CRC-32, the exact size implied by the
/// header, every dimension against the model pack and the latent values for finiteness, and throws
/// <see cref="EdgeCodecFormatException"/> before allocating anything the header's sizes do not justify.
/// </remarks>
public sealed class RefinedLatents
{
    /// <summary>Bytes before the latent arrays in a version-2 file (version 1: 40; it has no residual step).</summary>
    public const int HeaderSize = 44;

    /// <summary>The version <see cref="Serialize"/> writes; <see cref="Read"/> also takes version 1.</summary>
    public const ushort Version = 2;

    /// <summary>The residual-step field's value for latents refined for their level alone.</summary>
    private const ushort NoStep = 0xFFFF;

    private static ReadOnlySpan<byte> Magic => "ECLT"u8;

    private RefinedLatents(int quality, int? residualStep, ulong modelId, int width, int height, int iterations, float[] y, int[] z)
    {
        Quality = quality;
        ResidualStep = residualStep;
        ModelId = modelId;
        Width = width;
        Height = height;
        Iterations = iterations;
        Y = y;
        Z = z;
    }

    /// <summary>Quality level the latents were optimised for (its gain vector is already applied).</summary>
    public int Quality { get; }

    /// <summary>
    /// The residual step index the latents were refined for (the studio encoder with the residual layer in its loop,
    /// <c>python3 -m training.refine --ladder</c>), or <see langword="null"/> for latents refined for their level alone.
    /// </summary>
    public int? ResidualStep { get; }

    /// <summary>The quality setting the latents were refined for: their level, and their residual step if any.</summary>
    public QualitySetting Setting => new(Quality, ResidualStep);

    /// <summary>Model id of the pack they belong to (first 8 bytes of its SHA-256).</summary>
    public ulong ModelId { get; }

    /// <summary>Width of the image in pixels.</summary>
    public int Width { get; }

    /// <summary>Height of the image in pixels.</summary>
    public int Height { get; }

    /// <summary>Optimisation steps the studio encoder ran (informational).</summary>
    public int Iterations { get; }

    /// <summary>Gained latents y′, channel-major over the padded latent grid (channels × H/16 × W/16, padded to 64 px).</summary>
    internal float[] Y { get; }

    /// <summary>Quantised hyper-latents, channel-major over the hyper grid (channels × H/64 × W/64).</summary>
    internal int[] Z { get; }

    /// <summary>Reads and validates a refined-latents file for <paramref name="pack"/>.</summary>
    /// <param name="data">The whole file.</param>
    /// <param name="pack">The model pack the latents must belong to.</param>
    /// <exception cref="EdgeCodecFormatException">The file is malformed, corrupt, of another version or for another model or geometry.</exception>
    public static RefinedLatents Read(ReadOnlySpan<byte> data, ModelPack pack)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (data.Length < HeaderSizeV1 + 4 || !data[..4].SequenceEqual(Magic))
        {
            throw new EdgeCodecFormatException("Not a refined-latents file (magic ECLT).", FormatError.Malformed, 0);
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (version is not (1 or Version))
        {
            throw new EdgeCodecFormatException($"Refined-latents version {version} is not supported (expected 1 or {Version}).", FormatError.UnsupportedVersion, 4);
        }

        int headerSize = version == 1 ? HeaderSizeV1 : HeaderSize;
        if (data.Length < headerSize + 4)
        {
            throw new EdgeCodecFormatException($"Refined-latents file is {data.Length} bytes, shorter than its header.", FormatError.Truncated, data.Length);
        }

        int stepField = version == 1 ? NoStep : BinaryPrimitives.ReadUInt16LittleEndian(data[40..]);
        if (version > 1 && BinaryPrimitives.ReadUInt16LittleEndian(data[42..]) != 0)
        {
            throw new EdgeCodecFormatException("Refined-latents reserved field (bytes 42..43) is not zero.", FormatError.Malformed, 42);
        }

        int quality = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        ulong modelId = BinaryPrimitives.ReadUInt64LittleEndian(data[8..]);
        uint width = BinaryPrimitives.ReadUInt32LittleEndian(data[16..]), height = BinaryPrimitives.ReadUInt32LittleEndian(data[20..]);
        Span<int> dims = stackalloc int[6];
        for (int i = 0; i < 6; i++)
        {
            dims[i] = BinaryPrimitives.ReadUInt16LittleEndian(data[(24 + (2 * i))..]);
        }

        uint iterations = BinaryPrimitives.ReadUInt32LittleEndian(data[36..]);
        if (width is < 1 or > RgbImage.MaxDimension || height is < 1 or > RgbImage.MaxDimension)
        {
            throw new EdgeCodecFormatException($"Image {width}x{height} is outside 1..{RgbImage.MaxDimension} per side.", FormatError.LimitExceeded, 16);
        }

        var layout = pack.Layout;
        var grid = new TileGrid((int)width, (int)height, TileGrid.HyperStride);
        ReadOnlySpan<int> expected = [layout.LatentChannels, grid.LatentHeight, grid.LatentWidth, layout.HyperChannels, grid.HyperHeight, grid.HyperWidth];
        if (!dims.SequenceEqual(expected))
        {
            throw new EdgeCodecFormatException(
                $"Latent shape {dims[0]}x{dims[1]}x{dims[2]} / {dims[3]}x{dims[4]}x{dims[5]} does not fit a {width}x{height} image under model {pack.Sha256[..12]} " +
                $"({expected[0]}x{expected[1]}x{expected[2]} / {expected[3]}x{expected[4]}x{expected[5]}).", FormatError.Malformed, 24);
        }

        long ny = (long)dims[0] * dims[1] * dims[2], nz = (long)dims[3] * dims[4] * dims[5];
        long size = headerSize + (4 * (ny + nz)) + 4;
        if (data.Length != size)
        {
            throw new EdgeCodecFormatException($"Refined-latents file is {data.Length} bytes; its header implies {size}.",
                data.Length < size ? FormatError.Truncated : FormatError.TrailingData, Math.Min(data.Length, size));
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        if (crc != Crc32.HashToUInt32(data[..^4]))
        {
            throw new EdgeCodecFormatException("Refined-latents file CRC-32 mismatch.", FormatError.CrcMismatch, data.Length - 4);
        }

        if (modelId != pack.ModelId)
        {
            throw new EdgeCodecFormatException($"The latents are for model {modelId:x16}, not {pack.ModelId:x16} ({pack.Sha256[..12]}).", FormatError.Malformed, 8);
        }

        if (quality >= pack.QualityLevels.Count)
        {
            throw new EdgeCodecFormatException($"Quality level {quality} is not one of the pack's {pack.QualityLevels.Count}.", FormatError.Malformed, 6);
        }

        int? residualStep = stepField == NoStep ? null : stepField;
        if (residualStep is { } step && step >= pack.ResidualSteps.Count)
        {
            throw new EdgeCodecFormatException(pack.ResidualSteps.Count == 0
                ? $"The latents were refined for residual step {step}; model {pack.Sha256[..12]} has no residual layer."
                : $"Residual step {step} is not one of the pack's {pack.ResidualSteps.Count}.", FormatError.Malformed, 40);
        }

        var y = new float[ny];
        var z = new int[nz];
        int offset = headerSize;
        for (int i = 0; i < y.Length; i++, offset += 4)
        {
            float v = BinaryPrimitives.ReadSingleLittleEndian(data[offset..]);
            if (!float.IsFinite(v) || Math.Abs(v) > MaxMagnitude)
            {
                throw new EdgeCodecFormatException($"Latent {i} is {v}; latents must be finite and within ±{MaxMagnitude}.", FormatError.Malformed, offset);
            }

            y[i] = v;
        }

        for (int i = 0; i < z.Length; i++, offset += 4)
        {
            int v = BinaryPrimitives.ReadInt32LittleEndian(data[offset..]);
            if (Math.Abs((long)v) > MaxMagnitude)
            {
                throw new EdgeCodecFormatException($"Hyper-latent {i} is {v}; it must be within ±{MaxMagnitude}.", FormatError.Malformed, offset);
            }

            z[i] = v;
        }

        return new RefinedLatents(quality, residualStep, modelId, (int)width, (int)height, (int)Math.Min(iterations, int.MaxValue), y, z);
    }

    /// <summary>Writes a refined-latents file (the layout <c>training/refine.py</c> writes; for tests, fuzz seeds and tools).</summary>
    /// <param name="dims">Latent channels, height, width, hyper channels, height, width.</param>
    /// <param name="residualStep">The residual step they were refined for, or null for the level alone.</param>
    internal static byte[] Serialize(ulong modelId, int quality, int width, int height, ReadOnlySpan<int> dims, ReadOnlySpan<float> y, ReadOnlySpan<int> z, uint iterations,
        int? residualStep = null)
    {
        var data = new byte[HeaderSize + (4 * (y.Length + z.Length)) + 4];
        Magic.CopyTo(data);
        var span = data.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], checked((ushort)quality));
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], modelId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], checked((uint)width));
        BinaryPrimitives.WriteUInt32LittleEndian(span[20..], checked((uint)height));
        for (int i = 0; i < 6; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span[(24 + (2 * i))..], checked((ushort)dims[i]));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[36..], iterations);
        BinaryPrimitives.WriteUInt16LittleEndian(span[40..], residualStep is { } step ? checked((ushort)step) : NoStep);
        int o = HeaderSize;
        foreach (float v in y)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[o..], v);
            o += 4;
        }

        foreach (int v in z)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[o..], v);
            o += 4;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[o..], Crc32.HashToUInt32(span[..o]));
        return data;
    }

    /// <summary>Bytes before the latent arrays in a version-1 file.</summary>
    private const int HeaderSizeV1 = 40;

    /// <summary>Largest latent magnitude accepted; far beyond anything a model produces, small enough for exact int32 symbol arithmetic.</summary>
    public const int MaxMagnitude = 1 << 20;
}
