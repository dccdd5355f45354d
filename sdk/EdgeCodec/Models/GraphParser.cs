using System.Numerics;
using EdgeCodec.Inference;

namespace EdgeCodec.Models;

/// <summary>
/// Builds and validates the integer graphs of <c>manifest.json</c> (<c>graphs</c>) against the tensor directory and
/// the layout, so that a loaded graph can only fail at run time on bad caller inputs.
/// </summary>
/// <remarks>
/// Validation is symbolic: each tensor name carries its kind (u8/i32), channel count, zero point and spatial scale
/// (log2 relative to the graph input, +1 per depth-to-space). Spatial sizes themselves are only known at run time.
/// </remarks>
internal sealed class GraphParser
{
    private const long MaxAccumulator = int.MaxValue;

    private readonly IReadOnlyDictionary<string, PackTensor> _tensors;
    private readonly ModelLayout _layout;
    private readonly int _qualityLevels;

    public GraphParser(IReadOnlyDictionary<string, PackTensor> tensors, ModelLayout layout, int qualityLevels)
    {
        _tensors = tensors;
        _layout = layout;
        _qualityLevels = qualityLevels;
    }

    private sealed record Sym(bool IsU8, int Channels, int ZeroPoint, int Scale);

    public Dictionary<string, IntegerGraph> ParseAll(PackJson graphs)
    {
        var expected = new List<string> { "hyper" };
        for (int k = 0; k < _layout.Groups; k++)
        {
            expected.Add($"context{k}");
        }

        expected.Add("synthesis");
        foreach ((string name, _) in graphs.Properties())
        {
            if (!expected.Contains(name))
            {
                throw graphs.Error($"unexpected graph '{name}' (this architecture has {string.Join(", ", expected)})");
            }
        }

        var result = new Dictionary<string, IntegerGraph>(StringComparer.Ordinal);
        int latentToHyper = Log2(_layout.HyperStride / _layout.LatentStride);
        var hyperInputs = new Dictionary<string, Sym> { ["z"] = new(false, _layout.HyperChannels, 0, 0) };
        (IntegerGraph hyper, Dictionary<string, Sym> hyperSyms) = Parse("hyper", graphs["hyper"], hyperInputs);
        Sym hyperOut = Require(graphs["hyper"], hyperSyms, "hyper", u8: true, channels: null, scale: latentToHyper);
        result["hyper"] = hyper;

        for (int k = 0; k < _layout.Groups; k++)
        {
            string name = $"context{k}";
            var inputs = new Dictionary<string, Sym> { ["hyper"] = hyperOut with { Scale = 0 } };
            for (int j = 0; j < k; j++)
            {
                inputs[$"y{j}"] = new Sym(false, _layout.GroupChannels, 0, 0);
            }

            (IntegerGraph graph, Dictionary<string, Sym> syms) = Parse(name, graphs[name], inputs);
            Require(graphs[name], syms, $"mean{k}", u8: false, _layout.GroupChannels, 0);
            Require(graphs[name], syms, $"index{k}", u8: false, _layout.GroupChannels, 0);
            ConvNode index = graph.Nodes.OfType<ConvNode>().Single(n => n.Output == $"index{k}");
            if (index.Lo < 0 || index.Hi > _layout.ScaleLevels - 1)
            {
                throw graphs[name].Error($"index{k} is clamped to {index.Lo}..{index.Hi}, outside the {_layout.ScaleLevels} scale levels");
            }

            result[name] = graph;
        }

        var synthInputs = new Dictionary<string, Sym> { ["y"] = new(false, _layout.LatentChannels, 0, 0) };
        (IntegerGraph synthesis, Dictionary<string, Sym> synthSyms) = Parse("synthesis", graphs["synthesis"], synthInputs);
        Require(graphs["synthesis"], synthSyms, "rgb", u8: true, 3, Log2(_layout.LatentStride));
        result["synthesis"] = synthesis;
        return result;
    }

    private static Sym Require(PackJson graph, Dictionary<string, Sym> syms, string name, bool u8, int? channels, int scale)
    {
        if (!syms.TryGetValue(name, out Sym? s))
        {
            throw graph.Error($"does not produce '{name}'");
        }

        if (s.IsU8 != u8 || (channels is int c && s.Channels != c) || s.Scale != scale)
        {
            throw graph.Error($"'{name}' is {(s.IsU8 ? "u8" : "i32")} with {s.Channels} channels at scale 2^{s.Scale}; " +
                $"expected {(u8 ? "u8" : "i32")}{(channels is int cc ? $" with {cc} channels" : "")} at scale 2^{scale}");
        }

        return s;
    }

