"""The residual layer's transform and its pack tables (docs/format.md, "The residual layer").

The residual layer codes what the synthesis misses, ``x - x_hat`` in pixel units (0..255), as 16x16 blocks of three
planes: an orthonormal luma/chroma rotation of RGB, then the orthonormal 2-D DCT-II of each plane. Every coefficient
is quantised with one step per tile, ``q = round(c / step)``, and coded with the existing rANS and the pack's Gaussian
CDF tables: one scale index per (quality level, step, plane, coefficient index), fitted here on training photos and
stored in the pack as ``residual/tables.bin``. The decoder's inverse is integer (``sdk/EdgeCodec/Codec/Residual``);
this module is the encoder-side float transform and the table fit used by ``training.export``.

    python3 -m training.residual --checkpoint models/checkpoints/edgecodec-hp-<hash>.pt   # print the fitted tables' rates
"""
from __future__ import annotations

import argparse
import math
import random

import torch

from . import data
from .model import gaussian_likelihood, scale_table

BLOCK = 16
#: The quantisation steps a stream may choose, in quarter pixel values: 20 .. 160 pixel values, 2^(1/4) apart (the
#: coefficients are orthonormal, in pixel values 0..255). The step index (one byte) leads each residual payload.
STEPS_Q2 = [80, 95, 113, 135, 160, 190, 226, 269, 320, 381, 453, 538, 640]
#: The encoder's dead zone: ``q = sign(c) * floor(|c| / step + 0.5 - DEAD_ZONE)``. 0.25 against plain rounding: the
#: same PSNR for ~20 % fewer bits of the layer (session 31, 8 training crops, levels 3 and 5; 0.2..0.3 are equal).
DEAD_ZONE = 0.25
#: A table entry for a coefficient that is not coded (always zero): one that is nonzero in fewer than RARE of the
#: fitting blocks. Its rare values would cost ~15 bits each, and skipping it spares the decoder most of its symbols.
NOT_CODED = 255
RARE = 1 / 4096
#: Fixed-point bits of the inverse transform's cosine and colour constants (docs/format.md).
CONSTANT_BITS = 13
#: Rows: luma, two chroma planes (orthonormal after normalisation).
COLOUR = ((1, 1, 1), (1, 0, -1), (1, -2, 1))


def colour_matrix() -> torch.Tensor:
    m = torch.tensor(COLOUR, dtype=torch.float64)
    return m / m.norm(dim=1, keepdim=True)


def dct_matrix(b: int = BLOCK) -> torch.Tensor:
    """Rows: frequencies; columns: samples. Orthonormal DCT-II."""
    n = torch.arange(b, dtype=torch.float64)
    d = torch.cos(math.pi * (n.view(1, -1) + 0.5) * n.view(-1, 1) / b) * math.sqrt(2 / b)
    d[0] /= math.sqrt(2)
    return d


def integer_constants() -> tuple[list[list[int]], list[list[int]]]:
    """The decoder's constants: ``cos[k][n]`` and the inverse colour matrix ``rgb[c][p]`` (= colour^T), both scaled by
    2^CONSTANT_BITS and rounded half away from zero. The C# inverse holds the same numbers (a test compares them)."""
    one = 1 << CONSTANT_BITS

    def rnd(v: float) -> int:
        return int(math.floor(abs(v) * one + 0.5)) * (1 if v >= 0 else -1)

    d = dct_matrix()
    m = colour_matrix().T
    return [[rnd(float(v)) for v in row] for row in d], [[rnd(float(v)) for v in row] for row in m]


