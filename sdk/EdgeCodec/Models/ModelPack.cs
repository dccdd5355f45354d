using EdgeCodec.Entropy;
using EdgeCodec.Format;
using EdgeCodec.Inference;

namespace EdgeCodec.Models;

/// <summary>
/// A validated EdgeCodec model pack (<c>.ecpack</c>, docs/model-pack.md), loaded fully into memory: layout, quality
/// levels, entropy tables, integer graphs and ONNX graphs of one model, identified by a SHA-256 (<see cref="Sha256"/>).
/// </summary>
/// <remarks>
/// Immutable and thread-safe once loaded. Loading verifies the identity (against the hash in the file name, if the
/// name has the <c>-&lt;12 hex&gt;.ecpack</c> form), every entry hash listed in the manifest, the tensor directory and
/// every integer graph, so a pack that loads can run without further checks. A version-2 pack may leave out its ONNX
/// graphs (<see cref="WriteDecoderPack"/>) and keeps its identity when it does.
/// </remarks>
public sealed partial class ModelPack
{
    /// <summary>Largest pack accepted (64 MiB); checked before anything is read.</summary>
    public const int MaxPackBytes = 64 << 20;

    /// <summary>Environment variable that names the pack (or a folder of packs) <see cref="LoadDefault"/> uses first.</summary>
    public const string ModelEnvironmentVariable = "EDGECODEC_MODEL";

    /// <summary>
    /// The file <see cref="LoadDefault"/> would load: <see cref="ModelEnvironmentVariable"/> (a pack or a folder of
    /// packs), else the newest pack in <c>models/</c> beside the application (where the <c>EdgeCodec.Models</c> package
    /// puts the default pack), else the newest pack in <c>models/</c> of the repository around the application.
    /// </summary>
    /// <returns>The pack's path.</returns>
    /// <exception cref="FileNotFoundException">No pack is found.</exception>
    public static string FindDefaultPath() => ModelPackLocator.FindDefault();

    /// <summary>Entry name of the fp32 analysis transform <c>g_a</c> (image → <c>y</c>).</summary>
    public const string AnalysisEntry = "onnx/analysis.onnx";

    /// <summary>
    /// Entry name of the int8 analysis transform <c>g_a</c> (a QDQ graph, image → <c>y</c>, the same input and output as
    /// <see cref="AnalysisEntry"/>); optional: packs exported since session 41 have it (<see cref="Codec.AnalysisArithmetic.Int8"/>).
    /// </summary>
    public const string AnalysisInt8Entry = "onnx/analysis.qdq.onnx";

    /// <summary>Entry name of the fp32 hyper analysis <c>h_a</c> (<c>y'</c> → <c>z</c>).</summary>
    public const string HyperAnalysisEntry = "onnx/hyper_analysis.onnx";

    /// <summary>Entry name of the QDQ int8 synthesis <c>g_s</c> (<c>yq</c> → <c>rgb</c>).</summary>
    public const string SynthesisQdqEntry = "onnx/synthesis.qdq.onnx";

    /// <summary>Entry name of the fp32 synthesis <c>g_s</c> (<c>yq</c> → <c>rgb</c>).</summary>
    public const string SynthesisFp32Entry = "onnx/synthesis.fp32.onnx";

    private readonly IReadOnlyDictionary<string, IntegerGraph> _graphs;
    private readonly IReadOnlyDictionary<string, byte[]> _onnx;

    internal ModelPack(string sha256, ulong modelId, ModelLayout layout, IReadOnlyList<QualityLevel> qualityLevels,
        CdfTableSet gaussianTables, CdfTableSet factorizedTables, IReadOnlyDictionary<string, IntegerGraph> graphs,
        IReadOnlyDictionary<string, byte[]> onnx, string modelCard, double decoderKmacPerPixel, string name)
    {
        Sha256 = sha256;
        ModelId = modelId;
        Layout = layout;
        QualityLevels = qualityLevels;
        GaussianTables = gaussianTables;
        FactorizedTables = factorizedTables;
        _graphs = graphs;
        _onnx = onnx;
        ModelCard = modelCard;
        DecoderKmacPerPixel = decoderKmacPerPixel;
        Name = name;
    }

    /// <summary>The residual layer's tables, or null when the pack has none (docs/format.md, "The residual layer").</summary>
    internal ResidualTables? Residual { get; init; }

