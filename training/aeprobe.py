"""What this architecture's transforms can reproduce at a given latent width, trained from scratch on distortion alone
(docs/training.md, "The latent width").

    python3 -m training.aeprobe --latent 128 --steps 2000 --threads 1      # g_a + g_s as shipped, no rate, no rounding
    python3 -m training.aeprobe --latent 192 --steps 2000 --threads 1      # the same with 192 latent channels
    python3 -m training.aeprobe --klt 128,160,192                          # the linear reference: a 16x16 block KLT
    python3 -m training.aeprobe --residual CHECKPOINT --klt 16,32,64,128   # what a trained model's latent misses
    python3 -m training.aeprobe --last-group CHECKPOINT                    # what a grown latent's new group adds
    python3 -m training.aeprobe --enhance CHECKPOINT --basis dct [--tables gaussian]   # a residual refinement layer

An autoencoder with no rate term and no quantisation has only its transforms and its latent width to limit it. Its
validation PSNR (the 512^2 centre crops of the validation photos, as ``training.ceiling``) after N steps, for two
latent widths, says whether the width or the transforms cap the top of the trained model's curve, which stalls at
~28.8 dB on these crops however finely its top level is quantised (session 26). ``--klt`` prints the same measure for
the best linear transform of each width: the Karhunen-Loeve transform of 16x16 RGB blocks, fitted on blocks of the
training photos, so each latent position stands for one block as in the model (1/16 resolution). With
``--residual`` the KLT is fitted to what a trained model's reconstruction misses (``x - g_s(round(g_a(x)))`` at levels
5 and 3, on 24 training photos' centre crops) and the widths are extra coefficients on top of the model's picture:
how much a few more latent channels per position could add if they coded that residual only linearly.
"""
from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data
from .model import Analysis, Synthesis
from .residual import best_indices, colour_matrix, dct_matrix, table_bits


def psnr(se: float, n: int) -> float:
    return 10 * math.log10(n / se) if se > 0 else math.inf


def blocks(x: torch.Tensor, b: int = 16) -> torch.Tensor:
    """(1|N, 3, H, W) in [0, 1] -> (blocks, 3*b*b); H and W are cut to multiples of b."""
    x = x.unsqueeze(0) if x.dim() == 3 else x
    n, c, h, w = x.shape
    x = x[:, :, : h - h % b, : w - w % b]
    return F.unfold(x, b, stride=b).transpose(1, 2).reshape(-1, c * b * b)


def klt(train: list[torch.Tensor], val: list[torch.Tensor], widths: list[int], centred: bool = True) -> dict[int, float]:
    """PSNR of the validation crops through the best linear transform of each width (fitted on ``train``). With
    ``centred`` False the blocks are residuals (mean zero by construction) and the PSNR is of what is left after
    adding back their projection."""
    x = torch.cat([blocks(t) for t in train]).double()
    mean = x.mean(0) if centred else torch.zeros(x.shape[1], dtype=x.dtype)
    cov = (x - mean).T @ (x - mean) / (len(x) - 1)
    _, vectors = torch.linalg.eigh(cov)
    vectors = vectors.flip(1)
    y = torch.cat([blocks(t) for t in val]).double()
    out = {}
    for k in widths:
        p = vectors[:, :k]
        r = (y - mean) @ p @ p.T + mean
        err = (r.clamp(0, 1) - y) if centred else (y - r)
        out[k] = psnr(float((err ** 2).sum()), y.numel())
    return out


@torch.no_grad()
def residuals(checkpoint, crops: list[torch.Tensor], level: int) -> tuple[list[torch.Tensor], float]:
    """``x - g_s(round(g_a(x) * gain) * inverse gain)`` of each crop at ``level`` (float model, no entropy path), and
    the reconstruction's PSNR over all crops."""
    from .train import load_model

    model, _ = load_model(checkpoint)
    model.eval()
    gain = torch.exp(model.log_gain[level]).view(1, -1, 1, 1)
    igain = torch.exp(model.log_igain[level]).view(1, -1, 1, 1)
    out, se, n = [], 0.0, 0
    for x in crops:
        r = x - model.g_s(torch.round(model.g_a(x.unsqueeze(0)) * gain) * igain).clamp(0, 1)[0]
        out.append(r)
        se += float((r ** 2).sum())
        n += r.numel()
    return out, psnr(se, n)


