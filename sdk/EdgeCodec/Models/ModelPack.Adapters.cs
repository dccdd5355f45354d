using EdgeCodec.Adapters;
using EdgeCodec.Inference;

namespace EdgeCodec.Models;

public sealed partial class ModelPack
{
    /// <summary>The adapter this pack view carries, or null for the base model.</summary>
    public string? AdapterId { get; private init; }

    /// <summary>
    /// A view of this pack whose synthesis uses <paramref name="adapter"/>: the retuned convolutions get the
    /// adapter's bias and requantisation; everything else (entropy path, tables, model id) is shared, so streams
    /// parse exactly as with the base. When the package carries an ONNX patch, the view's QDQ synthesis graph is the base
    /// graph with the patch applied (the <c>onnx</c> and NPU backends then run the adapter); otherwise it has no ONNX
    /// synthesis and ORT backends decline it.
    /// </summary>
    /// <param name="adapter">A parsed (and, on devices, verified) adapter package.</param>
    /// <exception cref="AdapterVerificationException">The adapter was made for another model, does not fit its layers, or its ONNX patch does not apply.</exception>
    public ModelPack WithAdapter(AdapterPackage adapter)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        if (!string.Equals(adapter.Manifest.BaseModelSha256, Sha256, StringComparison.Ordinal))
        {
            throw new AdapterVerificationException(
                $"Adapter '{adapter.Manifest.Id}' was made for model {adapter.Manifest.BaseModelSha256[..12]}, not {Sha256[..12]}.");
        }

        var synthesis = SynthesisGraph;
        var byOutput = adapter.Layers.ToDictionary(l => l.Output, StringComparer.Ordinal);
        var nodes = new List<GraphNode>(synthesis.Nodes.Count);
        foreach (var node in synthesis.Nodes)
        {
            if (node is ConvNode conv && byOutput.Remove(conv.Output, out var layer))
            {
                if (layer.Channels != conv.OutChannels)
                {
                    throw new AdapterVerificationException($"Adapter '{adapter.Manifest.Id}': layer '{layer.Output}' has {layer.Channels} channels, the model {conv.OutChannels}.");
                }

                nodes.Add(new ConvNode(conv.Inputs, conv.Output, conv.Weight, conv.OutChannels, conv.InChannels, conv.Kernel,
                    layer.Bias, layer.Mult, layer.Shift, conv.OutputU8, conv.ZeroPoint, conv.Lo, conv.Hi, conv.DepthToSpace));
            }
            else
            {
                nodes.Add(node);
            }
        }

        if (byOutput.Count > 0)
        {
            throw new AdapterVerificationException($"Adapter '{adapter.Manifest.Id}' names layers the model's synthesis does not have: {string.Join(", ", byOutput.Keys)}.");
        }

        var graphs = new Dictionary<string, IntegerGraph>(_graphs, StringComparer.Ordinal)
        {
            ["synthesis"] = new IntegerGraph(synthesis.Name, nodes, synthesis.Inputs, synthesis.Outputs, synthesis.QualityLevels),
        };
        var onnx = _onnx.Where(e => !e.Key.StartsWith("onnx/synthesis", StringComparison.Ordinal)).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (adapter.OnnxPatchBytes is { } patch && _onnx.TryGetValue(SynthesisQdqEntry, out var baseGraph))
        {
            onnx[SynthesisQdqEntry] = OnnxPatch.Apply(baseGraph, patch, adapter.Manifest.Id);
        }

        return new ModelPack(Sha256, ModelId, Layout, QualityLevels, GaussianTables, FactorizedTables, graphs, onnx, ModelCard, DecoderKmacPerPixel, Name)
        {
            AdapterId = adapter.Manifest.Id,
            Residual = Residual,
            QualityLadder = QualityLadder,
            QualityLadderBitsPerPixel = QualityLadderBitsPerPixel,
            FormatVersion = FormatVersion,
            OmittedEntries = OmittedEntries,
        };
    }
}
