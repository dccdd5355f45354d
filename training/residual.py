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
    row-major order, coefficients in row-major (vertical frequency, horizontal frequency) order. Float32 input stays
    float32 (and differentiable: the studio encoder prices the layer through it); anything else is computed in float64."""
    c, h, w = residual.shape
    dtype = residual.dtype if residual.dtype in (torch.float32, torch.float64) else torch.float64
    planes = torch.einsum("pc,chw->phw", colour_matrix().to(dtype), residual.to(dtype))
    d = dct_matrix().to(dtype)
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


#: Block classes per (level, step): each block of a tile names one (coded first, with the pack's class frequencies),
#: and its values are coded with that class's tables. A quiet block, one with a few low frequencies and a busy one want
#: different tables; one table for all prices each too dearly. Session 32, tables fitted on 24 training crops, bits
#: of 12 others (side information included), against one class: level 3 at 80 and 57 px steps 2 classes -17.0 / -18.6 %,
#: 4 classes -18.9 / -20.1 %, 8 classes -19.2 / -22.5 %; level 4 at 48 and 24 px 4 classes -19.9 / -27.2 %, 8 classes
#: -22.7 / -30.1 % (/tmp experiments, docs/training.md). Fitting 8 classes takes ~15 s per (level, step).
CLASSES = 8
#: Values beyond +-V are priced as +-V when fitting (the largest coefficient, 255 * 16, over the finest step is 204).
V = 255
#: The class frequencies are stored as 16-bit weights.
WEIGHT_MAX = 65535


def value_bits_table() -> torch.Tensor:
    """(scale levels, 2V+1): the bits of each value -V..V under each Gaussian scale level."""
    v = torch.arange(-V, V + 1, dtype=torch.float64)
    return -torch.log2(gaussian_likelihood(v.view(1, -1), scale_table().double().view(-1, 1)))


def histogram(q: torch.Tensor) -> torch.Tensor:
    """(N, K) values -> (K, 2V+1) counts of each value per column."""
    idx = (q.clamp(-V, V) + V).long().T
    return torch.zeros(q.shape[1], 2 * V + 1, dtype=torch.float64).scatter_add_(1, idx, torch.ones_like(idx, dtype=torch.float64))


def quantize_pmf(weights: list[int]) -> list[int]:
    """``CdfTableSet.QuantizePmf``: frequencies (total 65536) of the weights' symbols, each at least 1."""
    n, total = len(weights), sum(weights)
    spare = 65536 - n
    freq = [1 + (spare // n if total == 0 else w * spare // total) for w in weights]
    freq[max(range(n), key=lambda i: (weights[i], -i))] += 65536 - sum(freq)
    return freq


def class_bits(weights: list[int]) -> torch.Tensor:
    """The bits of each class symbol under the class table of ``weights`` (plus the escape symbol, weight 0)."""
    freq = quantize_pmf(list(weights) + [0])[:-1]
    return torch.tensor([16 - math.log2(f) for f in freq], dtype=torch.float64)


def value_indices(q: torch.Tensor) -> torch.Tensor:
    """(N, 768) values -> (768, N) their columns of ``value_bits_table`` (values beyond +-V at +-V)."""
    return (q.clamp(-V, V) + V).long().T.contiguous()


def block_bits(idx: torch.Tensor, nonzero: torch.Tensor, row: list[int], lut: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Blocks (``value_indices``, and their (N, 768) nonzero mask) under one class's 768 entries: each block's bits
    and its count of nonzero values the class does not code (they would be dropped)."""
    entries = torch.tensor(row)
    coded = entries != NOT_CODED
    table = torch.zeros(len(row), lut.shape[1], dtype=lut.dtype)
    table[coded] = lut[entries[coded]]
    dropped = nonzero @ (~coded).to(nonzero.dtype)
    return table.gather(1, idx).sum(0), dropped


def choose_classes(q: torch.Tensor, rows: list[list[int]], weights: list[int], lut: torch.Tensor,
                   idx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoder's class choice (``ResidualLayer.Encode``): per block the class that drops fewest nonzero values,
    then codes it in the fewest bits (class symbol included), then the lowest. Returns the classes and the bits."""
    idx = value_indices(q) if idx is None else idx
    nonzero = (q != 0).to(lut.dtype)
    side = class_bits(weights).to(lut.dtype)
    costs, drops = [], []
    for k, row in enumerate(rows):
        bits, dropped = block_bits(idx, nonzero, row, lut)
        costs.append(bits + side[k])
        drops.append(dropped)
    cost, drop = torch.stack(costs, 1), torch.stack(drops, 1).double()
    key = drop * 1e9 + cost.double()
    chosen = key.argmin(1)
    return chosen, cost.gather(1, chosen.view(-1, 1)).squeeze(1).double()


def fit_classes(q: torch.Tensor, classes: int = CLASSES, iterations: int = 6, lut: torch.Tensor | None = None) -> tuple[list[list[int]], list[int]]:
    """The class tables of one (level, step) from (N, 768) quantised blocks: ``classes`` rows of 768 entries (a scale
    level, or NOT_CODED where the class's blocks are nonzero in fewer than RARE of them, or where all blocks are) and
    the classes' 16-bit weights. Starts from a class of the zero blocks and classes of equal size of the others by
    activity (nonzero count, then magnitude), and alternates fitting the tables to the blocks and choosing each block's class as the encoder does."""
    lut = value_bits_table() if lut is None else lut
    idx = value_indices(q)
    nonzero = (q != 0).sum(1)
    activity = nonzero.double() * 1e6 + q.abs().sum(1).double()
    assign = torch.zeros(q.shape[0], dtype=torch.long)
    first = 1 if classes > 1 and bool((nonzero == 0).any()) else 0  # zero blocks start as a class of their own
    busy = (nonzero > 0).nonzero().squeeze(1) if first else torch.arange(q.shape[0])
    order = busy[activity[busy].argsort(stable=True)]
    for k in range(first, classes):
        n = classes - first
        assign[order[(k - first) * len(order) // n:(k - first + 1) * len(order) // n]] = k
    for it in range(iterations + 1):
        rows, counts = [], []
        for k in range(classes):
            sel = q[assign == k]
            counts.append(len(sel))
            if not len(sel):
                rows.append([NOT_CODED] * q.shape[1])
                continue
            coded = (sel != 0).double().mean(0) >= RARE
            best = (histogram(sel) @ lut.T.double()).argmin(1).tolist()
            rows.append([b if c else NOT_CODED for b, c in zip(best, coded.tolist())])
        total = max(1, sum(counts))
        weights = [c * WEIGHT_MAX // total for c in counts]
        if it < iterations:
            assign, previous = choose_classes(q, rows, weights, lut, idx)[0], assign
            if torch.equal(assign, previous):
                break  # settled: the tables just fitted are the blocks' own
    return rows, weights


@torch.no_grad()
def fit(model, crops: list[torch.Tensor], held: list[torch.Tensor], steps_q2: list[int] = STEPS_Q2,
        classes: int = CLASSES, log=print) -> tuple[bytes, bytes, list, list]:
    """Fits the residual layer's tables on ``crops`` and measures the settings on ``held`` (other photos: a table
    prices its own photos' rare values too cheaply, most at coarse steps), each (3, H, W) in [0, 1] with sides
    multiples of 64, through the float model with hard rounding. Returns the pack's tables (scale levels for every
    (level, step, class, plane, coefficient): ``levels * len(steps) * classes * 768`` bytes), the class weights
    (``levels * len(steps) * classes`` little-endian uint16), the quality ladder (``[level, step or -1]``, see
    ``hull``) and every measured point ``(bpp, PSNR, level, step)`` of ``held``."""
    model.eval()
    lut = value_bits_table().float()
    table, weight_bytes = bytearray(), bytearray()
    points = []
    pixels = sum(x.shape[-1] * x.shape[-2] for x in held)
    for level in range(len(model.lambdas)):
        c, _, _ = level_residuals(model, crops, level)
        h, bits, se = level_residuals(model, held, level)
        points.append((bits / pixels, psnr(se, 3 * pixels), level, -1))
        for i, s in enumerate(steps_q2):
            rows, weights = fit_classes(quantise(c, s / 4), classes, lut=lut)
            table += bytes(v for row in rows for v in row)
            weight_bytes += b"".join(w.to_bytes(2, "little") for w in weights)
            chosen, kept, layer_bits = code_blocks(h, rows, weights, s / 4, lut)
            err = float(((h - kept * (s / 4)) ** 2).sum())  # orthonormal: coefficient error = pixel error
            points.append(((bits + float(layer_bits.sum())) / pixels, psnr(err, 3 * pixels), level, i))
            if log:
                b, db = points[-1][:2]
                log(f"level {level} step {s / 4:.2f} px: {b:.4f} bpp : {db:.3f} dB (level alone {points[-1 - i - 1][0]:.4f} : "
                    f"{points[-1 - i - 1][1]:.3f}), {float((kept != 0).double().mean()):.4f} nonzero, classes "
                    + "/".join(str(int((chosen == k).sum())) for k in range(classes)))
    return bytes(table), bytes(weight_bytes), hull(points), points


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


def ladder_rates(ladder: list[list[int]], points: list) -> list[float]:
    """The measured bits per pixel of each ladder setting (``points`` as ``fit`` returns them), rounded to 5 decimals:
    the pack's ``ladder_bpp``, the relative sizes a sender's rate adaptation predicts with (QualityAdaptation.ForLadder)."""
    rate = {(p[2], p[3]): p[0] for p in points}
    return [round(rate[(level, step)], 5) for level, step in ladder]


def fit_crops(count: int = 24, held: int = 12, size: int = 512) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """512^2 centre crops of ``count`` training photos to fit the tables on and of ``held`` others to measure the
    ladder on (a fixed random choice)."""
    train_files, _ = data.list_images(data.default_dirs())
    chosen = random.Random(1).sample(train_files, min(count + held, len(train_files)))
    return data.center_crops(chosen[:count], size), data.center_crops(chosen[count:], size)


class PackTables:
    """The residual layer's tables of a shipped pack (``residual/tables.bin`` and ``residual/classes.bin``): the
    class rows and weights of each (quality level, step index), as the C# ``ResidualTables`` reads them."""

    def __init__(self, manifest: dict, tables: bytes, weights: bytes):
        section = manifest["residual"]
        self.steps_q2 = list(section["steps_q2"])
        self.classes = int(section["classes"])
        self.levels = len(manifest["quality_levels"])
        self.ladder = [tuple(s) for s in section["ladder"]]
        entries = self.levels * len(self.steps_q2) * self.classes
        if len(tables) != entries * 3 * BLOCK * BLOCK or len(weights) != 2 * entries:
            raise ValueError("the pack's residual tables do not match its manifest")
        self._tables, self._weights = tables, weights

    @classmethod
    def of_pack(cls, path) -> "PackTables":
        import json
        import zipfile
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            if "residual" not in manifest:
                raise ValueError(f"{path} has no residual layer")
            return cls(manifest, z.read(manifest["residual"]["tables"]), z.read(manifest["residual"]["class_weights"]))

    def step(self, index: int) -> float:
        """The quantisation step of step index ``index``, in pixel values."""
        return self.steps_q2[index] / 4

    def setting(self, level: int, index: int) -> tuple[list[list[int]], list[int]]:
        """(class rows of 768 entries, class weights) of level ``level`` at step index ``index``."""
        if not (0 <= level < self.levels and 0 <= index < len(self.steps_q2)):
            raise ValueError(f"no residual setting {level}+r{index}")
        k = 3 * BLOCK * BLOCK
        base = (level * len(self.steps_q2) + index) * self.classes
        rows = [list(self._tables[(base + c) * k:(base + c + 1) * k]) for c in range(self.classes)]
        weights = [int.from_bytes(self._weights[2 * (base + c):2 * (base + c) + 2], "little") for c in range(self.classes)]
        return rows, weights


def code_blocks(c: torch.Tensor, rows: list[list[int]], weights: list[int], step: float,
                lut: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(N, 768) coefficients quantised and classed as the C# encoder codes them: each block's class, the values it
    keeps (zero where its class does not code them) and each block's bits (class symbol included)."""
    q = quantise(c, step)
    chosen, bits = choose_classes(q, rows, weights, value_bits_table() if lut is None else lut)
    return chosen, q * torch.tensor(rows)[chosen].ne(NOT_CODED), bits


def layer_cost(res: torch.Tensor, rows: list[list[int]], weights: list[int], step: float,
               lut: torch.Tensor | None = None) -> tuple[float, float]:
    """The layer as the C# encoder codes it, for a (3, H, W) residual of 8-bit pictures (integers, pixel units, sides
    multiples of BLOCK): its bits (class symbols included) and the squared error left after it."""
    c = forward(res).reshape(-1, 3 * BLOCK * BLOCK)
    _, kept, bits = code_blocks(c, rows, weights, step, lut)
    return float(bits.sum()), float(((c - kept * step) ** 2).sum())


def soft_layer_cost(res: torch.Tensor, rows: list[list[int]], weights: list[int], step: float,
                    lut: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A differentiable stand-in for ``layer_cost`` (the studio encoder's loss with the layer in its loop), for a
    float32 (3, H, W) residual: the blocks' classes and the quantised values are chosen as the encoder would and held
    fixed; the bits are each coded coefficient's Gaussian likelihood under its class's scale at ``c / step`` (so they
    pull coefficients towards zero), and the error is ``c - step * q`` (so the picture moves towards what the layer
    can code exactly, and the coefficients it zeroes count in full)."""
    c = forward(res).reshape(-1, 3 * BLOCK * BLOCK)
    with torch.no_grad():
        chosen, kept, _ = code_blocks(c.double(), rows, weights, step, lut)
        entries = torch.tensor(rows)[chosen]
        coded = entries.ne(NOT_CODED)
        scales = scale_table().to(c.dtype)[entries.clamp(max=len(scale_table()) - 1)]
        kept = kept.to(c.dtype)
    bits = -(torch.log2(gaussian_likelihood(c / step, scales)) * coded).sum()
    return bits, ((c - kept * step) ** 2).sum()


def slope(step: float) -> float:
    """Bits per unit of squared pixel error at step ``step``: a uniform quantiser's high-rate trade-off
    (D = step^2 / 12 per coefficient, dR/dD = -1 / (2 ln 2 D)); the studio encoder weighs a ladder rung's error with it."""
    return 6 / (math.log(2) * step * step)


def manifest_section(ladder: list[list[int]], classes: int = CLASSES, rates: list[float] | None = None) -> dict:
    section = {"block": BLOCK, "steps_q2": STEPS_Q2, "tables": "residual/tables.bin", "constant_bits": CONSTANT_BITS,
               "classes": classes, "class_weights": "residual/classes.bin", "ladder": ladder}
    if rates is not None:
        section["ladder_bpp"] = rates
    return section


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--crops", type=int, default=24)
    ap.add_argument("--held", type=int, default=12)
    ap.add_argument("--classes", type=int, default=CLASSES)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    from .train import load_model

    model, _ = load_model(args.checkpoint)
    _, _, ladder, _ = fit(model, *fit_crops(args.crops, args.held), classes=args.classes)
    print("ladder:", " ".join(f"{lv}" + (f"+r{st}" if st >= 0 else "") for lv, st in ladder))


if __name__ == "__main__":
    main()
