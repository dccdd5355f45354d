"""Rate-distortion optimised rounding of the latents (greedy RDOQ), estimated for a one-pass encoder.

    python3 -m training.rdoq CHECKPOINT [--scales 0.5,1,2] [--size 512] [--threads 2]

The one-pass encoder rounds each latent residual ``r = y - mean`` to the nearest integer. A rate-distortion optimised
rounding instead takes whichever of ``floor(r)`` and ``ceil(r)`` costs less in ``bits(v | scale) + lam/3 * G_c *
(v - r)^2``, group by group (a group's choices feed the context of the next, as in the decoder), where ``G_c`` is
channel c's synthesis gain: the mean squared change of the picture per unit change of one of its latents (measured once
per checkpoint by finite differences through ``g_s`` on the calibration crops) and ``lam`` the level's own trade-off.
It changes only what an encoder writes: no format, decoder or pack change, and no gradient at encode time (the
studio encoder, ``training.refine``, optimises the latents by gradient for 30-45 s per picture instead).

This probe prints the validation rows (centre crops of the held-out photos, estimated rates, the synthesis and entropy
path in fake quant as ``valck`` validates) with nearest rounding and with RDOQ at each ``--scales`` multiple of
``lam``, and each one's BD-rate against nearest rounding. Kodak is not used.
"""
from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F

from . import data, qat, valbd
from .model import EdgeCodecModel, gaussian_likelihood
from .refine import PAD
from .train import load_model


def synthesis_gains(model: EdgeCodecModel, crops: list[torch.Tensor], q: int, eps: float = 0.5) -> torch.Tensor:
    """G'_c per latent channel: the squared change of x_hat (summed over its three planes, [0, 1] units) per squared unit
    change of one of channel c's values at the synthesis input (the latent times the level's inverse gain), averaged over
    positions (random-sign probes of the whole channel), at level q's operating point. Level l's gain per unit of its
    gained latent is then ``exp(log_igain[l, c])^2 * G'_c``."""
    igain = torch.exp(model.log_igain[q]).view(1, -1, 1, 1)
    gain = torch.exp(model.log_gain[q]).view(1, -1, 1, 1)
    total = torch.zeros(model.m)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for x in crops:
            x = x.unsqueeze(0)
            s = torch.round(model.g_a(x) * gain) * igain
            base = model.g_s(s)
            positions = s.shape[2] * s.shape[3]
            for c in range(model.m):
                probe = torch.zeros_like(s)
                probe[:, c] = (torch.randint(0, 2, s.shape[2:], generator=generator) * 2 - 1).float() * eps
                change = model.g_s(s + probe) - base
                total[c] += float(change.pow(2).sum()) / (eps * eps * positions)
    return total / len(crops)


def code(model: EdgeCodecModel, x: torch.Tensor, q: int, weights: torch.Tensor | None, lam: float) -> tuple[float, float]:
    """(bits, squared error summed over pixels and planes in [0, 1] units) of one picture at level q: nearest rounding
    (``weights`` None) or RDOQ with ``lam/3 * weights[c]`` per squared unit of rounding error."""
    h, w = x.shape[1:]
    padded = F.pad(x.unsqueeze(0), (0, -w % PAD, 0, -h % PAD), mode="replicate")
    gain = torch.exp(model.log_gain[q]).view(1, -1, 1, 1)
    igain = torch.exp(model.log_igain[q]).view(1, -1, 1, 1)
    with torch.no_grad():
        y = model.g_a(padded) * gain
        z_hat = torch.round(model.h_a(y))
        bits = float((-torch.log2(model.entropy_bottleneck.likelihood(z_hat))).sum())
        hyper = model.hyper(z_hat)
        prev: list[torch.Tensor] = []
        gc = model.group_ch
        for k in range(model.groups):
            mu, t = model.group_params(hyper, prev, k)
            scale = model.scale_from_index(t)
            r = y[:, k * gc:(k + 1) * gc] - mu
            if weights is None:
                v = torch.round(r)
            else:
                wk = (lam / 3 * weights[k * gc:(k + 1) * gc]).view(1, -1, 1, 1)
                lo = torch.floor(r)
                hi = lo + 1
                cost_lo = -torch.log2(gaussian_likelihood(lo, scale)) + wk * (lo - r) ** 2
                cost_hi = -torch.log2(gaussian_likelihood(hi, scale)) + wk * (hi - r) ** 2
                v = torch.where(cost_hi < cost_lo, hi, lo)
            bits += float((-torch.log2(gaussian_likelihood(v, scale))).sum())
            prev.append(v + mu)
        x_hat = model.g_s(torch.cat(prev, 1) * igain)[0, :, :h, :w].clamp(0, 1)
    return bits, float((x_hat - x).pow(2).sum())


def rows(model: EdgeCodecModel, crops: list[torch.Tensor], gains: list[torch.Tensor] | None,
         scale: float) -> list[tuple[float, float]]:
    """(bpp, psnr) per level over the crops; ``gains`` None = nearest rounding."""
    out = []
    for q in range(len(model.lambdas)):
        lam = model.lambdas[q] * 255 ** 2 * scale
        bits = se = 0.0
        pixels = 0
        for x in crops:
            b, s = code(model, x, q, None if gains is None else gains[q], lam)
            bits, se, pixels = bits + b, se + s, pixels + x.shape[1] * x.shape[2]
        out.append((bits / pixels, 10 * math.log10(3 * pixels / max(se, 1e-12))))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--scales", default="0.5,1,2", help="multiples of each level's lambda to try")
    ap.add_argument("--size", type=int, default=512, help="side of the validation centre crops")
    ap.add_argument("--float", dest="quantised", action="store_false", help="float synthesis and entropy path")
    ap.add_argument("--uniform", action="store_true", help="one synthesis gain for every channel (the median), not one per channel")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, step = load_model(args.checkpoint)
    calibration = qat.calibration_crops()
    if args.quantised:
        qat.enable(model, calibration, synthesis=True, entropy=True)
    model.eval()
    _, files = data.list_images(data.default_dirs())
    crops = data.center_crops(files, args.size)
    base = synthesis_gains(model, calibration[:2], len(model.lambdas) // 2)
    if args.uniform:
        base = torch.full_like(base, float(base.median()))
    gains = [torch.exp(2 * model.log_igain[q].detach()) * base for q in range(len(model.lambdas))]
    for q, g in enumerate(gains):
        print(f"level {q}: synthesis gain per channel {float(g.min()):.3g} .. {float(g.max()):.3g} (median {float(g.median()):.3g})")
    nearest = rows(model, crops, None, 1.0)
    print(f"step {step}, nearest rounding: {valbd.text(nearest)}")
    for scale in (float(s) for s in args.scales.split(",")):
        points = rows(model, crops, gains, scale)
        print(f"RDOQ x{scale:g}: {valbd.text(points)}  {valbd.bd_rate(nearest, points):+.2f} % BD-rate")


if __name__ == "__main__":
    main()
