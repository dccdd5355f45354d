using System.Security.Cryptography;
using EdgeCodec.Codec;
using EdgeCodec.Models;

namespace EdgeCodec.Backends.Cpu.Check;

/// <summary>
/// Decodes a committed stream and compares SHA-256 hashes with the values produced on x64: the synthesis input (the
/// quantised latents every window receives, i.e. what the entropy path decoded) and the reconstruction.
/// </summary>
internal static class VectorCheck
{
    public static int Run(ModelPack pack, CpuBackend cpu, string stream, string expectedFile, bool write)
    {
        // --write records the ground truth: the SDK's scalar reference for both the entropy path and the synthesis.
        if (write)
        {
            CpuBackend.UnregisterEntropyKernels();
        }

        var capture = new CaptureBackend(write ? DecoderBackends.Get("reference") : cpu);
        DecoderBackends.Register(capture);
        byte[] container = File.ReadAllBytes(stream);
        using var ms = new MemoryStream(container, writable: false);
        var (frame, _) = EdgeCodecDecoder.Decode(pack, ms, new DecoderOptions { Backend = capture.Name, Threads = 2 });
        string latents = Convert.ToHexStringLower(capture.Finish());
        string pixels = Convert.ToHexStringLower(SHA256.HashData(frame.Image.Pixels)); // rows packed, no padding
        string actual = $"latents-sha256 {latents}\nrgb-sha256 {pixels}\n";
        if (write)
        {
            File.WriteAllText(expectedFile, actual);
            Console.WriteLine("written from the scalar reference (reference backend, scalar entropy path):");
            Console.Write(actual);
            return 0;
        }

        string expected = File.ReadAllText(expectedFile).ReplaceLineEndings("\n");
        bool ok = expected == actual;
        Console.WriteLine($"{(ok ? "PASS" : "FAIL")} {cpu.Isa}: {Path.GetFileName(stream)} {frame.Image.Width}x{frame.Image.Height} latents {latents[..16]} rgb {pixels[..16]} {(ok ? "identical to x64" : "DIFFERS from x64")}");
        if (!ok)
        {
            Console.WriteLine($"expected:\n{expected}actual:\n{actual}");
        }

        return ok ? 0 : 1;
    }

    /// <summary>A backend with every synthesis input hashed on the way in.</summary>
    private sealed class CaptureBackend(DecoderBackend inner) : DecoderBackend
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override string Name => "cpu-capture";

        public override int Priority => -1;

        public byte[] Finish() => _hash.GetHashAndReset();

        public override bool IsAvailable(ModelPack pack, out string reason) => inner.IsAvailable(pack, out reason);

        public override ISynthesisBackend Create(ModelPack pack, BackendOptions options) => new Session(inner.Create(pack, options), _hash);

        private sealed class Session(ISynthesisBackend inner, IncrementalHash hash) : ISynthesisBackend
        {
            public string Name => "cpu-capture";

            public bool IsThreadSafe => false;

            public void Synthesize(ReadOnlySpan<byte> yq, int height, int width, Span<byte> rgb)
            {
                hash.AppendData(yq);
                inner.Synthesize(yq, height, width, rgb);
            }

            public void Dispose() => inner.Dispose();
        }
    }
}