@torch.no_grad()
def last_group(model, crops: list[torch.Tensor], levels=(5, 3, 0)) -> dict[int, tuple[float, float, float, float]]:
    """What a grown model's newest channel group adds (docs/training.md, "The latent width"): per level, on hard-rounded
    latents through the float model, (PSNR with every group, PSNR of the prefix without the last group, bpp of y and
    z, bpp of the last group alone). The prefix is what a decoder shows from a stream cut before the last group's
    layer: that group's latents are their predicted means."""
    model.eval()
    last = [0.0] * (model.groups - 1) + [1.0]
    out = {}
    for level in levels:
        se_all = se_prefix = n = bits = bits_last = pixels = 0.0
        for x in crops:
            x = x.unsqueeze(0)
            q = torch.tensor([level])
            r = model(x, q, drop_groups=model.groups - 1, hard=True)
            se_all += float(((r["x_hat"].clamp(0, 1) - x) ** 2).sum())
            se_prefix += float(((r["x_hat_drop"].clamp(0, 1) - x) ** 2).sum())
            bits += float(r["y_bits"] + r["z_bits"])
            model.group_rate_weight = last
            try:
                bits_last += float(model(x, q, hard=True)["y_bits"])
            finally:
                model.group_rate_weight = None
            n += x.numel()
            pixels += x.shape[-1] * x.shape[-2]
        out[level] = (psnr(se_all, n), psnr(se_prefix, n), bits / pixels, bits_last / pixels)
    return out


def dct_basis(b: int = 16) -> torch.Tensor:
    """(3*b*b, 3*b*b) orthonormal columns: the 2-D DCT-II of each colour plane of a ``blocks`` row, after an orthonormal
    luma/chroma rotation: the residual layer's transform (``training.residual``) as one matrix."""
    d = dct_matrix(b)
    plane = torch.kron(d, d)  # rows: 2-D frequencies; columns: pixels in unfold order (row-major)
    return torch.kron(colour_matrix(), plane).T  # blocks rows are channel-major: (c, y, x)


def enhancement(fit: list[torch.Tensor], held: list[torch.Tensor], steps: list[float], basis: str = "klt",
                tables: str = "histogram") -> tuple[float, dict[float, tuple[float, float]]]:
    """A residual refinement layer, estimated: the residuals' 16x16 blocks in an orthonormal basis (the KLT of the
    ``fit`` residuals, or ``dct_basis``), every coefficient quantised with one step, each coefficient index coded with
    a static histogram of the ``fit`` residuals' quantised values (what a pack's CDF tables could hold; no context),
    or with ``tables="gaussian"`` by one of the model's own Gaussian scale-table entries per index (the one that codes
    the ``fit`` values shortest: what the existing integer entropy path could code with one byte per index).
    Returns the held-out residuals' PSNR without the layer and, per step, (bits per pixel of the layer, PSNR with it)
    measured on ``held`` (cross-entropy against the ``fit`` histograms)."""
    x = torch.cat([blocks(r) for r in fit]).double()
    if basis == "klt":
        _, vectors = torch.linalg.eigh(x.T @ x / len(x))
        vectors = vectors.flip(1)
    elif basis == "dct":
        vectors = dct_basis()
    else:
        raise ValueError(f"unknown basis {basis!r}")
    if tables not in ("histogram", "gaussian"):
        raise ValueError(f"unknown tables {tables!r}")
    y = torch.cat([blocks(r) for r in held]).double()
    cf, cv = x @ vectors, y @ vectors
    n = y.numel()
    out = {}
    for step in steps:
        qf, qv = torch.round(cf / step), torch.round(cv / step)
        if tables == "gaussian":
            bits = table_bits(qv, best_indices(qf))
        else:
            bits = 0.0
            for k in range(qv.shape[1]):
                lo = int(min(qf[:, k].min(), qv[:, k].min()))
                hi = int(max(qf[:, k].max(), qv[:, k].max()))
                hist = torch.full((hi - lo + 1,), 0.5, dtype=torch.float64)  # every value codable
                hist.index_add_(0, (qf[:, k] - lo).long(), torch.ones(len(qf), dtype=torch.float64))
                bits += float(-torch.log2(hist[(qv[:, k] - lo).long()] / hist.sum()).sum())
        out[step] = (bits / (n / 3), psnr(float(((y - qv * step @ vectors.T) ** 2).sum()), n))
    return psnr(float((y ** 2).sum()), n), out


@torch.no_grad()
def level_bpp(model, crops: list[torch.Tensor], level: int) -> float:
    """The model's estimated rate of the crops at ``level`` (y and z, hard rounding), bits per pixel."""
    model.eval()
    bits = sum(float((lambda r: r["y_bits"] + r["z_bits"])(model(x.unsqueeze(0), torch.tensor([level]), hard=True)))
               for x in crops)
    return bits / sum(x.shape[-1] * x.shape[-2] for x in crops)


