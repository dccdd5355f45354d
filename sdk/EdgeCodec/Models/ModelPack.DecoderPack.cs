using System.IO.Compression;

namespace EdgeCodec.Models;

public sealed partial class ModelPack
{
    /// <summary>
    /// The time stamp of every entry a decoder-only copy writes, so the same source gives the same bytes: the one
    /// <c>training/export.py</c> gives a pack's entries (<c>FIXED_ZIP_TIME</c>).
    /// </summary>
    private static readonly DateTimeOffset FixedEntryTime = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Writes a decoder-only copy of a version-2 pack: the same <c>manifest.json</c> (so the same <see cref="Sha256"/>
    /// and <see cref="ModelId"/>: it decodes every stream of the complete pack), without the encoder's graphs and,
    /// unless <paramref name="keepOnnxSynthesis"/>, without the ONNX synthesis graphs, which only the <c>onnx</c>,
    /// <c>onnx-fp32</c> and <c>qnn</c> backends read. The <c>cpu</c> backend (the integer engine) needs none of them.
    /// </summary>
    /// <param name="source">A version-2 pack, complete or already a copy; read to its end, not disposed.</param>
    /// <param name="destination">Receives the copy; not disposed.</param>
    /// <param name="keepOnnxSynthesis">Keep <see cref="SynthesisQdqEntry"/> and <see cref="SynthesisFp32Entry"/> if the source has them.</param>
    /// <returns>The copy as loaded back (validated, with the source's identity).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> or <paramref name="destination"/> is <see langword="null"/>.</exception>
    /// <exception cref="EdgeCodecFormatException"><paramref name="source"/> is not a valid pack.</exception>
    /// <exception cref="NotSupportedException">
    /// <paramref name="source"/> is a version-1 pack, whose identity is the hash of the whole file: a copy without
    /// entries would name another model. Re-export it (<c>training.export</c> writes version 2).
    /// </exception>
    /// <exception cref="IOException">Reading or writing failed.</exception>
    public static ModelPack WriteDecoderPack(Stream source, Stream destination, bool keepOnnxSynthesis = false)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        byte[] bytes = ReadBounded(source);
        ModelPack pack = ModelPackReader.Read(bytes, null);
        if (pack.FormatVersion < ModelPackReader.FormatVersion)
        {
            throw new NotSupportedException(
                $"Model pack {pack.Sha256[..12]} is format version {pack.FormatVersion}, whose identity is the hash of the whole file: " +
                "a copy without its encoder graphs would name another model. Re-export it (training.export writes version 2).");
        }

        bool Keep(string name) => !ModelPackReader.OmissibleEntries.Contains(name, StringComparer.Ordinal)
            || (keepOnnxSynthesis && name is SynthesisQdqEntry or SynthesisFp32Entry);

        using var copy = new MemoryStream();
        using (var output = new ZipArchive(copy, ZipArchiveMode.Create, leaveOpen: true))
        using (var input = new ZipArchive(new MemoryStream(bytes, writable: false), ZipArchiveMode.Read))
        {
            foreach (ZipArchiveEntry entry in input.Entries.Where(e => Keep(e.FullName)).OrderBy(e => e.FullName, StringComparer.Ordinal))
            {
                ZipArchiveEntry written = output.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
                written.LastWriteTime = FixedEntryTime;
                using Stream from = entry.Open();
                using Stream to = written.Open();
                from.CopyTo(to);
            }
        }

        byte[] result = copy.ToArray();
        ModelPack stripped = ModelPackReader.Read(result, null);
        if (stripped.Sha256 != pack.Sha256)
        {
            throw new InvalidOperationException($"The decoder-only copy of {pack.Sha256[..12]} reads back as {stripped.Sha256[..12]}."); // cannot happen: the manifest is copied byte for byte
        }

        destination.Write(result);
        return stripped;
    }
}
