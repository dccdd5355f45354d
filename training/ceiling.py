"""How much the transforms can reproduce, apart from how the entropy model spends bits (docs/training.md, "Where
the model is limited").

    python3 -m training.ceiling CHECKPOINT [...]                         # the unquantised ceiling (sessions 4-16)
    python3 -m training.ceiling CHECKPOINT --gains 1,1.5,2               # the precision ceiling at the top level
    python3 -m training.ceiling CHECKPOINT --finetune 400 --threads 1    # the capacity probe (distortion only)
    python3 -m training.ceiling CHECKPOINT --finetune 200 --grow bottleneck   # the same with more synthesis
    python3 -m training.ceiling CHECKPOINT --deadzone 0.05,0.1,0.2       # rounding towards the mean, BD-rate

Three measures, on the 512² centre crops of the validation photos:

* ``ceiling``: PSNR of ``g_s(g_a(x))`` with no quantisation at all. Sessions 4-16 read it as the transforms' limit.
  It is not one: ``g_s`` is trained on rounded latents only, and off the integer grid it decodes worse than on it
  (session 26: 27.04 dB unquantised against 28.66 dB coded at the top level, same weights and crops).
* ``coded`` with ``gain_factor`` > 1: the top level's latents quantised more finely than any level is trained for
  (gain x f, inverse gain / f), coded through the model's own entropy path with hard rounding. If the PSNR keeps
  rising with the rate, the bits are the limit; if it stalls, the transforms are.
* ``coded`` with ``deadzone`` > 0: residuals near a rounding boundary rounded towards the mean (a dead zone, as
  classical codecs' quantisers have), priced over every level against plain rounding.
* ``finetune``: ``g_a`` and ``g_s`` trained on distortion alone, at one level's rounding, with no rate term. If the
  PSNR at that level does not rise, the transforms have no capacity left that the rate term was holding back.
  ``--grow`` adds a function-preserving piece of synthesis first (``grow``), to see whether it adds capacity.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data
from .model import EdgeCodecModel, ste_round
from .train import load_model


@torch.no_grad()
def ceiling(model: EdgeCodecModel, crops: list[torch.Tensor]) -> float:
    """PSNR (dB, RGB, peak 1) of the unquantised reconstruction, over the pixels of all ``crops`` together."""
    model.eval()
    se, n = 0.0, 0
    for x in crops:
        x = x.unsqueeze(0) if x.dim() == 3 else x
        x_hat = model.g_s(model.g_a(x)).clamp(0, 1)
        se += float(((x_hat - x) ** 2).sum())
        n += x.numel()
    return 10 * math.log10(n / se) if se > 0 else math.inf


def _gains(model: EdgeCodecModel, level: int, gain_factor: float) -> tuple[torch.Tensor, torch.Tensor]:
    shift = math.log(gain_factor)
    return (torch.exp(model.log_gain[level] + shift).view(1, -1, 1, 1),
            torch.exp(model.log_igain[level] - shift).view(1, -1, 1, 1))


@torch.no_grad()
def coded(model: EdgeCodecModel, crops: list[torch.Tensor], level: int, gain_factor: float = 1.0,
          deadzone: float = 0.0) -> tuple[float, float]:
    """(bits per pixel, PSNR in dB) of ``crops`` coded at ``level`` with hard rounding through the model's entropy
    path (estimated rates, the float model), its gain multiplied and its inverse gain divided by ``gain_factor``;
    squared errors and bits pooled over all crops. ``deadzone`` > 0 rounds each residual ``y - mean`` towards the
    mean when it is within ``deadzone`` of a rounding boundary (``sign(r) * floor(|r| + 0.5 - deadzone)``), an
    encoder-side choice that any decoder plays."""
    model.eval()
    gain, igain = _gains(model, level, gain_factor)

    def quantize(r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v = torch.round(r) if deadzone == 0 else torch.sign(r) * torch.clamp(torch.floor(r.abs() + 0.5 - deadzone), min=0)
        return v, v

    bits = se = 0.0
    n = pixels = 0
    for x in crops:
        x = x.unsqueeze(0) if x.dim() == 3 else x
        y = model.g_a(x) * gain
        z = torch.round(model.h_a(y))
        z_bits = -torch.log2(model.entropy_bottleneck.likelihood(z)).sum()
        y_bits, prev = model.code_groups(model.hyper(z), y, quantize)
        x_hat = model.g_s(torch.cat(prev, 1) * igain).clamp(0, 1)
        bits += float(y_bits + z_bits)
        se += float(((x_hat - x) ** 2).sum())
        n += x.numel()
        pixels += x.shape[2] * x.shape[3]
    return bits / pixels, (10 * math.log10(n / se) if se > 0 else math.inf)


class LinearSkip(nn.Module):
    """``g_s(y) + basis(y)``: a zero-initialised 1x1 conv from the latent to 3 x 16 x 16 values and depth-to-space x16,
    a block basis straight from each latent position to its 16 x 16 pixels (+0.38 kMAC/px). A probe, not a layer of
    the shipped model."""

    def __init__(self, g_s: nn.Module, channels: int):
        super().__init__()
        self.g_s = g_s
        self.basis = nn.Conv2d(channels, 3 * 256, 1)
        nn.init.zeros_(self.basis.weight)
        nn.init.zeros_(self.basis.bias)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.g_s(y) + F.pixel_shuffle(self.basis(y), 16)


class Bottleneck(nn.Module):
    """``ReLU(x + 1x1(ReLU(3x3(ReLU(1x1(x))))))`` with the last 1x1 zero-initialised (the identity on a ReLU output
    until trained): dense 1x1 and 3x3 convolutions only, which every backend already runs."""

    def __init__(self, channels: int, width: int):
        super().__init__()
        self.reduce = nn.Conv2d(channels, width, 1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.expand = nn.Conv2d(width, channels, 1)
        nn.init.zeros_(self.expand.weight)
        nn.init.zeros_(self.expand.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.expand(F.relu(self.mid(F.relu(self.reduce(x))))))


def grow(model: EdgeCodecModel, kind: str) -> float:
    """Adds a function-preserving probe to ``g_s`` (``skip``: ``LinearSkip``; ``bottleneck``: two ``Bottleneck``
    blocks of width 24 on the 48 channels at 1/2 resolution, before the last upsampler). Returns the added decoder
    cost in kMAC per pixel."""
    if kind == "skip":
        channels = model.g_s.up1.conv.in_channels
        model.g_s = LinearSkip(model.g_s, channels)
        return channels * 3 * 256 / 256 / 1000
    if kind == "bottleneck":
        c = model.g_s.up4.conv.in_channels
        model.g_s.up4.conv = nn.Sequential(Bottleneck(c, 24), Bottleneck(c, 24), model.g_s.up4.conv)
        return 2 * (c * 24 + 9 * 24 * 24 + 24 * c) / 4 / 1000
    raise ValueError(f"unknown growth {kind!r} (skip, bottleneck)")


def finetune(model: EdgeCodecModel, batches: Callable[[], torch.Tensor], level: int, steps: int, lr: float = 1e-4,
             every: int = 100, check: Callable[[int, float], None] | None = None) -> list[float]:
    """Trains ``g_a`` and ``g_s`` alone on MSE at ``level``'s rounding (straight through), with no rate term, for
    ``steps`` steps of Adam; every other parameter stays as it is. Calls ``check(step, mean training MSE of the last
    every steps)`` every ``every`` steps. Returns the training loss of every step."""
    params = list(model.g_a.parameters()) + list(model.g_s.parameters())
    frozen = [p for p in model.parameters() if all(p is not q for q in params)]
    for p in frozen:
        p.requires_grad_(False)
    opt = torch.optim.Adam(params, lr=lr)
    losses = []
    try:
        for i in range(1, steps + 1):
            model.train()
            gain, igain = _gains(model, level, 1.0)
            x = batches()
            loss = F.mse_loss(model.g_s(ste_round(model.g_a(x) * gain) * igain), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss))
            if check is not None and i % every == 0:
                check(i, sum(losses[-every:]) / every)
    finally:
        for p in frozen:
            p.requires_grad_(True)
    return losses


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", type=Path, nargs="+", help="compact, run (last.pt) or average (ema.pt) checkpoints")
    ap.add_argument("--level", type=int, default=-1, help="quality level for --gains and --finetune (default: the top)")
    ap.add_argument("--gains", default="", help="comma-separated gain factors: the precision ceiling at --level")
    ap.add_argument("--deadzone", default="", help="comma-separated dead zones: BD-rate over all levels vs rounding")
    ap.add_argument("--finetune", type=int, default=0, help="steps of the distortion-only capacity probe")
    ap.add_argument("--grow", choices=("skip", "bottleneck"), help="add a zero-initialised probe to g_s before --finetune")
    data.add_probe_arguments(ap, lr=1e-4, every=100)
    args = ap.parse_args(argv)
    train_files, crops = data.probe_setup(args)
    for path in args.checkpoints:
        model, step = load_model(path)
        level = args.level % len(model.lambdas)
        print(f"{path}: step {step}, synthesis {model.g_s.variant}, unquantised ceiling {ceiling(model, crops):.2f} dB")
        for f in [float(v) for v in args.gains.split(",") if v]:
            bpp, psnr = coded(model, crops, level, f)
            print(f"  level {level}, gain x{f:g}: {bpp:.4f} bpp, {psnr:.2f} dB")
        zones = [float(v) for v in args.deadzone.split(",") if v]
        if zones:
            from .valbd import bd_rate
            levels = range(len(model.lambdas))
            plain = [coded(model, crops, q) for q in levels]
            for dz in zones:
                curve = [coded(model, crops, q, deadzone=dz) for q in levels]
                cells = "; ".join(f"{b:.4f}:{p:.2f}" for b, p in curve)
                print(f"  dead zone {dz:g}: {cells}; BD-rate vs rounding {bd_rate(plain, curve):+.2f} %")
        if args.finetune:
            if args.grow:
                print(f"  g_s grown by a {args.grow} probe: +{grow(model, args.grow):.2f} kMAC/px")
            sampler = data.CropSampler(train_files, args.patch, args.seed)
            start = time.time()

            def check(i: int, train_mse: float) -> None:
                bpp, psnr = coded(model, crops, level)
                print(f"  distortion only, step {i}: level {level} {bpp:.4f} bpp, {psnr:.2f} dB; training crops "
                      f"{10 * math.log10(1 / train_mse):.2f} dB over the last {args.every} steps "
                      f"({(time.time() - start) / i:.1f} s/step)", flush=True)

            bpp, psnr = coded(model, crops, level)
            print(f"  distortion only, step 0: level {level} {bpp:.4f} bpp, {psnr:.2f} dB", flush=True)
            finetune(model, lambda: sampler.batch(args.batch), level, args.finetune, args.lr, args.every, check)


if __name__ == "__main__":
    main()
