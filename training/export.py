"""Export a trained checkpoint as an EdgeCodec model pack (docs/model-pack.md).

    python3 -m training.export --checkpoint models/checkpoints/edgecodec-train.pt --out models/

Steps: calibrate activation ranges on training crops (never Kodak) -> convert h_s, the context
models and g_s to integer graphs (int8 weights, int32 bias, multiplier+shift requantisation) ->
build the quantised CDF tables -> export ONNX graphs (fp32 and QDQ int8 analysis, fp32 hyper analysis, fp32 and
QDQ int8 synthesis) -> write the pack (a zip with stored entries and fixed timestamps, so the same weights always
give the same bytes and so the same content hash) -> write integer test vectors for the C# engine.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import struct
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, intref
from .intref import Node
from .analysis_int8 import PERCENTILE as ANALYSIS_PERCENTILE, export_analysis_int8, int8_kmac_per_pixel
from .qat import calibration_crops
from .qdq import int8_per_channel
from .model import (MEAN_FRACTION_BITS, SCALE_LEVELS, SCALE_MAX, SCALE_MIN, SYNTH_INPUT, SYNTH_OUTPUT, SYNTH_RESIDUALS,
                    SynthStep, EdgeCodecModel, decoder_kmac_per_pixel, synth_activations, synth_signed,
                    encoder_kmac_per_pixel, scale_table)

REPO = Path(__file__).resolve().parent.parent
PACK_FORMAT = 2  # identity = SHA-256 of manifest.json (1: of the whole file), docs/model-pack.md "Identity"
CDF_PRECISION = 16
TAIL_MASS = 1e-9
TILE = 1024  # entropy tile: whole-image entropy coding up to 1024 px (-15..-22 % bytes vs 256 on Kodak); streams pick smaller
FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


# ----------------------------------------------------------------------------- numerics
def mult_shift(m: float) -> tuple[int, int]:
    """m ~= mult * 2^-shift with mult in [2^30, 2^31) and shift in [1, 62]."""
    if not (m > 0 and math.isfinite(m)):
        raise ValueError(f"bad multiplier {m}")
    e = math.floor(math.log2(m))
    shift = 30 - e
    if shift > 62:
        shift = 62
    if shift < 1:
        raise ValueError(f"multiplier {m} too large")
    mult = int(round(m * 2.0 ** shift))
    if mult >= 2 ** 31:
        mult //= 2
        shift -= 1
    return max(mult, 1), shift


def mult_shift_vec(ms) -> tuple[np.ndarray, np.ndarray]:
    pairs = [mult_shift(float(m)) for m in np.asarray(ms, dtype=np.float64).ravel()]
    return (np.array([p[0] for p in pairs], dtype=np.int64).reshape(np.shape(ms)),
            np.array([p[1] for p in pairs], dtype=np.int64).reshape(np.shape(ms)))


class Builder:
    """Collects integer nodes and weight tensors."""

    def __init__(self):
        self.weights: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, str] = {}

    def add(self, name: str, arr: np.ndarray, dtype: str) -> str:
        self.weights[name] = np.asarray(arr, dtype=np.int64)
        self.dtypes[name] = dtype
        lo, hi = {"i8": (-127, 127), "i32": (-2 ** 31, 2 ** 31 - 1), "u8": (0, 255)}[dtype]
        assert self.weights[name].min(initial=0) >= lo and self.weights[name].max(initial=0) <= hi, name
        return name

    def conv(self, name: str, conv: torch.nn.Conv2d, inputs: list[str], s_in: np.ndarray, zp_in: np.ndarray,
             out: str, out_type: str, s_out: float, zp: int, lo: int, hi: int, d2s: int = 0,
             rows: slice | None = None) -> Node:
        w = conv.weight.detach().double().numpy()
        b = conv.bias.detach().double().numpy()
        if rows is not None:
            w, b = w[rows], b[rows]
        w_eff = w * s_in.reshape(1, -1, 1, 1)
        s_w = np.abs(w_eff).reshape(w.shape[0], -1).max(axis=1) / 127.0
        # Floor at 2^-20 output steps so the int32 bias spans ±2^11 output steps even for an all-zero channel (a
        # freshly grown layer), which an adapter's FiLM shift must be able to move.
        s_w = np.maximum(s_w, s_out * 2.0 ** -20)
        q_w = np.clip(np.round(w_eff / s_w.reshape(-1, 1, 1, 1)), -127, 127)
        q_b = np.round(b / s_w) - (q_w * zp_in.reshape(1, -1, 1, 1)).sum(axis=(1, 2, 3))
        mult, shift = mult_shift_vec(s_w / s_out)
        self.add(f"{name}.weight", q_w, "i8")
        self.add(f"{name}.bias", q_b, "i32")
        self.add(f"{name}.mult", mult, "i32")
        self.add(f"{name}.shift", shift, "i32")
        return Node("conv", inputs, out, {"weight": f"{name}.weight", "bias": f"{name}.bias",
                                          "mult": f"{name}.mult", "shift": f"{name}.shift",
                                          "type": out_type, "zp": zp, "lo": lo, "hi": hi, "d2s": d2s})

    def quantize(self, name: str, inp: str, out: str, m: np.ndarray, zp: int = 128) -> Node:
        mult, shift = mult_shift_vec(m)
        self.add(f"{name}.mult", mult, "i32")
        self.add(f"{name}.shift", shift, "i32")
        return Node("quantize", [inp], out, {"mult": f"{name}.mult", "shift": f"{name}.shift", "zp": zp})


def add_node(inp_a: str, s_a: float, inp_b: str, s_b: float, out: str, s_out: float) -> Node:
    shift = 16
    return Node("add", [inp_a, inp_b], out, {"mult_a": int(round(s_a / s_out * 2 ** shift)),
                                             "mult_b": int(round(s_b / s_out * 2 ** shift)),
                                             "shift": shift, "zp": 0, "lo": 0, "hi": 255})


def synthesis_scales(cal: dict, plan: tuple[SynthStep, ...]) -> tuple[dict[str, float], dict[str, int]]:
    """Step size and zero point of every synthesis activation of ``plan``: ReLU outputs are u8 with zero point 0 over
    [0, range], signed ones u8 with zero point 128 over [-range, range]."""
    signed = synth_signed(plan)
    scale = {k: float(cal[k]) / (127.0 if k in signed else 255.0) for k in synth_activations(plan)}
    zp = {k: 128 if k in signed else 0 for k in synth_activations(plan)}
    return scale, zp


# ----------------------------------------------------------------------------- calibration
def robust_max(x: torch.Tensor, pct: float = 0.9999) -> float:
    """The ``pct`` quantile of |x|; a tensor of more than 2M values is subsampled with a generator of its own (seed 0),
    so a calibration is a function of the weights and the crops alone."""
    v = x.detach().abs().flatten().double()
    if v.numel() > 2_000_000:
        v = v[torch.randperm(v.numel(), generator=torch.Generator().manual_seed(0))[:2_000_000]]
    return max(float(torch.quantile(v, pct)), 1e-6)


def channel_max(x: torch.Tensor) -> np.ndarray:
    return np.maximum(x.detach().abs().amax(dim=(0, 2, 3)).double().numpy(), 1e-3)


@torch.no_grad()
def float_trace(model: EdgeCodecModel, x: torch.Tensor, q: int) -> dict:
    """Float forward with hard rounding; records every tensor the integer graphs quantise."""
    t = {}
    qi = torch.tensor([q])
    gain = torch.exp(model.log_gain[qi]).view(1, -1, 1, 1)
    igain = torch.exp(model.log_igain[qi]).view(1, -1, 1, 1)
    y = model.g_a(x) * gain
    z_hat = torch.round(model.h_a(y))
    t["z"] = z_hat
    hs = model.h_s
    t["h1"] = F.relu(hs[0](z_hat))
    t["h2"] = F.relu(hs[2](t["h1"]))
    hyper = F.relu(hs[4](t["h2"]))
    t["hyper"] = hyper
    gc = model.group_ch
    prev = []
    for k in range(model.groups):
        cm = model.context[k]
        feats = torch.cat([hyper] + prev, 1) if prev else hyper
        c1 = F.relu(cm.inp(feats))
        c2 = F.relu(cm.mid(c1))
        c3 = c2 + c1
        out = cm.out(c3)
        mu = out[:, :gc]
        yk = y[:, k * gc:(k + 1) * gc]
        yk_hat = torch.round(yk - mu) + mu
        t[f"ctx{k}.c1"], t[f"ctx{k}.c2"], t[f"ctx{k}.c3"] = c1, c2, c3
        t[f"y{k}"] = yk_hat
        prev.append(yk_hat)
    y_in = torch.cat(prev, 1) * igain
    t["gs_in"] = y_in
    acts = model.g_s.walk(y_in)
    t.update((k, acts[k]) for k in synth_activations(model.g_s.plan))
    t["x_hat"] = acts[SYNTH_OUTPUT]
    return t


# Synthesis activations (a1..a5) are clipped at a higher percentile than the entropy-path tensors: the session-5
# sweep on the step-34,050 weights measured float-minus-integer PSNR 0.019 dB at 0.9999 and 0.013 dB at 0.99999
# (docs/training.md). They do not influence the bitstream, only the picture.
GS_PERCENTILE = 0.99999
# The context models' activations (ctx*.c1..c3) decide the scale indices, so their clipping costs rate, not PSNR. Their
# ranges are shared by all quality levels and the top level needs the large values: on the step-49,060 weights, priced
# with the pack's tables on 4 validation crops, the integer path cost +3.6 / +2.3 / +16.3 % y-rate over the float one at
# quality 0 / 2 / 5 with 0.9999, and +4.0 / +2.4 / +2.2 % with 0.999999 (docs/training.md, "What the integer entropy
# path costs"). The hyper features keep 0.9999 (0.99999 there made quality 5 worse).
CTX_PERCENTILE = 0.999999
# A signed synthesis activation's range is at least 1/16 of its input's. Without the floor a freshly grown residual
# branch (all zeros) would be calibrated to a step of ~1e-8 and QAT's clip would block its gradients.
SIGNED_RANGE_FLOOR = 16.0


def pack_calibration(model: EdgeCodecModel, calib_crops: int = 16, gs_pct: float = GS_PERCENTILE) -> dict:
    """The calibration a pack is exported with, reproducible from the pack's weights alone: ``calib_crops`` crops of
    the training set (``qat.calibration_crops``, a fixed seed). The studio encoder's integer target
    (``refine.integer_target``) calls this and the export its body (it reads the same crops once for this and for the
    int8 analysis), so they compute the same ranges. ``model`` must run in float (no fake
    quant). (Packs up to ``c189c487d731`` subsampled with the global generator, replayed from an ``EdgeCodecModel``'s
    initial draws; since ``robust_max`` has its own generator, nothing outside the weights and crops matters.)"""
    return calibrate(model, calibration_crops(calib_crops), gs_pct)


def calibrate(model: EdgeCodecModel, crops: list[torch.Tensor], gs_pct: float = GS_PERCENTILE) -> dict:
    traces = [float_trace(model, c.unsqueeze(0), q) for c in crops for q in range(len(model.lambdas))]
    cal = {}
    for key in traces[0]:
        stacked = torch.cat([tr[key].flatten(2) for tr in traces], dim=2).unsqueeze(-1)
        if key in ("z", "gs_in") or key.startswith("y"):
            cal[key] = channel_max(stacked) * 1.05
        elif key in synth_activations(model.g_s.plan):
            cal[key] = robust_max(stacked, gs_pct)
        elif key.startswith("ctx"):
            cal[key] = robust_max(stacked, CTX_PERCENTILE)
        else:
            cal[key] = robust_max(stacked)
    for st in model.g_s.plan:
        if st.signed:  # a residual branch: a zero-initialised one (fresh growth) still gets a usable step size
            cal[st.out] = max(cal[st.out], cal[st.inputs[0]] / SIGNED_RANGE_FLOOR)
    return cal


# ----------------------------------------------------------------------------- conversion
def build_graphs(model: EdgeCodecModel, cal: dict) -> tuple[Builder, dict, dict]:
    b = Builder()
    graphs: dict[str, list[Node]] = {}
    scales: dict[str, float] = {}
    zc, m, gc = model.zc, model.m, model.group_ch
    u8 = lambda key: cal[key] / 255.0  # noqa: E731  (ReLU outputs: zp 0)

    # hyper decoder: z (integers) -> hyper features
    s_z = cal["z"] / 127.0
    hs = model.h_s
    s_h1, s_h2, s_hy = u8("h1"), u8("h2"), u8("hyper")
    graphs["hyper"] = [
        b.quantize("hyper.in", "z", "zq", 1.0 / s_z),
        b.conv("hyper.up1", hs[0].conv, ["zq"], s_z, np.full(zc, 128), "h1", "u8", s_h1, 0, 0, 255, 2),
        b.conv("hyper.up2", hs[2].conv, ["h1"], np.full(96, s_h1), np.zeros(96), "h2", "u8", s_h2, 0, 0, 255, 2),
        b.conv("hyper.out", hs[4], ["h2"], np.full(96, s_h2), np.zeros(96), "hyper", "u8", s_hy, 0, 0, 255),
    ]
    scales.update(zq=s_z.tolist(), h1=s_h1, h2=s_h2, hyper=s_hy)

    # context models: (hyper, y_0..y_{k-1}) -> mean (1/16 fixed point), scale index
    for k in range(model.groups):
        cm = model.context[k]
        nodes = []
        s_in = [np.full(cm.inp.in_channels - k * gc, s_hy)]
        zp_in = [np.zeros(cm.inp.in_channels - k * gc)]
        ins = ["hyper"]
        for j in range(k):
            s_y = cal[f"y{j}"] / 127.0
            nodes.append(b.quantize(f"ctx{k}.in{j}", f"y{j}", f"ctx{k}.yq{j}", (2.0 ** -MEAN_FRACTION_BITS) / s_y))
            s_in.append(s_y)
            zp_in.append(np.full(gc, 128))
            ins.append(f"ctx{k}.yq{j}")
        s1, s2, s3 = u8(f"ctx{k}.c1"), u8(f"ctx{k}.c2"), u8(f"ctx{k}.c3")
        hid = cm.inp.out_channels
        nodes += [
            b.conv(f"ctx{k}.inp", cm.inp, ins, np.concatenate(s_in), np.concatenate(zp_in), f"ctx{k}.c1", "u8", s1, 0, 0, 255),
            b.conv(f"ctx{k}.mid", cm.mid, [f"ctx{k}.c1"], np.full(hid, s1), np.zeros(hid), f"ctx{k}.c2", "u8", s2, 0, 0, 255),
            add_node(f"ctx{k}.c2", s2, f"ctx{k}.c1", s1, f"ctx{k}.c3", s3),
            b.conv(f"ctx{k}.mean", cm.out, [f"ctx{k}.c3"], np.full(hid, s3), np.zeros(hid), f"mean{k}", "i32",
                   2.0 ** -MEAN_FRACTION_BITS, 0, -(2 ** 20), 2 ** 20, rows=slice(0, gc)),
            b.conv(f"ctx{k}.index", cm.out, [f"ctx{k}.c3"], np.full(hid, s3), np.zeros(hid), f"index{k}", "i32",
                   1.0, 0, 0, SCALE_LEVELS - 1, rows=slice(gc, 2 * gc)),
        ]
        graphs[f"context{k}"] = nodes

    # synthesis: y (1/16 fixed point, all groups) -> RGB bytes; input gain per quality level
    s_gs = cal["gs_in"] / 127.0
    igain = torch.exp(model.log_igain).detach().double().numpy()  # (Q, M)
    plan = model.g_s.plan
    act_scale, act_zp = synthesis_scales(cal, plan)
    nodes = [b.quantize("synth.in", "y", "yq", igain * (2.0 ** -MEAN_FRACTION_BITS) / s_gs.reshape(1, -1))]
    for st in plan:
        ins = ["yq" if i == SYNTH_INPUT else i for i in st.inputs]
        if st.conv is None:
            assert st.relu or not synth_signed(plan).intersection(st.inputs), st  # output is u8, zp 0
            nodes.append(add_node(ins[0], act_scale[st.inputs[0]], ins[1], act_scale[st.inputs[1]], st.out,
                                  act_scale[st.out]))
            continue
        layer = model.g_s.get_submodule(st.conv)
        src = st.inputs[0]
        s_in = s_gs if src == SYNTH_INPUT else np.full(layer.in_channels, act_scale[src])
        zp_in = np.full(layer.in_channels, 128 if src == SYNTH_INPUT else act_zp[src])
        d2s = st.d2s if st.d2s > 1 else 0
        if st.out == SYNTH_OUTPUT:
            out_scale, zp = 1.0 / 255.0, 0
        else:
            out_scale, zp = act_scale[st.out], act_zp[st.out]
        nodes.append(b.conv(f"synth.{st.conv.split('.')[0]}", layer, ins, s_in, zp_in, st.out, "u8", out_scale, zp,
                            0, 255, d2s))
    graphs["synthesis"] = nodes
    scales["yq"] = s_gs.tolist()
    scales.update(act_scale)
    return b, graphs, scales


# ----------------------------------------------------------------------------- integer codec (reference)
def int_hyper_and_context(b: Builder, graphs: dict, z: np.ndarray, y_float: np.ndarray | None,
                          groups: int, gc: int) -> dict:
    """Runs the entropy-critical path. With y_float (encoder) symbols are derived; returns all ints."""
    env = intref.run_graph(graphs["hyper"], {"z": z.astype(np.int64)}, b.weights)
    out = {"hyper": env["hyper"], "means": [], "indices": [], "symbols": [], "y": []}
    ys = {}
    for k in range(groups):
        e = intref.run_graph(graphs[f"context{k}"], {"hyper": env["hyper"], **ys}, b.weights)
        mean, index = e[f"mean{k}"], e[f"index{k}"]
        one = 1 << MEAN_FRACTION_BITS
        if y_float is not None:
            yk = y_float[k * gc:(k + 1) * gc].astype(np.float64)
            sym = np.floor(yk - mean / one + 0.5).astype(np.int64)
        else:
            sym = np.zeros_like(mean)
        ys[f"y{k}"] = sym * one + mean
        out["means"].append(mean)
        out["indices"].append(index)
        out["symbols"].append(sym)
        out["y"].append(ys[f"y{k}"])
    return out


# ----------------------------------------------------------------------------- entropy tables
def quantize_pmf(pmf: np.ndarray) -> list[int]:
    """pmf (n,) -> quantised CDF of n+2 entries (n symbols + escape), every frequency >= 1, total 2^16.

    Deterministic: frequencies are floor(p * budget) + 1, then the remainder goes to the most
    probable symbols in index order. Done once at export; the pack stores the result.
    """
    total = 1 << CDF_PRECISION
    n = pmf.size
    tail = max(0.0, 1.0 - float(pmf.sum()))
    p = np.append(pmf.astype(np.float64), tail)
    budget = total - (n + 1)
    freq = np.floor(p / p.sum() * budget).astype(np.int64) + 1
    rem = total - int(freq.sum())
    order = np.argsort(-p[:n], kind="stable")
    i = 0
    while rem > 0:
        freq[order[i % n]] += 1
        rem -= 1
        i += 1
    assert freq.min() >= 1 and freq.sum() == total
    return [0] + np.cumsum(freq).tolist()


def gaussian_tables() -> tuple[list[list[int]], list[int]]:
    cdfs, offsets = [], []
    for s in scale_table().double().numpy():
        r = int(math.ceil(s * math.sqrt(2) * _erfcinv(TAIL_MASS)))
        v = np.arange(-r, r + 1, dtype=np.float64)
        upper = 0.5 * np.array([math.erfc(-(x + 0.5) / (s * math.sqrt(2))) for x in v])
        lower = 0.5 * np.array([math.erfc(-(x - 0.5) / (s * math.sqrt(2))) for x in v])
        cdfs.append(quantize_pmf(upper - lower))
        offsets.append(-r)
    return cdfs, offsets


def _erfcinv(y: float) -> float:
    lo, hi = 0.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if math.erfc(mid) > y:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def factorized_tables(model: EdgeCodecModel) -> tuple[list[list[int]], list[int]]:
    eb = model.entropy_bottleneck
    pmf = eb.pmf_table(-1024, 1024).double().numpy()  # (C, 2049)
    cdfs, offsets = [], []
    for c in range(pmf.shape[0]):
        cum = np.cumsum(pmf[c])
        lo = int(np.searchsorted(cum, TAIL_MASS))
        hi = int(np.searchsorted(cum, 1 - TAIL_MASS))
        lo, hi = max(0, min(lo, 1024)), min(pmf.shape[1] - 1, max(hi, 1024))
        cdfs.append(quantize_pmf(pmf[c, lo:hi + 1]))
        offsets.append(lo - 1024)
    return cdfs, offsets


# ----------------------------------------------------------------------------- ONNX
def export_encoder(model: EdgeCodecModel) -> tuple[bytes, bytes]:
    x = torch.rand(1, 3, 256, 256)
    outs = []
    for net, example, names in ((model.g_a, x, ("image", "y")), (model.h_a, model.g_a(x), ("y", "z"))):
        buf = io.BytesIO()
        torch.onnx.export(net, example, buf, input_names=[names[0]], output_names=[names[1]], opset_version=17,
                          dynamic_axes={names[0]: {2: "h", 3: "w"}, names[1]: {2: "h16", 3: "w16"}})
        outs.append(buf.getvalue())
    return outs[0], outs[1]


def export_synthesis_onnx(model: EdgeCodecModel, scales: dict, qdq: bool) -> bytes:
    """g_s as ONNX: uint8 'yq' (the integer graph's quantised input) -> float 'rgb' in 0..255."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    gs = model.g_s
    nodes, inits = [], []
    counter = [0]

    def const(name, arr, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    def fresh(p):
        counter[0] += 1
        return f"{p}_{counter[0]}"

    def qdq_act(x, s, zero=0):
        if not qdq:
            return x
        sc, zp = const(fresh("s"), np.float32(s)), const(fresh("zp"), np.uint8(zero), np.uint8)
        q, dq = fresh("q"), fresh("dq")
        nodes.append(helper.make_node("QuantizeLinear", [x, sc, zp], [q]))
        nodes.append(helper.make_node("DequantizeLinear", [q, sc, zp], [dq]))
        return dq

    def conv(x, c, out_scale=1.0, relu=True, d2s=True, s_out=None, zero=0):
        w = c.weight.detach().double().numpy() * out_scale
        bias = c.bias.detach().double().numpy() * out_scale
        if qdq:
            qw, s_w = int8_per_channel(w)
            wn = fresh("w")
            nodes.append(helper.make_node("DequantizeLinear", [const(fresh("qw"), qw, np.int8),
                                                               const(fresh("sw"), s_w.astype(np.float32)),
                                                               const(fresh("zw"), np.zeros(w.shape[0], np.int8), np.int8)],
                                          [wn], axis=0))
        else:
            wn = const(fresh("w"), w)
        y = fresh("conv")
        k = c.kernel_size[0]
        nodes.append(helper.make_node("Conv", [x, wn, const(fresh("b"), bias)], [y], pads=[k // 2] * 4))
        if relu:
            r = fresh("relu")
            nodes.append(helper.make_node("Relu", [y], [r]))
            y = r
        if s_out is not None:
            y = qdq_act(y, s_out, zero)
        if d2s:
            d = fresh("d2s")
            nodes.append(helper.make_node("DepthToSpace", [y], [d], blocksize=2, mode="CRD"))
            y = qdq_act(d, s_out, zero) if s_out is not None else d
        return y

    s_in = np.asarray(scales["yq"], dtype=np.float32)
    m = s_in.size
    x = fresh("yin")
    nodes.append(helper.make_node("DequantizeLinear", ["yq", const("yq_scale", s_in),
                                                       const("yq_zp", np.full(m, 128, np.uint8), np.uint8)], [x], axis=1))
    t = {SYNTH_INPUT: x}
    signed = synth_signed(gs.plan)
    for st in gs.plan:
        zero = 128 if st.out in signed else 0
        if st.conv is None:
            v = fresh("add")
            nodes.append(helper.make_node("Add", [t[i] for i in st.inputs], [v]))
            if st.relu:
                r = fresh("relu")
                nodes.append(helper.make_node("Relu", [v], [r]))
                v = r
            t[st.out] = qdq_act(v, scales[st.out], zero)
        elif st.out == SYNTH_OUTPUT:
            t[st.out] = conv(t[st.inputs[0]], gs.get_submodule(st.conv), out_scale=255.0, relu=st.relu, d2s=st.d2s > 1)
        else:
            t[st.out] = conv(t[st.inputs[0]], gs.get_submodule(st.conv), relu=st.relu, d2s=st.d2s > 1,
                             s_out=scales[st.out], zero=zero)
    y = t[SYNTH_OUTPUT]
    nodes.append(helper.make_node("Identity", [y], ["rgb"]))
    graph = helper.make_graph(
        nodes, "edgecodec_synthesis" + ("_qdq" if qdq else "_fp32"),
        [helper.make_tensor_value_info("yq", TensorProto.UINT8, [1, m, "h", "w"])],
        [helper.make_tensor_value_info("rgb", TensorProto.FLOAT, [1, 3, "H", "W"])], inits)
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgecodec")
    model_proto.ir_version = 8
    onnx.checker.check_model(model_proto)
    return model_proto.SerializeToString()


def compact_float_weights(model_bytes: bytes) -> bytes:
    """Stores large fp32 initialisers as fp16 followed by a Cast to fp32 (folded by ORT at load).

    Halves the pack; the fp16 rounding of encoder/fp32-synthesis weights is measured in the card.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load_from_string(model_bytes)
    g = m.graph
    keep, casts = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.size >= 1024:
            keep.append(numpy_helper.from_array(arr.astype(np.float16), init.name + "_f16"))
            casts.append(helper.make_node("Cast", [init.name + "_f16"], [init.name], to=TensorProto.FLOAT))
        else:
            keep.append(init)
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    return m.SerializeToString()


def table_bits(symbols: np.ndarray, indices: np.ndarray, cdfs: list[list[int]], offsets: list[int]) -> float:
    """Bits of coding ``symbols`` with the Gaussian tables ``indices`` select, as the 16-bit tables price them (rANS
    codes within a fraction of a percent of this), escapes with their bypass length and chunks (docs/entropy.md)."""
    bits = 0.0
    for t in np.unique(indices):
        cdf = np.asarray(cdfs[int(t)], dtype=np.int64)
        n = len(cdf) - 2
        d = symbols[indices == t].astype(np.int64) - offsets[int(t)]
        inside = (d >= 0) & (d < n)
        bits += float(-np.log2((cdf[d[inside] + 1] - cdf[d[inside]]) / 65536.0).sum())
        for v in d[~inside]:
            u = 2 * int(v) if v >= 0 else -2 * int(v) - 1  # zigzag
            chunks = max(1, -(-u.bit_length() // 4))
            bits += -math.log2((cdf[n + 1] - cdf[n]) / 65536.0) + 3 + 4 * chunks
    return bits


@torch.no_grad()
def integer_vs_float(model: EdgeCodecModel, b: Builder, graphs: dict, images: list[torch.Tensor],
                     tables: tuple[list[list[int]], list[int]]) -> list[dict]:
    """Per quality, float model vs integer graphs on the same crops: PSNR, and the rate of y. The float rate is the
    model's Gaussian likelihood of the rounded residuals; the integer one prices the integer path's symbols with the
    pack's 16-bit tables at the integer context models' scale indices (what the integer conversion costs in rate)."""
    rows = []
    for q in range(len(model.lambdas)):
        se_f = se_i = 0.0
        bits_f = bits_i = 0.0
        n = 0
        for img in images:
            x = img.unsqueeze(0)
            tr = float_trace(model, x, q)
            ref = (x[0] * 255).round().double().numpy()
            xf = (tr["x_hat"][0].clamp(0, 1) * 255).round().double().numpy()
            gain = torch.exp(model.log_gain[q]).view(1, -1, 1, 1)
            y = (model.g_a(x) * gain)[0].double().numpy()
            z = tr["z"][0].numpy().astype(np.int64)
            ent = int_hyper_and_context(b, graphs, z, y, model.groups, model.group_ch)
            env = intref.run_graph(graphs["synthesis"], {"y": np.concatenate(ent["y"], 0)}, b.weights, quality=q)
            xi = env["rgb"].data.astype(np.float64)
            se_f += float(((xf - ref) ** 2).sum())
            se_i += float(((xi - ref) ** 2).sum())
            n += ref.size
            bits_f += float(model(x, torch.tensor([q]), hard=True)["y_bits"])
            bits_i += sum(table_bits(s, i, *tables) for s, i in zip(ent["symbols"], ent["indices"]))
        pixels = n / 3
        rows.append({"quality": q, "psnr_float": 10 * math.log10(255 ** 2 * n / se_f),
                     "psnr_int": 10 * math.log10(255 ** 2 * n / se_i),
                     "y_bpp_float": bits_f / pixels, "y_bpp_int": bits_i / pixels})
    return rows


# ----------------------------------------------------------------------------- pack writing
def pack_weights(b: Builder) -> tuple[bytes, list[dict]]:
    """Concatenates tensors little-endian, each 16-byte aligned; returns blob and directory."""
    blob = bytearray()
    directory = []
    fmt = {"i8": "<i1", "i32": "<i4", "u8": "u1"}
    for name, arr in b.weights.items():
        while len(blob) % 16:
            blob.append(0)
        raw = arr.astype(fmt[b.dtypes[name]]).tobytes()
        directory.append({"name": name, "dtype": b.dtypes[name], "shape": list(arr.shape),
                          "offset": len(blob), "length": len(raw)})
        blob.extend(raw)
    return bytes(blob), directory


def node_json(n: Node) -> dict:
    return {"op": n.op, "inputs": n.inputs, "output": n.output, **n.attrs}


def pack_identity(raw: bytes) -> str:
    """A pack's identity (docs/model-pack.md, "Identity"): the SHA-256 of its manifest.json from format version 2 on
    (a decoder-only copy keeps it), of the whole file in version 1."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        manifest = z.read("manifest.json")
    if json.loads(manifest).get("format_version", 1) >= 2:
        return hashlib.sha256(manifest).hexdigest()
    return hashlib.sha256(raw).hexdigest()


def write_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            z.writestr(info, entries[name])
    return buf.getvalue()


def cdf_json(cdfs, offsets) -> dict:
    return {"precision": CDF_PRECISION, "offsets": offsets, "cdfs": cdfs}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "models" / "checkpoints" / "edgecodec-train.pt")
    ap.add_argument("--out", type=Path, default=REPO / "models")
    ap.add_argument("--name", default="edgecodec-hp")
    ap.add_argument("--calib-crops", type=int, default=16)
    ap.add_argument("--gs-percentile", type=float, default=GS_PERCENTILE,
                    help="clipping percentile of the synthesis activations (0.9999 reproduces packs before step 35k)")
    ap.add_argument("--analysis-percentile", type=float, default=ANALYSIS_PERCENTILE,
                    help="clipping quantile of the int8 analysis' activation ranges (onnx/analysis.qdq.onnx)")
    ap.add_argument("--vectors", type=Path, default=REPO / "tests" / "vectors" / "model")
    ap.add_argument("--random-init", action="store_true", help="export an untrained model (smoke tests)")
    ap.add_argument("--residual-crops", type=int, default=24,
                    help="training photos (512^2 centre crops) the residual layer's tables are fitted on (half as many others "
                         "measure its quality ladder); 0 = no layer")
    ap.add_argument("--card-extra", type=Path, default=None, help="markdown appended to the model card")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    torch.manual_seed(0)

    model = EdgeCodecModel()
    step, qat_parts, average = 0, [], None
    if not args.random_init:
        from .model import model_for
        from .train import apply_weights
        ck = torch.load(args.checkpoint, map_location="cpu")
        model = model_for(ck)
        step, qat_parts = apply_weights(model, ck, args.checkpoint), ck.get("qat")
        average = ck.get("average")
    model.eval()

    crops = calibration_crops(args.calib_crops)  # what pack_calibration reads; the int8 analysis' ranges too
    cal = calibrate(model, crops, args.gs_percentile)
    b, graphs, scales = build_graphs(model, cal)
    weights_blob, directory = pack_weights(b)

    g_cdfs, g_offsets = gaussian_tables()
    f_cdfs, f_offsets = factorized_tables(model)
    enc_ga, enc_ha = export_encoder(model)
    enc_ga_int8 = export_analysis_int8(model, enc_ga, crops, args.analysis_percentile)
    gains = torch.exp(model.log_gain).detach().double().numpy()
    kmac = decoder_kmac_per_pixel(model)

    manifest = {
        "format": "edgecodec-model-pack",
        "format_version": PACK_FORMAT,
        "name": args.name,
        "architecture": "mean-scale-hyperprior-cc4-v1",
        "training_step": step,
        "layout": {
            "latent_channels": model.m, "hyper_channels": model.zc, "groups": model.groups,
            "group_channels": model.group_ch, "latent_stride": 16, "hyper_stride": 64,
            "tile_size": TILE, "synthesis_halo": 4, "mean_fraction_bits": MEAN_FRACTION_BITS,
        },
        "quality_levels": [{"level": i, "lambda": lam, "gain": gains[i].tolist()} for i, lam in enumerate(model.lambdas)],
        "scale_table": {"levels": SCALE_LEVELS, "min": SCALE_MIN, "max": SCALE_MAX},
        "graphs": {k: [node_json(n) for n in v] for k, v in graphs.items()},
        "tensors": directory,
        "activation_scales": scales,
        "decoder_kmac_per_pixel": kmac,
        "files": {},
    }
    entries = {
        "weights.bin": weights_blob,
        "cdf/gaussian.json": json.dumps(cdf_json(g_cdfs, g_offsets), separators=(",", ":")).encode(),
        "cdf/factorized.json": json.dumps(cdf_json(f_cdfs, f_offsets), separators=(",", ":")).encode(),
        "onnx/analysis.onnx": compact_float_weights(enc_ga),
        # Its float part (first conv, GDNs, 1/16 layers: 2.6 of its 3.4 MB as fp32) stored as the fp32 graph's is.
        "onnx/analysis.qdq.onnx": compact_float_weights(enc_ga_int8),
        "onnx/hyper_analysis.onnx": compact_float_weights(enc_ha),
        "onnx/synthesis.fp32.onnx": compact_float_weights(export_synthesis_onnx(model, scales, qdq=False)),
        "onnx/synthesis.qdq.onnx": export_synthesis_onnx(model, scales, qdq=True),
    }
    if args.residual_crops > 0:
        from . import residual
        tables, weights, ladder, points = residual.fit(model, *residual.fit_crops(args.residual_crops, max(1, args.residual_crops // 2)),
                                         log=None)
        entries["residual/tables.bin"] = tables
        entries["residual/classes.bin"] = weights
        manifest["residual"] = residual.manifest_section(ladder, rates=residual.ladder_rates(ladder, points))
        print("residual layer ladder: " + " ".join(f"{lv}" + (f"+r{st}" if st >= 0 else "") for lv, st in ladder))
    _, val_files = data.list_images(data.default_dirs())
    val = [data.load_rgb(f)[:, :256, :256].float() / 255.0 for f in val_files[:2]]
    int_rows = integer_vs_float(model, b, graphs, val, (g_cdfs, g_offsets))
    for r in int_rows:
        print(f"quality {r['quality']}: float {r['psnr_float']:.2f} dB {r['y_bpp_float']:.4f} bpp, "
              f"integer {r['psnr_int']:.2f} dB {r['y_bpp_int']:.4f} bpp")
    manifest["integer_vs_float"] = int_rows
    card = model_card(args, model, step, kmac, int_rows, qat_parts, average)
    entries["MODEL_CARD.md"] = card.encode()
    manifest["files"] = {k: hashlib.sha256(v).hexdigest() for k, v in sorted(entries.items())}
    entries["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    pack = write_zip(entries)
    digest = pack_identity(pack)
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob(f"{args.name}-*.ecpack"):
        old.unlink()
    path = args.out / f"{args.name}-{digest[:12]}.ecpack"
    path.write_bytes(pack)
    (args.out / f"{args.name}.MODEL_CARD.md").write_text(card)
    print(f"wrote {path} ({len(pack) / 1e6:.2f} MB) identity (sha256 of manifest.json) {digest}")
    print(f"decoder kMAC/px {kmac}")

    if args.vectors:
        write_vectors(args.vectors, model, b, graphs, digest)


def model_card(args, model, step, kmac, int_rows, qat_parts: list[str] | None, average: dict | None = None) -> str:
    """The pack's MODEL_CARD.md. ``qat_parts``: what the checkpoint was last trained quantisation-aware ("synthesis",
    "entropy"), None for a checkpoint from before that was recorded."""
    parts = {"synthesis": "g_s", "entropy": "h_s and the context models"}
    if qat_parts is None:
        qat = "not recorded in the checkpoint"
    elif not qat_parts:
        qat = "none"
    else:
        qat = ", ".join(parts[p] for p in qat_parts) + " (" + ", ".join(f"--qat-{p}" for p in qat_parts) + ")"
    lines = [
        f"# Model card: {args.name}",
        "",
        f"- Architecture: mean-scale hyperprior, {model.groups} channel-conditional groups of {model.group_ch} latents "
        f"({model.m} latent channels at 1/16, {model.zc} hyper channels at 1/64), ReLU + depth-to-space synthesis "
        f"({model.g_s.variant}: the 1/8-resolution residual is "
        f"{SYNTH_RESIDUALS[model.g_s.variant]}).",
        f"- Training step: {step}" + (f" (the weights' moving average, decay {average['decay']}, over the steps since "
                                      f"{average['since']})" if average else "") + "; data: training/DATA.md (never Kodak).",
        f"- Quality levels: {len(model.lambdas)} (lambda = {', '.join(str(x) for x in model.lambdas)}, MSE on [0,1] x 255^2).",
        f"- Decoder cost: g_s {kmac['g_s']:.2f} + h_s {kmac['h_s']:.2f} + context {kmac['context']:.2f} = "
        f"**{kmac['total']:.2f} kMAC/pixel**.",
        "- Integer path: h_s, context models and g_s as int8 weights / int32 bias / multiplier+shift requantisation, "
        f"calibrated on training crops; trained quantisation-aware: {qat}.",
        f"- Encoder cost (g_a + h_a, fp32 ONNX on the sending device): {encoder_kmac_per_pixel(model):.1f} kMAC/pixel; "
        f"the int8 analysis (`onnx/analysis.qdq.onnx`, `EncoderOptions.Analysis = Int8`) runs {int8_kmac_per_pixel(model):.1f} "
        f"of them in int8.",
    ]
    lines += ["", "## Integer graphs vs float model (2 validation crops, 256x256)", "",
              "| quality | PSNR float | PSNR integer | y bpp float | y bpp integer (16-bit tables) |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['quality']} | {r['psnr_float']:.2f} | {r['psnr_int']:.2f} | {r['y_bpp_float']:.4f} | "
              f"{r['y_bpp_int']:.4f} ({100 * (r['y_bpp_int'] / r['y_bpp_float'] - 1):+.2f} %) |" for r in int_rows]
    if args.card_extra and args.card_extra.exists():
        lines += ["", args.card_extra.read_text()]
    return "\n".join(lines) + "\n"


def write_vectors(folder: Path, model, b: Builder, graphs: dict, digest: str) -> None:
    """Integer test vectors: z -> means/indices/symbols, y -> rgb, for a 256x128 crop of a training image."""
    folder.mkdir(parents=True, exist_ok=True)
    train_files, _ = data.list_images(data.default_dirs())
    img = data.load_rgb(train_files[0]).float() / 255.0
    x = img[:, :128, :256].unsqueeze(0)
    q = 2
    with torch.no_grad():
        gain = torch.exp(model.log_gain[q]).view(1, -1, 1, 1)
        y = (model.g_a(x) * gain)[0].double().numpy()
        z = torch.round(model.h_a(torch.from_numpy(y).float().unsqueeze(0)))[0].numpy().astype(np.int64)
    ent = int_hyper_and_context(b, graphs, z, y, model.groups, model.group_ch)
    y_fx = np.concatenate(ent["y"], axis=0)
    env = intref.run_graph(graphs["synthesis"], {"y": y_fx}, b.weights, quality=q)
    arrays = {"z": z, "y": y_fx, "rgb": env["rgb"].data}
    for k in range(model.groups):
        arrays[f"mean{k}"] = ent["means"][k]
        arrays[f"index{k}"] = ent["indices"][k]
        arrays[f"symbols{k}"] = ent["symbols"][k]
    blob = bytearray()
    meta = {"pack_sha256": digest, "quality": q, "arrays": {}}
    for name, arr in arrays.items():
        meta["arrays"][name] = {"shape": list(arr.shape), "offset": len(blob)}
        blob.extend(arr.astype("<i4").tobytes())
    (folder / "vectors.bin").write_bytes(bytes(blob))
    (folder / "vectors.json").write_text(json.dumps(meta, indent=1))
    print(f"wrote test vectors to {folder}")


if __name__ == "__main__":
    main()
