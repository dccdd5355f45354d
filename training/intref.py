"""Reference integer inference for EdgeCodec model packs (docs/model-pack.md, "Integer graphs").

This is the executable form of the spec: the C# engine (sdk/EdgeCodec/Inference) must produce
exactly the same integers. Everything is int64 numpy; no float appears after export.

Tensors are (C, H, W) arrays. A u8 tensor carries its zero point (0 or 128), which is also the
value used to pad it at image/tile borders.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def rshift_round(x: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Arithmetic right shift with round-half-up: (x + 2^(shift-1)) >> shift, shift >= 1."""
    shift = np.asarray(shift, dtype=np.int64)
    return (x + (np.int64(1) << (shift - 1))) >> shift


def requant(acc: np.ndarray, mult: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """acc (C,H,W) int64 scaled per channel by mult[c] * 2^-shift[c], rounded half up."""
    m = np.asarray(mult, dtype=np.int64).reshape(-1, 1, 1)
    s = np.asarray(shift, dtype=np.int64).reshape(-1, 1, 1)
    return rshift_round(acc.astype(np.int64) * m, s)


@dataclass
class U8:
    data: np.ndarray  # int64 values in [0, 255]
    zp: int


@dataclass
class Node:
    op: str                       # quantize | conv | add
    inputs: list[str]
    output: str
    attrs: dict = field(default_factory=dict)


def conv_u8(inputs: list[U8], weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Stride-1 'same' convolution over the channel concatenation of u8 inputs; pads with zero points."""
    k = weight.shape[2]
    p = k // 2
    parts = []
    for t in inputs:
        parts.append(np.pad(t.data, ((0, 0), (p, p), (p, p)), constant_values=t.zp))
    x = np.concatenate(parts, axis=0).astype(np.int64)
    c, hp, wp = x.shape
    h, w = hp - 2 * p, wp - 2 * p
    # im2col: (C*k*k, H*W)
    cols = np.empty((c, k, k, h, w), dtype=np.int64)
    for dy in range(k):
        for dx in range(k):
            cols[:, dy, dx] = x[:, dy:dy + h, dx:dx + w]
    acc = weight.reshape(weight.shape[0], -1).astype(np.int64) @ cols.reshape(c * k * k, h * w)
    return acc.reshape(-1, h, w) + bias.astype(np.int64).reshape(-1, 1, 1)


def depth_to_space(x: np.ndarray, r: int) -> np.ndarray:
    """ONNX DepthToSpace mode CRD (= torch.nn.PixelShuffle)."""
    c, h, w = x.shape
    oc = c // (r * r)
    return x.reshape(oc, r, r, h, w).transpose(0, 3, 1, 4, 2).reshape(oc, h * r, w * r)


def run_graph(nodes: list[Node], tensors: dict[str, np.ndarray], weights: dict[str, np.ndarray],
              quality: int = 0, zps: dict[str, int] | None = None) -> dict:
    """Runs nodes in order. tensors: name -> int64 array (i32 tensors) or U8."""
    env: dict = dict(tensors)
    for n in nodes:
        a = n.attrs
        if n.op == "quantize":
            x = env[n.inputs[0]]
            mult = weights[a["mult"]]
            if mult.ndim == 2:
                mult = mult[quality]
            shift = weights[a["shift"]]
            if shift.ndim == 2:
                shift = shift[quality]
            q = np.clip(a["zp"] + requant(x, mult, shift), 0, 255)
            env[n.output] = U8(q, a["zp"])
        elif n.op == "conv":
            ins = [env[i] for i in n.inputs]
            acc = conv_u8(ins, weights[a["weight"]], weights[a["bias"]])
            y = a["zp"] + requant(acc, weights[a["mult"]], weights[a["shift"]])
            y = np.clip(y, a["lo"], a["hi"])
            if a.get("d2s", 0):
                y = depth_to_space(y, a["d2s"])
            env[n.output] = U8(y, a["zp"]) if a["type"] == "u8" else y
        elif n.op == "add":
            x0, x1 = env[n.inputs[0]], env[n.inputs[1]]
            acc = (x0.data - x0.zp) * np.int64(a["mult_a"]) + (x1.data - x1.zp) * np.int64(a["mult_b"])
            y = np.clip(a["zp"] + rshift_round(acc, a["shift"]), a["lo"], a["hi"])
            env[n.output] = U8(y, a["zp"])
        else:
            raise ValueError(f"unknown op {n.op}")
    return env