    /// <summary>
    /// The quantisation steps of the residual layer, in pixel values (0..255), by step index; empty when the pack has
    /// no residual layer. Larger steps cost fewer bits and correct less.
    /// </summary>
    public IReadOnlyList<double> ResidualSteps => Residual is null ? [] : [.. Residual.StepsQ2.Select(s => s / 4.0)];

    /// <summary>
    /// The residual layer's block classes (each 16×16 block is coded with the tables of one of them; 1: one set of
    /// tables for all blocks), or 0 when the pack has no residual layer.
    /// </summary>
    public int ResidualBlockClasses => Residual?.Classes ?? 0;

    /// <summary>
    /// The pack's quality ladder, from the smallest to the largest stream: the (quality level, residual step) pairs
    /// its export measured on the convex hull of rate and distortion (on training photos). A pack without a residual
    /// layer lists its quality levels.
    /// </summary>
    public IReadOnlyList<QualitySetting> QualityLadder { get; internal init; } = [];

    /// <summary>
    /// The rate of each <see cref="QualityLadder"/> setting as the pack's export measured it (bits per pixel on
    /// held-out training photos; the manifest's <c>ladder_bpp</c>), in the ladder's order; empty when the pack does
    /// not state them. Only their ratios matter to a sender: content scales them all alike
    /// (<c>QualityAdaptation.ForLadder</c> in EdgeCodec.Streaming).
    /// </summary>
    public IReadOnlyList<double> QualityLadderBitsPerPixel { get; internal init; } = [];

    /// <summary>
    /// The pack's identity, 64 lowercase hex digits: the SHA-256 of <c>manifest.json</c> for a version-2 pack (the
    /// manifest lists every entry's hash, so a decoder-only copy has the same identity), the SHA-256 of the whole file
    /// for a version-1 pack.
    /// </summary>
    public string Sha256 { get; }

    /// <summary>The pack's format version: 1 (identity = hash of the file) or 2 (identity = hash of the manifest).</summary>
    public int FormatVersion { get; internal init; }

    /// <summary>
    /// The entries the manifest lists that this file leaves out (a decoder-only copy, <see cref="WriteDecoderPack"/>),
    /// in ordinal order; empty for a complete pack. An encoder needs <see cref="AnalysisEntry"/> and
    /// <see cref="HyperAnalysisEntry"/>; the <c>onnx</c>, <c>onnx-fp32</c> and <c>qnn</c> backends need their synthesis graph.
    /// </summary>
    public IReadOnlyList<string> OmittedEntries { get; internal init; } = [];

    /// <summary>The first 8 bytes of <see cref="Sha256"/> read big-endian: the id written into packets and containers.</summary>
    public ulong ModelId { get; }

    /// <summary>Model name from the manifest (e.g. <c>edgecodec-hp</c>); informational.</summary>
    public string Name { get; }

    /// <summary>Channel counts, strides, tiling and fixed-point format.</summary>
    public ModelLayout Layout { get; }

    /// <summary>The quality levels, indexed by <see cref="QualityLevel.Level"/>.</summary>
    public IReadOnlyList<QualityLevel> QualityLevels { get; }

    /// <summary>CDFs of the latent <c>y</c>: one table per Gaussian scale level (the context models' index).</summary>
    public CdfTableSet GaussianTables { get; }

    /// <summary>CDFs of the hyper-latent <c>z</c>: one table per hyper channel.</summary>
    public CdfTableSet FactorizedTables { get; }

    /// <summary>The model card (Markdown): data, training, decoder cost, integer-vs-float check.</summary>
    public string ModelCard { get; }

    /// <summary>Decoder cost in thousands of multiply-accumulates per output pixel (all integer graphs).</summary>
    public double DecoderKmacPerPixel { get; }

    /// <summary>Names of the ONNX entries, readable with <see cref="GetEntry"/>.</summary>
    public IEnumerable<string> OnnxEntries => _onnx.Keys.Order(StringComparer.Ordinal);

    /// <summary>The hyper decoder graph: <c>z</c> → <c>hyper</c>.</summary>
    internal IntegerGraph HyperGraph => _graphs["hyper"];

    /// <summary>The synthesis graph: <c>y</c> → <c>rgb</c>.</summary>
    internal IntegerGraph SynthesisGraph => _graphs["synthesis"];

    /// <summary>The context model of group <paramref name="group"/>: <c>hyper, y0..y{k-1}</c> → <c>mean{k}, index{k}</c>.</summary>
    internal IntegerGraph ContextGraph(int group) => _graphs[$"context{group}"];

