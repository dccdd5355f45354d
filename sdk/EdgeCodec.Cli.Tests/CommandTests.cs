using System.Globalization;
using System.Text.RegularExpressions;
using EdgeCodec.Evaluation;
using EdgeCodec.Imaging;

namespace EdgeCodec.Cli.Tests;

/// <summary>
/// The CLI as a user drives it: encode, inspect, decode, trim and the byte budget on a real photo with the bundled
/// pack, and the exit codes and messages of bad input and bad usage (0 ok, 2 usage, 3 bad input).
/// </summary>
public sealed partial class CommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("edgecodec-cli-tests-").FullName;
    private readonly string _photo = Path.Combine(CliProcess.RepositoryRoot, "samples", "media", "coffee.png");

    [Fact]
    public void Encode_then_decode_gives_the_picture_back_and_the_reported_size_is_the_files()
    {
        string ecx = Path.Combine(_dir, "coffee.ecx");
        var (rc, stdout, stderr) = CliProcess.Run("encode", _photo, "-o", ecx, "-q", "3");
        Assert.True(rc == 0, stderr);
        Match m = EncodeLine().Match(stdout);
        Assert.True(m.Success, stdout);
        Assert.Equal(new FileInfo(ecx).Length, long.Parse(m.Groups["bytes"].Value, CultureInfo.InvariantCulture));

        (rc, stdout, stderr) = CliProcess.Run("info", ecx);
        Assert.True(rc == 0, stderr);
        Assert.Contains("600x400", stdout, StringComparison.Ordinal);
        Assert.Contains("Complete", stdout, StringComparison.Ordinal);

        string png = Path.Combine(_dir, "coffee.png");
        (rc, _, stderr) = CliProcess.Run("decode", ecx, "-o", png, "-b", "cpu");
        Assert.True(rc == 0, stderr);
        var original = ImageFile.Load(_photo);
        var decoded = ImageFile.Load(png);
        Assert.Equal((original.Width, original.Height), (decoded.Width, decoded.Height));
        Assert.InRange(Metrics.Psnr(original, decoded), 27.0, 60.0); // level 3 of the bundled pack: ~30 dB on this photo
    }

    [Fact]
    public void A_cut_container_and_a_trimmed_one_decode_to_whole_coarser_pictures()
    {
        var (ecx, full) = EncodePhoto("full.ecx", 4);
        string trimmed = Path.Combine(_dir, "trimmed.ecx");
        var (rc, _, stderr) = CliProcess.Run("trim", ecx, "-o", trimmed, "-l", "1");
        Assert.True(rc == 0, stderr);
        long baseBytes = new FileInfo(trimmed).Length;
        Assert.InRange(baseBytes, 100, full.Length * 9 / 10); // the base layer carries most of the bits

        // A download cut after the second layer, halfway through the rest (this photo is one 1024-px tile: a cut
        // inside its base packet would leave the tile concealed, see the test below).
        string two = Path.Combine(_dir, "two.ecx");
        Assert.Equal(0, CliProcess.Run("trim", ecx, "-o", two, "-l", "2").ExitCode);
        long twoBytes = new FileInfo(two).Length;
        string cut = Path.Combine(_dir, "cut.ecx");
        File.WriteAllBytes(cut, full.AsSpan(0, (int)(twoBytes + ((full.Length - twoBytes) / 2))).ToArray());

        var original = ImageFile.Load(_photo);
        double psnrFull = DecodePsnr(ecx, original);
        double psnrCut = DecodePsnr(cut, original);
        double psnrBase = DecodePsnr(trimmed, original);
        Assert.True(psnrCut < psnrFull && psnrBase < psnrCut, $"full {psnrFull:F2}, cut {psnrCut:F2}, base {psnrBase:F2} dB");
        Assert.True(psnrBase > 20, $"the base layer alone is a whole, coarser picture ({psnrBase:F2} dB)");
    }

    [Fact]
    public void A_cut_inside_a_tiles_base_layer_conceals_that_tile_and_still_writes_the_whole_picture()
    {
        var (_, full) = EncodePhoto("one-tile.ecx", 2);
        string cut = Path.Combine(_dir, "early-cut.ecx");
        File.WriteAllBytes(cut, full.AsSpan(0, full.Length / 4).ToArray());
        string png = Path.Combine(_dir, "early-cut.png");
        var (rc, stdout, stderr) = CliProcess.Run("decode", cut, "-o", png, "-b", "cpu");
        Assert.True(rc == 0, stderr);
        Assert.Contains("layers per tile 0/", stdout, StringComparison.Ordinal);
        var decoded = ImageFile.Load(png);
        Assert.Equal((600, 400), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void With_a_preview_layer_a_cut_inside_the_first_group_still_shows_the_whole_picture()
    {
        // The same early cut as above, of a stream with a preview layer: the tile's z packet is whole, so the
        // picture is the hyper-prior's blurred one instead of a concealed (flat) tile.
        string ecx = Path.Combine(_dir, "preview.ecx");
        var (rc, stdout, stderr) = CliProcess.Run("encode", _photo, "-o", ecx, "-q", "2", "--preview-layer");
        Assert.True(rc == 0, stderr);
        Assert.Contains("(a preview layer first)", stdout, StringComparison.Ordinal);
        (rc, stdout, stderr) = CliProcess.Run("info", ecx);
        Assert.True(rc == 0, stderr);
        Assert.Contains("preview layer", stdout, StringComparison.Ordinal);

        byte[] full = File.ReadAllBytes(ecx);
        string cut = Path.Combine(_dir, "preview-cut.ecx");
        File.WriteAllBytes(cut, full.AsSpan(0, full.Length / 4).ToArray());
        string png = Path.Combine(_dir, "preview-cut.png");
        (rc, stdout, stderr) = CliProcess.Run("decode", cut, "-o", png, "-b", "cpu");
        Assert.True(rc == 0, stderr);
        Assert.Contains("layers per tile 1/", stdout, StringComparison.Ordinal);

        var original = ImageFile.Load(_photo);
        string concealed = Path.Combine(_dir, "plain-cut.ecx");
        File.WriteAllBytes(concealed, EncodePhoto("plain.ecx", 2).Bytes.AsSpan(0, full.Length / 4).ToArray());
        double preview = Metrics.Psnr(original, ImageFile.Load(png));
        double flat = DecodePsnr(concealed, original);
        Assert.True(preview > flat + 2, $"preview {preview:F2} dB, concealed {flat:F2} dB");
    }

    [Fact]
    public void Trim_adds_and_removes_a_preview_layer_as_the_encoder_would_write_it()
    {
        var (plain, _) = EncodePhoto("to-convert.ecx", 2);
        string direct = Path.Combine(_dir, "direct.ecx");
        Assert.Equal(0, CliProcess.Run("encode", _photo, "-o", direct, "-q", "2", "--preview-layer").ExitCode);
        string converted = Path.Combine(_dir, "converted.ecx");
        var (rc, stdout, stderr) = CliProcess.Run("trim", plain, "-o", converted, "--preview-layer");
        Assert.True(rc == 0, stderr);
        Assert.Equal(File.ReadAllBytes(direct), File.ReadAllBytes(converted));
        Assert.Contains("5 of 5 layers", stdout, StringComparison.Ordinal);

        string previewOnly = Path.Combine(_dir, "preview-only.ecx");
        Assert.Equal(0, CliProcess.Run("trim", plain, "-o", previewOnly, "--preview-layer", "-l", "1").ExitCode);
        Assert.True(new FileInfo(previewOnly).Length * 5 < new FileInfo(plain).Length);
        (rc, _, stderr) = CliProcess.Run("trim", converted, "-o", Path.Combine(_dir, "twice.ecx"), "--preview-layer");
        Assert.Equal(3, rc);
        Assert.Contains("already has a preview layer", stderr, StringComparison.Ordinal);

        // And back, for readers from before the preview layer: what the encoder writes without the option.
        string back = Path.Combine(_dir, "without-preview.ecx");
        (rc, stdout, stderr) = CliProcess.Run("trim", direct, "-o", back, "--no-preview-layer");
        Assert.True(rc == 0, stderr);
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(back));
        Assert.Contains("4 of 4 layers", stdout, StringComparison.Ordinal);

        string baseOnly = Path.Combine(_dir, "without-preview-base.ecx");
        Assert.Equal(0, CliProcess.Run("trim", direct, "-o", baseOnly, "--no-preview-layer", "-l", "1").ExitCode);
        (rc, stdout, _) = CliProcess.Run("info", baseOnly);
        Assert.Equal(0, rc);
        Assert.DoesNotContain("preview layer", stdout, StringComparison.Ordinal);

        (rc, _, stderr) = CliProcess.Run("trim", plain, "-o", Path.Combine(_dir, "none.ecx"), "--no-preview-layer");
        Assert.Equal(3, rc);
        Assert.Contains("has no preview layer", stderr, StringComparison.Ordinal);
        (rc, _, stderr) = CliProcess.Run("trim", direct, "-o", Path.Combine(_dir, "both.ecx"), "--preview-layer", "--no-preview-layer");
        Assert.Equal(2, rc);
        Assert.Contains("not both", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_within_a_byte_budget_writes_a_container_that_fits()
    {
        string ecx = Path.Combine(_dir, "budget.ecx");
        var (rc, stdout, stderr) = CliProcess.Run("encode", _photo, "-o", ecx, "--max-bytes", "3000");
        Assert.True(rc == 0, stderr);
        Assert.Contains("best within 3000 bytes", stdout, StringComparison.Ordinal);
        Assert.InRange(new FileInfo(ecx).Length, 500, 3000);
    }

    [Fact]
    public void Bad_input_exits_with_3_and_a_message_and_writes_nothing()
    {
        string garbage = Path.Combine(_dir, "garbage.ecx");
        File.WriteAllText(garbage, "not a container");
        string png = Path.Combine(_dir, "out.png");
        var (rc, _, stderr) = CliProcess.Run("decode", garbage, "-o", png);
        Assert.Equal(3, rc);
        Assert.Contains("invalid EdgeCodec data", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(png));

        string missing = Path.Combine(_dir, "missing.ecx");
        (rc, _, stderr) = CliProcess.Run("info", missing);
        Assert.Equal(3, rc);
        Assert.Contains(missing, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_usage_exits_with_2_and_says_what_is_wrong()
    {
        string ecx = Path.Combine(_dir, "usage.ecx");
        var (rc, _, stderr) = CliProcess.Run("encode", _photo, "-o", ecx, "-q", "99");
        Assert.Equal(2, rc);
        Assert.Contains("quality", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(ecx));

        (rc, _, stderr) = CliProcess.Run("trim", _photo, "-o", ecx);
        Assert.Equal(2, rc);
        Assert.Contains("--layers or --max-bytes", stderr, StringComparison.Ordinal);

        Assert.Equal(0, CliProcess.Run("encode", _photo, "-o", ecx, "-q", "0").ExitCode);
        (rc, _, stderr) = CliProcess.Run("decode", ecx, "-o", Path.Combine(_dir, "x.png"), "-b", "no-such-backend");
        Assert.Equal(2, rc);
        Assert.Contains("Unknown backend 'no-such-backend'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_may_name_a_folder_which_is_created_and_the_file_takes_the_inputs_name()
    {
        string newFolder = Path.Combine(_dir, "new", "nested") + Path.DirectorySeparatorChar;
        var (rc, _, stderr) = CliProcess.Run("encode", _photo, "-o", newFolder, "-q", "0");
        Assert.True(rc == 0, stderr);
        string ecx = Path.Combine(newFolder, "coffee.ecx");
        Assert.True(File.Exists(ecx));

        (rc, _, stderr) = CliProcess.Run("decode", ecx, "-o", _dir, "-b", "cpu"); // an existing folder, no separator
        Assert.True(rc == 0, stderr);
        Assert.Equal((600, 400), (ImageFile.Load(Path.Combine(_dir, "coffee.png")).Width, ImageFile.Load(Path.Combine(_dir, "coffee.png")).Height));

        (rc, _, stderr) = CliProcess.Run("trim", ecx, "-l", "1", "-o", Path.Combine(_dir, "trimmed") + Path.DirectorySeparatorChar);
        Assert.True(rc == 0, stderr);
        Assert.True(new FileInfo(Path.Combine(_dir, "trimmed", "coffee.ecx")).Length < new FileInfo(ecx).Length);

        // The README's own command: a decoder-only copy into a folder that does not exist yet.
        string pack = Directory.GetFiles(Path.Combine(CliProcess.RepositoryRoot, "models"), "*.ecpack").Single();
        (rc, _, stderr) = CliProcess.Run("model", "strip", pack, "--out", Path.Combine(_dir, "dist") + Path.DirectorySeparatorChar);
        Assert.True(rc == 0, stderr);
        string copy = Assert.Single(Directory.GetFiles(Path.Combine(_dir, "dist"), "*.ecpack"));
        Assert.True(new FileInfo(copy).Length < new FileInfo(pack).Length);
        (rc, _, stderr) = CliProcess.Run("decode", ecx, "-o", Path.Combine(_dir, "from-copy.png"), "-b", "cpu", "-m", copy);
        Assert.True(rc == 0, stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "coffee.png")), File.ReadAllBytes(Path.Combine(_dir, "from-copy.png")));
    }

    [Fact]
    public void A_folder_as_input_or_a_path_through_a_file_is_a_message_not_a_crash_and_nothing_is_lost()
    {
        var (ecx, bytes) = EncodePhoto("keep.ecx", 0);
        string png = Path.Combine(_dir, "keep.png");
        Assert.Equal(0, CliProcess.Run("decode", ecx, "-o", png, "-b", "cpu").ExitCode);
        byte[] pngBytes = File.ReadAllBytes(png);

        foreach (string[] args in new[]
        {
            new[] { "decode", _dir, "-o", png, "-b", "cpu" },
            new[] { "info", _dir },
            new[] { "trim", _dir, "-l", "1", "-o", ecx },
            new[] { "encode", _dir, "-o", ecx },
            new[] { "decode", ecx, "-o", png, "-b", "cpu", "-m", _dir },
        })
        {
            var (rc, _, stderr) = CliProcess.Run(args);
            Assert.True(rc == 3, $"{string.Join(' ', args)}: {rc} {stderr}");
            Assert.Contains("is a folder", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        }

        // An output under a file (the folder cannot be created) and a report named as a folder: refused before
        // any work, and the earlier outputs are untouched.
        var (code, _, err) = CliProcess.Run("decode", ecx, "-o", Path.Combine(png, "x.png"), "-b", "cpu");
        Assert.Equal(1, code);
        Assert.Contains($"cannot create the folder {png}", err, StringComparison.Ordinal);
        (code, _, err) = CliProcess.Run("encode", _photo, "-o", Path.Combine(ecx, "x.ecx"));
        Assert.Equal(1, code);
        (code, _, err) = CliProcess.Run("decode", ecx, "-o", png, "-b", "cpu", "--json", _dir);
        Assert.Equal(2, code);
        Assert.Contains("name the file to write", err, StringComparison.Ordinal);
        Assert.Equal(bytes, File.ReadAllBytes(ecx));
        Assert.Equal(pngBytes, File.ReadAllBytes(png));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void Pipes_carry_the_same_bytes_as_files_and_the_report_goes_to_standard_error()
    {
        var (ecx, bytes) = EncodePhoto("file.ecx", 2);
        var (rc, piped, stderr) = CliProcess.RunPiped(File.ReadAllBytes(_photo), "encode", "-", "-o", "-", "-q", "2");
        Assert.True(rc == 0, stderr);
        Assert.Equal(bytes, piped);
        Assert.StartsWith("-: 600x400, quality 2", stderr, StringComparison.Ordinal);

        string png = Path.Combine(_dir, "file.png");
        Assert.Equal(0, CliProcess.Run("decode", ecx, "-o", png, "-b", "cpu").ExitCode);
        (rc, piped, stderr) = CliProcess.RunPiped(bytes, "decode", "-", "-o", "-", "-b", "cpu");
        Assert.True(rc == 0, stderr);
        Assert.Equal(File.ReadAllBytes(png), piped); // the backend's "auto: ..." lines and the report are on stderr, not in the PNG
        Assert.Contains("-: 600x400 on 'cpu'", stderr, StringComparison.Ordinal);

        // trim - -o - | info -: a base-layer-only stream through two pipes.
        (rc, piped, stderr) = CliProcess.RunPiped(bytes, "trim", "-", "-l", "1", "-o", "-");
        Assert.True(rc == 0, stderr);
        Assert.InRange(piped.Length, 1, bytes.Length - 1);
        var (infoRc, info, _) = CliProcess.RunPiped(piped, "info", "-");
        Assert.Equal(0, infoRc);
        Assert.Contains($"standard input ({piped.Length} bytes)", System.Text.Encoding.UTF8.GetString(info), StringComparison.Ordinal);

        // Into a folder, a piped input is named stdin; garbage on the pipe is bad input with nothing written.
        Assert.Equal(0, CliProcess.RunPiped(bytes, "decode", "-", "-o", _dir, "-b", "cpu").ExitCode);
        Assert.True(File.Exists(Path.Combine(_dir, "stdin.png")));
        (rc, piped, stderr) = CliProcess.RunPiped("not a container"u8.ToArray(), "decode", "-", "-o", "-", "-b", "cpu");
        Assert.Equal(3, rc);
        Assert.Empty(piped);
        Assert.Contains("invalid EdgeCodec data", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_raw_yuv_frame_encodes_as_its_picture_and_a_decode_writes_one_back()
    {
        // A camera's NV12 frame of the photo (BT.709 limited, as HD video): the CLI codes exactly the picture the SDK
        // converts it to, whether read from a file or a pipe.
        var photo = ImageFile.Load(_photo);
        byte[] nv12 = YuvConversion.FromRgb(photo, YuvLayout.Nv12, YuvColorSpace.Bt709Limited);
        string frame = Path.Combine(_dir, "frame.nv12");
        File.WriteAllBytes(frame, nv12);
        string converted = Path.Combine(_dir, "converted.png");
        ImageFile.SavePng(YuvConversion.ToRgb(nv12, YuvLayout.Nv12, photo.Width, photo.Height, YuvColorSpace.Bt709Limited), converted);
        var (rc, _, stderr) = CliProcess.Run("encode", converted, "-o", Path.Combine(_dir, "png.ecx"), "-q", "2");
        Assert.True(rc == 0, stderr);
        (rc, _, stderr) = CliProcess.Run("encode", frame, "--yuv", "nv12:600x400:bt709", "-o", _dir, "-q", "2");
        Assert.True(rc == 0, stderr);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "png.ecx")), File.ReadAllBytes(Path.Combine(_dir, "frame.ecx")));
        var (pipedRc, piped, _) = CliProcess.RunPiped(nv12, "encode", "-", "--yuv", "nv12:600x400:bt709", "-o", "-", "-q", "2");
        Assert.Equal(0, pipedRc);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_dir, "png.ecx")), piped);

        // Decoded to I420 for a display plane: the SDK's conversion of the decoded picture, named after the input.
        Assert.Equal(0, CliProcess.Run("decode", Path.Combine(_dir, "frame.ecx"), "-o", Path.Combine(_dir, "frame.png"), "-b", "cpu").ExitCode);
        (rc, _, stderr) = CliProcess.Run("decode", Path.Combine(_dir, "frame.ecx"), "--yuv", "i420:jpeg", "-o", _dir, "-b", "cpu");
        Assert.True(rc == 0, stderr);
        byte[] expected = YuvConversion.FromRgb(ImageFile.Load(Path.Combine(_dir, "frame.png")), YuvLayout.I420, YuvColorSpace.Bt601Full);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(_dir, "frame.yuv")));

        // A frame of the wrong size is bad input (two frames are named as such); a malformed format is bad usage.
        File.WriteAllBytes(frame, [.. nv12, .. nv12]);
        (rc, _, stderr) = CliProcess.Run("encode", frame, "--yuv", "nv12:600x400", "-o", Path.Combine(_dir, "two.ecx"));
        Assert.Equal(3, rc);
        Assert.Contains("a 600x400 Nv12 frame is 360000 bytes; it has 720000 (2 frames: encode one at a time)", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "two.ecx")));
        (rc, _, stderr) = CliProcess.Run("encode", frame, "--yuv", "nv12", "-o", Path.Combine(_dir, "two.ecx"));
        Assert.Equal(2, rc);
        Assert.Contains("gives no size", stderr, StringComparison.Ordinal);
        (rc, _, stderr) = CliProcess.Run("decode", Path.Combine(_dir, "frame.ecx"), "--yuv", "rgb565", "-o", _dir);
        Assert.Equal(2, rc);
        Assert.Contains("'rgb565' is not a YUV layout", stderr, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The photo encoded at a level into the test's folder: the container's path and bytes.</summary>
    private (string Path, byte[] Bytes) EncodePhoto(string name, int quality)
    {
        string ecx = Path.Combine(_dir, name);
        var (rc, _, stderr) = CliProcess.Run("encode", _photo, "-o", ecx, "-q", quality.ToString(CultureInfo.InvariantCulture));
        Assert.True(rc == 0, stderr);
        return (ecx, File.ReadAllBytes(ecx));
    }

    private double DecodePsnr(string ecx, RgbImage original)
    {
        string png = Path.ChangeExtension(ecx, ".png");
        var (rc, _, stderr) = CliProcess.Run("decode", ecx, "-o", png, "-b", "cpu");
        Assert.True(rc == 0, stderr);
        return Metrics.Psnr(original, ImageFile.Load(png));
    }

    [GeneratedRegex(@"^coffee\.ecx: 600x400, quality 3, \d+ layers, \d+ tiles, (?<bytes>\d+) bytes", RegexOptions.Multiline)]
    private static partial Regex EncodeLine();
}
