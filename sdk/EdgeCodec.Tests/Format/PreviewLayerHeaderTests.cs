using System.Buffers.Binary;
using System.IO.Hashing;
using EdgeCodec.Format;

namespace EdgeCodec.Tests.Format;

/// <summary>The preview-layer flag in both container layouts, and the header versions that carry it.</summary>
public sealed class PreviewLayerHeaderTests
{
    [Theory]
    [InlineData(ContainerLayout.Indexed)]
    [InlineData(ContainerLayout.Compact)]
    public void The_flag_round_trips_in_both_layouts(ContainerLayout layout)
    {
        foreach (bool preview in new[] { false, true })
        {
            byte[] file = layout == ContainerLayout.Indexed ? FormatSamples.Container(preview: preview) : FormatSamples.CompactContainer(preview);
            ContainerReadResult read = ContainerReader.Read(file);
            Assert.True(read.IsComplete);
            Assert.Equal(preview, read.Header.PreviewLayer);
            Assert.Equal(preview ? 2 : 1, read.Header.FormatVersion);
            if (layout == ContainerLayout.Indexed)
            {
                Assert.Equal(preview ? 2 : 1, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(4)));
            }

            // Keeping fewer layers keeps the flag (trim, the receiver's compaction).
            using var trimmed = new MemoryStream();
            ContainerWriter.WriteLayerPrefix(read, 1, trimmed, layout);
            ContainerReadResult prefix = ContainerReader.Read(trimmed.ToArray());
            Assert.Equal(1, prefix.Header.LayerCount);
            Assert.Equal(preview, prefix.Header.PreviewLayer);
        }
    }

    [Fact]
    public void A_version_1_header_ignores_its_reserved_bytes()
    {
        byte[] file = FormatSamples.Container();
        file[38] = 1; // the flags byte of version 2, reserved in version 1: written as zero, ignored when read
        file[41] = 0xff;
        Reseal(file);
        var header = ContainerReader.Read(file).Header;
        Assert.False(header.PreviewLayer);
        Assert.Equal(1, header.FormatVersion);
    }

    [Theory]
    [InlineData(2, 0)]    // version 2 without a flag: a writer writes version 1 then
    [InlineData(2, 3)]    // a flag this SDK does not know
    [InlineData(2, 0x80)]
    [InlineData(3, 1)]    // a later version
    [InlineData(0, 0)]
    public void Unknown_versions_and_flags_are_rejected_as_unsupported(ushort version, byte flags)
    {
        byte[] file = FormatSamples.Container(preview: true);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), version);
        file[38] = flags;
        Reseal(file);
        var e = Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(file));
        Assert.Equal(FormatError.UnsupportedVersion, e.Error);
    }

    [Fact]
    public void A_compact_header_with_an_unknown_flag_is_rejected_as_unsupported()
    {
        byte[] file = FormatSamples.CompactContainer(preview: true);
        int flags = FlagsOffset(file);
        Assert.Equal(3, file[flags]); // expert ids (the sample's packets carry some) and the preview layer
        file[flags] |= 4;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(flags + 1), Crc32.HashToUInt32(file.AsSpan(0, flags + 1)));
        var e = Assert.Throws<EdgeCodecFormatException>(() => ContainerReader.Read(file));
        Assert.Equal(FormatError.UnsupportedVersion, e.Error);
    }

    /// <summary>Recomputes an indexed header's CRC after an edit.</summary>
    private static void Reseal(byte[] file) =>
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(44), Crc32.HashToUInt32(file.AsSpan(0, 44)));

    /// <summary>The compact header's flags byte: after magic, version, model id, six varints, layer count and quality.</summary>
    private static int FlagsOffset(byte[] file)
    {
        int n = 13;
        for (int v = 0; v < 6; v++)
        {
            while ((file[n++] & 0x80) != 0)
            {
            }
        }

        return n + 2;
    }
}