def forward(residual: torch.Tensor) -> torch.Tensor:
    """(3, H, W) residual in pixel units, H and W multiples of BLOCK -> (blocks, 3, 256) coefficients, blocks in
    row-major order, coefficients in row-major (vertical frequency, horizontal frequency) order."""
    c, h, w = residual.shape
    planes = torch.einsum("pc,chw->phw", colour_matrix(), residual.double())
    d = dct_matrix()
    x = planes.reshape(3, h // BLOCK, BLOCK, w // BLOCK, BLOCK).permute(1, 3, 0, 2, 4)  # by, bx, p, y, x
    coef = torch.einsum("ky,abpyx,lx->abpkl", d, x, d)
    return coef.reshape(-1, 3, BLOCK * BLOCK)


def inverse(coef: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The float inverse of ``forward`` (the integer decoder approximates it to well under a pixel)."""
    d = dct_matrix()
    x = coef.double().reshape(h // BLOCK, w // BLOCK, 3, BLOCK, BLOCK)
    planes = torch.einsum("ky,abpkl,lx->pabyx", d, x, d)
    planes = planes.permute(0, 1, 3, 2, 4).reshape(3, h, w)
    return torch.einsum("pc,phw->chw", colour_matrix(), planes)


def best_indices(q: torch.Tensor) -> list[int]:
    """(N, K) quantised coefficients -> for each of the K indices, the Gaussian scale level that codes its N values
    in the fewest bits."""
    scales = scale_table().double()
    out = []
    for k in range(q.shape[1]):
        values, counts = torch.unique(q[:, k], return_counts=True)
        bits = -(torch.log2(gaussian_likelihood(values.view(-1, 1), scales.view(1, -1))) * counts.view(-1, 1)).sum(0)
        out.append(int(bits.argmin()))
    return out


def quantise(c: torch.Tensor, step: float) -> torch.Tensor:
    """The encoder's quantiser (``ResidualTransform.ForwardTile``): round towards zero by ``DEAD_ZONE`` more."""
    return torch.sign(c) * torch.floor(c.abs() / step + (0.5 - DEAD_ZONE))


def table_bits(q: torch.Tensor, indices: list[int]) -> float:
    """Bits of (N, K) quantised coefficients coded with the Gaussian scale level ``indices[k]`` for index k."""
    if not indices:
        return 0.0
    scales = scale_table().double()[torch.tensor(indices)]
    return float(-torch.log2(gaussian_likelihood(q, scales.view(1, -1))).sum())


def psnr(se: float, n: int) -> float:
    return 10 * math.log10(255 ** 2 * n / se) if se > 0 else math.inf


@torch.no_grad()
def level_residuals(model, crops: list[torch.Tensor], level: int) -> tuple[torch.Tensor, float, float]:
    """The crops' residual coefficients at ``level`` (float model, hard rounding, 8-bit pictures as the decoder's),
    (blocks, 768); the latents' bits (the model's likelihoods) and the squared error without the layer."""
    coefs, bits, se = [], 0.0, 0.0
    for x in crops:
        r = model(x.unsqueeze(0), torch.tensor([level]), hard=True)
        bits += float(r["y_bits"] + r["z_bits"])
        res = torch.round(x * 255) - torch.round(r["x_hat"].clamp(0, 1)[0] * 255)
        se += float((res.double() ** 2).sum())
        coefs.append(forward(res))
    return torch.cat(coefs).reshape(-1, 3 * BLOCK * BLOCK), bits, se


@torch.no_grad()
def fit(model, crops: list[torch.Tensor], held: list[torch.Tensor], steps_q2: list[int] = STEPS_Q2,
        log=print) -> tuple[bytes, list, list]:
    """Fits the residual layer's tables on ``crops`` and measures the settings on ``held`` (other photos: a table
    prices its own photos' rare values too cheaply, most at coarse steps), each (3, H, W) in [0, 1] with sides
    multiples of 64, through the float model with hard rounding. Returns the pack's tables (scale levels for every
    (level, step, plane, coefficient): ``levels * len(steps) * 768`` bytes), the quality ladder (``[level, step or
    -1]``, see ``hull``) and every measured point ``(bpp, PSNR, level, step)`` of ``held``."""
    model.eval()
    table = bytearray()
    points = []
    pixels = sum(x.shape[-1] * x.shape[-2] for x in held)
    for level in range(len(model.lambdas)):
        c, _, _ = level_residuals(model, crops, level)
        h, bits, se = level_residuals(model, held, level)
        points.append((bits / pixels, psnr(se, 3 * pixels), level, -1))
        for i, s in enumerate(steps_q2):
            qc = quantise(c, s / 4)
            coded = (qc != 0).double().mean(0) >= RARE
            idx = [v if k else NOT_CODED for v, k in zip(best_indices(qc), coded.tolist())]
            table += bytes(idx)
            q = quantise(h, s / 4) * coded
            err = float(((h - q * (s / 4)) ** 2).sum())  # orthonormal: coefficient error = pixel error
            points.append(((bits + table_bits(q[:, coded], [v for v in idx if v != NOT_CODED])) / pixels,
                           psnr(err, 3 * pixels), level, i))
            if log:
                b, db = points[-1][:2]
                log(f"level {level} step {s / 4:.2f} px: {b:.4f} bpp : {db:.3f} dB (level alone {points[-1 - i - 1][0]:.4f} : "
                    f"{points[-1 - i - 1][1]:.3f}), {float((q != 0).double().mean()):.4f} nonzero, "
                    f"{int(coded.sum())} of 768 coded")
    return bytes(table), hull(points), points


def hull(points: list, spacing: float = 1.12, tolerance: float = 0.0) -> list[list[int]]:
    """The quality ladder from measured ``(bpp, PSNR, level, step)`` points, from the smallest rate up: the settings
    within ``tolerance`` dB of the upper convex hull of (bpp, PSNR) (the hull alone leaves a few far-apart
    settings; a point under the chord of two others is worse than switching between them), each at least ``spacing``
    times the rate of the one before (the hull's last point is kept)."""
    front = []
    for p in sorted(points):
        if front and p[0] == front[-1][0] and p[1] > front[-1][1]:
            front[-1] = p  # the same rate, better: the other one is never worth it
        elif not front or p[1] > front[-1][1]:
            front.append(p)  # costs more and reconstructs better than every cheaper point
    top = []
    for p in front:
        while len(top) >= 2:
            (x0, y0), (x1, y1) = (top[-2][0], top[-2][1]), (top[-1][0], top[-1][1])
            if (y1 - y0) * (p[0] - x0) <= (p[1] - y0) * (x1 - x0):
                top.pop()  # the middle point lies on or under the chord
            else:
                break
        top.append(p)

    def chord(x: float) -> float:
        for a, b in zip(top, top[1:]):
            xa, xb = a[0], b[0]
            if xa <= x <= xb:
                return a[1] + (b[1] - a[1]) * (x - xa) / (xb - xa)
        return top[-1][1]

    near = [p for p in front if p[1] >= chord(p[0]) - tolerance]
    chosen = [near[0]]
    for p in near[1:-1]:
        if p[0] >= spacing * chosen[-1][0]:
            chosen.append(p)
    if len(near) > 1:
        if near[-1][0] < spacing * chosen[-1][0] and len(chosen) > 1:
            chosen.pop()
        chosen.append(near[-1])
    return [[p[2], p[3]] for p in chosen]


def fit_crops(count: int = 24, held: int = 12, size: int = 512) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """512^2 centre crops of ``count`` training photos to fit the tables on and of ``held`` others to measure the
    ladder on (a fixed random choice)."""
    train_files, _ = data.list_images(data.default_dirs())
    chosen = random.Random(1).sample(train_files, min(count + held, len(train_files)))
    return data.center_crops(chosen[:count], size), data.center_crops(chosen[count:], size)


def manifest_section(ladder: list[list[int]]) -> dict:
    return {"block": BLOCK, "steps_q2": STEPS_Q2, "tables": "residual/tables.bin", "constant_bits": CONSTANT_BITS,
            "ladder": ladder}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--crops", type=int, default=24)
    ap.add_argument("--held", type=int, default=12)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    from .train import load_model

    model, _ = load_model(args.checkpoint)
    _, ladder, _ = fit(model, *fit_crops(args.crops, args.held))
    print("ladder:", " ".join(f"{lv}" + (f"+r{st}" if st >= 0 else "") for lv, st in ladder))


if __name__ == "__main__":
    main()
