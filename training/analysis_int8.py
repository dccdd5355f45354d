"""The int8 analysis: g_a as a QDQ ONNX graph for cameras (pack entry ``onnx/analysis.qdq.onnx``).

The encoder's analysis is never seen by a decoder: its output is quantised to integers right after, and everything
from there on is the integer entropy path. So a faster, less exact g_a can only cost rate and distortion, never
decodability. This module rewrites the fp32 ONNX export of g_a: the 5×5 convs at 1/4 and 1/8 resolution and the
residual blocks there (``QUANTISED``: 31.0 of the encoder's 36.1 kMAC/px, ``int8_kmac_per_pixel``) get int8 weights (symmetric, per output channel),
int32 biases and uint8 activations (asymmetric, per tensor) in and out, the pattern ONNX Runtime fuses into
``QLinearConv``. What stays float, and why (docs/benchmarks.md, "The int8 analysis"):

- the first conv (3 → N at 1/2 resolution, 1.8 kMAC/px) and its GDN: their 1/2-resolution tensors are the largest
  in the graph, and dequantising them for the float GDN cost more time than the int8 conv saved;
- the GDNs (``x / sqrt(beta + gamma · x²)``): a square and a square root in eight bits would lose the range;
- the convs at 1/16 resolution (the last 5×5 and ``res16``, which write ``y`` itself: 2.4 kMAC/px): ``y`` at the top
  quality level spans ~80 quantisation steps after its gain, more than an 8-bit output keeps.

Activation ranges come from the export's calibration crops (training photos, never Kodak or validation): the
``percentile`` and ``1 - percentile`` quantiles of each quantised conv's input and output.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .model import EdgeCodecModel, counted_conv_macs
from .qdq import int8_per_channel

#: The g_a modules (paths in ``Analysis``) that run in int8.
QUANTISED = ("2", "4", "res4.conv1", "res4.conv2", "res8.conv1", "res8.conv2")
#: Clipping quantile of the activation ranges (measured on Kodak with pack 2c6a7815b8f0: +0.54 % BD-rate).
PERCENTILE = 0.9999
_SAMPLES = 2_000_000  # values per tensor the quantiles are read from (torch.quantile's input limit is 16M)


def int8_kmac_per_pixel(model: EdgeCodecModel) -> float:
    """Multiply-accumulates per input pixel, in thousands, of the convs that run in int8 (counted as
    ``model.encoder_kmac_per_pixel`` counts the whole encoder)."""
    convs = tuple(model.g_a.get_submodule(name) for name in QUANTISED)
    return counted_conv_macs(convs, lambda: model.g_a(torch.zeros(1, 3, 256, 256))) / (256 * 256) / 1000


def _range(t: torch.Tensor, percentile: float) -> tuple[float, float]:
    t = t.detach().flatten().float()
    if t.numel() > _SAMPLES:
        t = t[torch.randint(0, t.numel(), (_SAMPLES,), generator=torch.Generator().manual_seed(0))]
    return float(torch.quantile(t, 1 - percentile)), float(torch.quantile(t, percentile))


def activation_ranges(model: EdgeCodecModel, crops: list[torch.Tensor], percentile: float = PERCENTILE
                      ) -> dict[str, tuple[tuple[float, float], tuple[float, float]]]:
    """Per quantised module: (input low, input high), (output low, output high) over ``crops`` (3 × h × w in 0..1)."""
    seen: dict[str, tuple[list, list]] = {name: ([], []) for name in QUANTISED}
    hooks = []
    for name, module in model.g_a.named_modules():
        if name in seen:
            def record(_m: nn.Module, inputs, output, name=name):
                seen[name][0].append(_range(inputs[0], percentile))
                seen[name][1].append(_range(output, percentile))
            hooks.append(module.register_forward_hook(record))
    try:
        with torch.no_grad():
            for crop in crops:
                model.g_a(crop.unsqueeze(0))
    finally:
        for h in hooks:
            h.remove()
    span = lambda rs: (min(r[0] for r in rs), max(r[1] for r in rs))  # noqa: E731
    return {name: (span(i), span(o)) for name, (i, o) in seen.items()}


def _uint8_params(low: float, high: float) -> tuple[np.float32, np.uint8]:
    """Asymmetric uint8 quantisation of [low, high] (widened to hold 0, as ONNX requires an exact zero)."""
    low, high = min(low, 0.0), max(high, 0.0)
    scale = max((high - low) / 255.0, 1e-8)
    return np.float32(scale), np.uint8(np.clip(round(-low / scale), 0, 255))


def quantise_analysis(model: EdgeCodecModel, fp32_onnx: bytes, ranges: dict) -> bytes:
    """Rewrites g_a's fp32 ONNX export (module paths in the node names, as ``export.export_encoder`` writes it) into
    the QDQ graph described above, with the weights and biases of ``model``'s modules."""
    import onnx
    from onnx import helper, numpy_helper

    graph_model = onnx.load_from_string(fp32_onnx)
    g = graph_model.graph
    nodes, added = [], []
    renamed: dict[str, str] = {}

    def const(name: str, value: np.ndarray) -> str:
        added.append(numpy_helper.from_array(value, name))
        return name

    def qdq(x: str, scale: np.float32, zero: np.uint8, tag: str) -> str:
        s, z = const(f"{tag}_scale", np.float32(scale)), const(f"{tag}_zero", np.uint8(zero))
        nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [f"{tag}_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{tag}_q", s, z], [f"{tag}_dq"]))
        return f"{tag}_dq"

    found = set()
    for n in g.node:
        n.input[:] = [renamed.get(i, i) for i in n.input]
        path = n.output[0].strip("/").rsplit("/", 1)[0].replace("/", ".") if n.op_type == "Conv" else ""
        if path not in ranges:
            nodes.append(n)
            continue
        found.add(path)
        (in_lo, in_hi), (out_lo, out_hi) = ranges[path]
        s_x, z_x = _uint8_params(in_lo, in_hi)
        x = qdq(n.input[0], s_x, z_x, f"{path}_in")
        conv = model.g_a.get_submodule(path)
        w = conv.weight.detach().double().numpy()
        qw, s_w = int8_per_channel(w)
        nodes.append(helper.make_node("DequantizeLinear", [const(f"{path}_qw", qw), const(f"{path}_sw", s_w.astype(np.float32)),
                                                           const(f"{path}_zw", np.zeros(w.shape[0], np.int8))],
                                      [f"{path}_w"], axis=0))
        s_b = float(s_x) * s_w.astype(np.float32).astype(np.float64)  # ONNX Runtime's bias scale: x scale · w scale
        qb = np.round(conv.bias.detach().double().numpy() / s_b).astype(np.int32)
        nodes.append(helper.make_node("DequantizeLinear", [const(f"{path}_qb", qb), const(f"{path}_sb", s_b.astype(np.float32)),
                                                           const(f"{path}_zb", np.zeros(w.shape[0], np.int32))],
                                      [f"{path}_b"], axis=0))
        out = n.output[0]
        n.input[:] = [x, f"{path}_w", f"{path}_b"]
        n.output[0] = out + "_float"
        nodes.append(n)
        s_o, z_o = _uint8_params(out_lo, out_hi)
        renamed[out] = qdq(out + "_float", s_o, z_o, f"{path}_out")
    if found != set(ranges):
        raise ValueError(f"g_a's ONNX graph has no conv for {sorted(set(ranges) - found)}")
    if any(o.name in renamed for o in g.output):
        raise ValueError("a quantised conv writes a graph output")
    # Drop what only fed the replaced float weights (initializers, and Identity nodes of deduplicated ones).
    outputs = {o.name for o in g.output}
    while True:
        used = {i for n in nodes for i in n.input} | outputs
        live = [n for n in nodes if any(o in used for o in n.output)]
        if len(live) == len(nodes):
            break
        nodes = live
    kept = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + added)
    g.name = "edgecodec_analysis_qdq"
    onnx.checker.check_model(graph_model)
    return graph_model.SerializeToString()


def export_analysis_int8(model: EdgeCodecModel, fp32_onnx: bytes, crops: list[torch.Tensor],
                         percentile: float = PERCENTILE) -> bytes:
    """The pack entry ``onnx/analysis.qdq.onnx`` for ``model`` (float, eval mode)."""
    return quantise_analysis(model, fp32_onnx, activation_ranges(model, crops, percentile))