class AutoEncoder(nn.Module):
    def __init__(self, latent: int, n_enc: int = 96):
        super().__init__()
        self.g_a = Analysis(latent, n_enc)
        self.g_s = Synthesis(latent)
        # The shipped model's grown residuals start at zero; from scratch they train like any other layer.
        for block in (self.g_a.res4, self.g_a.res8, self.g_a.res16):
            nn.init.kaiming_uniform_(block.conv2.weight, a=math.sqrt(5))
        nn.init.kaiming_uniform_(self.g_s.res4.weight, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.g_s(self.g_a(x))


@torch.no_grad()
def validate(model: nn.Module, crops: list[torch.Tensor]) -> float:
    model.eval()
    se, n = 0.0, 0
    for x in crops:
        x = x.unsqueeze(0)
        se += float(((model(x).clamp(0, 1) - x) ** 2).sum())
        n += x.numel()
    return psnr(se, n)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latent", type=int, default=128, help="latent channels at 1/16 resolution")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--klt", default="", help="comma-separated widths: the linear reference")
    ap.add_argument("--residual", default=None, help="a checkpoint: fit the KLT to its reconstruction's residual")
    ap.add_argument("--enhance", default=None, metavar="CHECKPOINT",
                    help="estimate a residual refinement layer on top of this checkpoint's levels 5, 3 and 1")
    ap.add_argument("--enhance-steps", default="0.32,0.48,0.64",
                    help="with --enhance: comma-separated quantisation steps of the layer's coefficients")
    ap.add_argument("--basis", choices=("klt", "dct"), default="klt", help="with --enhance: the layer's block transform")
    ap.add_argument("--enhance-levels", default="5,3,1", help="with --enhance: comma-separated base levels")
    ap.add_argument("--tables", choices=("histogram", "gaussian"), default="histogram",
                    help="with --enhance: how the layer's coefficients are priced")
    ap.add_argument("--last-group", nargs="+", default=[], metavar="CHECKPOINT",
                    help="grown checkpoints: what each one's newest channel group adds at levels 5, 3 and 0")
    data.add_probe_arguments(ap, lr=5e-4, every=250)
    args = ap.parse_args(argv)
    train_files, crops = data.probe_setup(args)
    if args.enhance:
        import random

        from .train import load_model

        model, step = load_model(args.enhance)
        photos = data.center_crops(random.Random(1).sample(train_files, 24), 512)
        steps = [float(v) for v in args.enhance_steps.split(",")]
        points = []
        for level in (int(v) for v in args.enhance_levels.split(",")):
            fit, _ = residuals(args.enhance, photos, level)
            held, _ = residuals(args.enhance, crops, level)
            base_db, layer = enhancement(fit, held, steps, args.basis, args.tables)
            bpp = level_bpp(model, crops, level)
            cells = "; ".join(f"step {q}: {bpp + b:.4f} bpp : {db:.3f} dB (+{b:.4f} bpp, {db - base_db:+.3f} dB)"
                              for q, (b, db) in layer.items())
            print(f"step {step}, level {level}: {bpp:.4f} bpp : {base_db:.3f} dB; with a {args.basis} layer {cells}",
                  flush=True)
            points += [(bpp, base_db, f"L{level}")] + [(bpp + b, db, f"L{level}+{q}") for q, (b, db) in layer.items()]
        frontier = []
        for point in sorted(points):  # each rate's best: a point stays if it beats every cheaper one
            if not frontier or point[1] > frontier[-1][1]:
                frontier.append(point)
        print("best at each rate: " + ", ".join(f"{name} {b:.4f}:{db:.3f}" for b, db, name in frontier))
    for path in args.last_group:
        from .train import load_model

        model, step = load_model(path)
        for level, (full, prefix, bpp, bpp_last) in last_group(model, crops).items():
            print(f"{path} (step {step}) level {level}: {bpp:.4f} bpp : {full:.3f} dB; without group {model.groups} "
                  f"{bpp - bpp_last:.4f} bpp : {prefix:.3f} dB (the group: {bpp_last:.4f} bpp, {full - prefix:+.3f} dB)",
                  flush=True)
    widths = [int(s) for s in args.klt.split(",")] if args.klt else []
    if widths and args.residual:
        import random

        photos = data.center_crops(random.Random(1).sample(train_files, 24), 512)
        for level in (5, 3):
            fit, _ = residuals(args.residual, photos, level)
            held, base = residuals(args.residual, crops, level)
            cells = "; ".join(f"+{k}: {v:.2f} dB" for k, v in klt(fit, held, widths, centred=False).items())
            print(f"level {level}: model {base:.2f} dB; with its residual's first KLT coefficients {cells}", flush=True)
    elif widths:
        photos = data.center_crops(train_files, 512)
        for k, v in klt(photos, crops, widths).items():
            print(f"16x16 block KLT, {k} coefficients: {v:.2f} dB", flush=True)
    if not args.steps:
        return
    model = AutoEncoder(args.latent)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sampler = data.CropSampler(train_files, args.patch, args.seed)
    start, losses = time.time(), []
    for i in range(1, args.steps + 1):
        model.train()
        x = sampler.batch(args.batch)
        loss = F.mse_loss(model(x), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
        if i % args.every == 0:
            train_db = 10 * math.log10(1 / (sum(losses[-args.every:]) / args.every))
            print(f"latent {args.latent}, step {i}: validation {validate(model, crops):.2f} dB, training crops "
                  f"{train_db:.2f} dB ({(time.time() - start) / i:.2f} s/step)", flush=True)


if __name__ == "__main__":
    main()