    private (IntegerGraph Graph, Dictionary<string, Sym> Syms) Parse(string graphName, PackJson json, Dictionary<string, Sym> allowedInputs)
    {
        var syms = new Dictionary<string, Sym>(StringComparer.Ordinal);
        var used = new List<GraphInput>();
        var consumed = new HashSet<string>(StringComparer.Ordinal);
        var nodes = new List<GraphNode>();
        if (json.Count == 0 || json.Count > 256)
        {
            throw json.Error($"a graph needs 1..256 nodes, got {json.Count}");
        }

        foreach (PackJson n in json.Items())
        {
            string[] inputNames = n["inputs"].Items().Select(i => i.String()).ToArray();
            if (inputNames.Length == 0 || inputNames.Length > 16)
            {
                throw n.Error($"a node needs 1..16 inputs, got {inputNames.Length}");
            }

            var inputs = new Sym[inputNames.Length];
            for (int i = 0; i < inputNames.Length; i++)
            {
                string name = inputNames[i];
                if (!syms.TryGetValue(name, out Sym? s))
                {
                    if (!allowedInputs.TryGetValue(name, out s))
                    {
                        throw n.Error($"input '{name}' is neither produced by an earlier node nor an input of graph '{graphName}' " +
                            $"({string.Join(", ", allowedInputs.Keys)})");
                    }

                    syms[name] = s;
                    used.Add(new GraphInput(name, s.IsU8, s.Channels, s.ZeroPoint));
                }

                inputs[i] = s;
                consumed.Add(name);
            }

            string output = n["output"].String();
            if (syms.ContainsKey(output) || allowedInputs.ContainsKey(output))
            {
                throw n.Error($"output '{output}' is defined twice");
            }

            (GraphNode node, Sym sym) = n["op"].String() switch
            {
                "quantize" => ParseQuantize(n, inputNames, inputs, output),
                "conv" => ParseConv(n, inputNames, inputs, output),
                "add" => ParseAdd(n, inputNames, inputs, output),
                string op => throw n["op"].Error($"unknown op '{op}'"),
            };
            nodes.Add(node);
            syms[output] = sym;
        }

        string[] outputs = nodes.Select(x => x.Output).Where(x => !consumed.Contains(x)).ToArray();
        return (new IntegerGraph(graphName, nodes, used, outputs, _qualityLevels), syms);
    }

    private (GraphNode, Sym) ParseQuantize(PackJson n, string[] names, Sym[] inputs, string output)
    {
        if (inputs.Length != 1 || inputs[0].IsU8)
        {
            throw n.Error("quantize takes exactly one i32 input");
        }

        int c = inputs[0].Channels;
        PackTensor mult = Tensor(n["mult"], "i32");
        PackTensor shift = Tensor(n["shift"], "i32");
        int rows;
        if (mult.Shape.SequenceEqual([c]))
        {
            rows = 1;
        }
        else if (mult.Shape.SequenceEqual([_qualityLevels, c]))
        {
            rows = _qualityLevels;
        }
        else
        {
            throw n.Error($"mult '{mult.Name}' has shape {mult.ShapeText}, expected [{c}] or [{_qualityLevels}, {c}]");
        }

        if (!shift.Shape.SequenceEqual(mult.Shape))
        {
            throw n.Error($"shift '{shift.Name}' has shape {shift.ShapeText}, expected {mult.ShapeText}");
        }

        int zp = ZeroPoint(n["zp"]);
        var node = new QuantizeNode(names[0], output, c, rows, CheckMult(n, mult), CheckShift(n, shift), zp);
        return (node, new Sym(true, c, zp, inputs[0].Scale));
    }