    /// <summary>Any graph by its manifest name (<c>hyper</c>, <c>context{k}</c>, <c>synthesis</c>).</summary>
    /// <exception cref="KeyNotFoundException">The pack has no graph of that name.</exception>
    internal IntegerGraph GetGraph(string name) => _graphs[name];

    /// <summary>Whether the pack has an ONNX entry of the given name.</summary>
    /// <param name="name">Entry name, e.g. <see cref="SynthesisQdqEntry"/>.</param>
    /// <returns><see langword="true"/> if <see cref="GetEntry"/> would return it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    public bool HasEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _onnx.ContainsKey(name);
    }

    /// <summary>Returns the bytes of an ONNX entry of the pack.</summary>
    /// <param name="name">Entry name, e.g. <c>onnx/analysis.onnx</c>, <c>onnx/hyper_analysis.onnx</c>, <c>onnx/synthesis.qdq.onnx</c>, <c>onnx/synthesis.fp32.onnx</c>.</param>
    /// <returns>The entry's bytes (verified against the manifest hash at load).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="KeyNotFoundException">The pack has no ONNX entry of that name.</exception>
    public ReadOnlyMemory<byte> GetEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _onnx.TryGetValue(name, out byte[]? bytes)
            ? bytes
            : throw new KeyNotFoundException($"The model pack has no entry '{name}' (available: {string.Join(", ", OnnxEntries)}).");
    }

    /// <summary>Loads and validates a pack file.</summary>
    /// <param name="path">Path of the <c>.ecpack</c> file; a <c>-&lt;12 hex&gt;.ecpack</c> name must match the content hash.</param>
    /// <returns>The validated pack.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    /// <exception cref="IOException">The file cannot be read (<see cref="FileNotFoundException"/> if it does not exist or is a folder).</exception>
    /// <exception cref="EdgeCodecFormatException">The file is not a valid pack; the message names the problem.</exception>
    public static ModelPack Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
        {
            throw new FileNotFoundException($"{path} is a folder, not a model pack; name a .ecpack file in it.", path);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Load(stream, path);
    }

    /// <summary>Loads and validates a pack from a stream, reading it to the end.</summary>
    /// <param name="stream">The pack bytes; read from the current position, not disposed.</param>
    /// <param name="fileName">The file name the bytes came from, if any; a <c>-&lt;12 hex&gt;.ecpack</c> name must match the content hash.</param>
    /// <returns>The validated pack.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is <see langword="null"/>.</exception>
    /// <exception cref="IOException">Reading the stream failed.</exception>
    /// <exception cref="EdgeCodecFormatException">
    /// The bytes are not a valid pack (more than <see cref="MaxPackBytes"/>, not a ZIP, hash mismatch, bad manifest,
    /// tensor or graph); the message names the problem.
    /// </exception>
    public static ModelPack Load(Stream stream, string? fileName = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return ModelPackReader.Read(ReadBounded(stream), fileName);
    }

    /// <summary>Reads a stream to its end, refusing more than <see cref="MaxPackBytes"/> before it has read them.</summary>
    private static byte[] ReadBounded(Stream stream)
    {
        if (stream.CanSeek && stream.Length - stream.Position > MaxPackBytes)
        {
            throw new EdgeCodecFormatException($"Model pack is {stream.Length - stream.Position} bytes, over the {MaxPackBytes}-byte limit.", FormatError.LimitExceeded);
        }

        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + n > MaxPackBytes)
            {
                throw new EdgeCodecFormatException($"Model pack exceeds the {MaxPackBytes}-byte limit.", FormatError.LimitExceeded);
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Loads the default pack: the file (or the newest <c>*.ecpack</c> in the folder) named by
    /// <see cref="ModelEnvironmentVariable"/>, else the newest <c>models/*.ecpack</c> beside the application
    /// (<see cref="AppContext.BaseDirectory"/>; the <c>EdgeCodec.Models</c> package copies the default pack there), else
    /// the newest <c>models/*.ecpack</c> of the repository found by walking up from there to the folder that contains
    /// <c>EdgeCodec.sln</c>.
    /// </summary>
    /// <returns>The validated pack.</returns>
    /// <exception cref="FileNotFoundException">No pack was found (the message says where it looked).</exception>
    /// <exception cref="IOException">The pack cannot be read.</exception>
    /// <exception cref="EdgeCodecFormatException">The pack found is not valid.</exception>
    public static ModelPack LoadDefault() => Load(ModelPackLocator.FindDefault());
}