    private (GraphNode, Sym) ParseConv(PackJson n, string[] names, Sym[] inputs, string output)
    {
        int cin = 0;
        foreach (Sym s in inputs)
        {
            if (!s.IsU8 || s.Scale != inputs[0].Scale)
            {
                throw n.Error("conv inputs must be u8 tensors of the same spatial size");
            }

            cin += s.Channels;
        }

        PackTensor weight = Tensor(n["weight"], "i8");
        if (weight.Shape.Length != 4 || weight.Shape[2] != weight.Shape[3] || weight.Shape[2] is not (1 or 3))
        {
            throw n.Error($"weight '{weight.Name}' has shape {weight.ShapeText}, expected [O, Cin, k, k] with k in {{1, 3}}");
        }

        int o = weight.Shape[0], k = weight.Shape[2];
        if (o < 1)
        {
            throw n.Error($"weight '{weight.Name}' has no output channels");
        }

        if (weight.Shape[1] != cin)
        {
            throw n.Error($"weight '{weight.Name}' has {weight.Shape[1]} input channels but the inputs ({string.Join(", ", names)}) have {cin}");
        }

        if ((long)255 * 127 * k * k * cin > MaxAccumulator)
        {
            throw n.Error($"Cin = {cin} with k = {k} could overflow the 32-bit accumulator");
        }

        PackTensor bias = PerChannel(n, "bias", o), mult = PerChannel(n, "mult", o), shift = PerChannel(n, "shift", o);
        string type = n["type"].String();
        if (type is not ("u8" or "i32"))
        {
            throw n["type"].Error($"unknown output type '{type}'");
        }

        int zp = ZeroPoint(n["zp"]);
        int lo = n["lo"].Int(), hi = n["hi"].Int();
        CheckRange(n, type == "u8", lo, hi);
        int d2s = n.Has("d2s") ? n["d2s"].Int() : 0;
        if (d2s is not (0 or 2) || (d2s == 2 && o % 4 != 0))
        {
            throw n.Error($"d2s = {d2s} is not supported for {o} output channels (0, or 2 with O a multiple of 4)");
        }

        var node = new ConvNode(names, output, (sbyte[])weight.Data, o, cin, k, (int[])bias.Data, CheckMult(n, mult), CheckShift(n, shift),
            type == "u8", zp, lo, hi, d2s);
        int outChannels = d2s == 2 ? o / 4 : o;
        return (node, new Sym(type == "u8", outChannels, zp, inputs[0].Scale + (d2s == 2 ? 1 : 0)));
    }

    private static (GraphNode, Sym) ParseAdd(PackJson n, string[] names, Sym[] inputs, string output)
    {
        if (inputs.Length != 2 || !inputs[0].IsU8 || !inputs[1].IsU8 || inputs[0].Channels != inputs[1].Channels || inputs[0].Scale != inputs[1].Scale)
        {
            throw n.Error("add takes two u8 inputs of the same shape");
        }

        int multA = n["mult_a"].Int(0, int.MaxValue), multB = n["mult_b"].Int(0, int.MaxValue);
        int shift = n["shift"].Int(1, 62);
        int zp = ZeroPoint(n["zp"]);
        int lo = n["lo"].Int(), hi = n["hi"].Int();
        CheckRange(n, true, lo, hi);
        return (new AddNode(names[0], names[1], output, multA, multB, shift, zp, lo, hi), new Sym(true, inputs[0].Channels, zp, inputs[0].Scale));
    }

    private PackTensor Tensor(PackJson nameJson, string dtype)
    {
        string name = nameJson.String();
        if (!_tensors.TryGetValue(name, out PackTensor? t))
        {
            throw nameJson.Error($"tensor '{name}' is not in the tensor directory");
        }

        return t.DType == dtype ? t : throw nameJson.Error($"tensor '{name}' is {t.DType}, expected {dtype}");
    }

    private PackTensor PerChannel(PackJson n, string field, int channels)
    {
        PackTensor t = Tensor(n[field], "i32");
        return t.Shape.SequenceEqual([channels]) ? t : throw n.Error($"{field} '{t.Name}' has shape {t.ShapeText}, expected [{channels}]");
    }

    private static int[] CheckMult(PackJson n, PackTensor t)
    {
        int[] v = (int[])t.Data;
        int bad = Array.FindIndex(v, m => m <= 0);
        return bad < 0 ? v : throw n.Error($"'{t.Name}'[{bad}] = {v[bad]}: multipliers must be > 0");
    }

    private static int[] CheckShift(PackJson n, PackTensor t)
    {
        int[] v = (int[])t.Data;
        int bad = Array.FindIndex(v, s => s is < 1 or > 62);
        return bad < 0 ? v : throw n.Error($"'{t.Name}'[{bad}] = {v[bad]}: shifts must be in 1..62");
    }

    private static int ZeroPoint(PackJson j)
    {
        int zp = j.Int();
        return zp is 0 or 128 ? zp : throw j.Error($"zero point {zp} is not 0 or 128");
    }

    private static void CheckRange(PackJson n, bool u8, int lo, int hi)
    {
        if (lo > hi || (u8 && (lo < 0 || hi > 255)))
        {
            throw n.Error($"clamp range {lo}..{hi} is invalid{(u8 ? " for a u8 output" : "")}");
        }
    }

    private static int Log2(int v) => BitOperations.Log2((uint)v);
}
