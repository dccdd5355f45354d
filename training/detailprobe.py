"""What a second, 1/4-resolution "detail" latent would buy at the top of the rate range (an estimate, not a format).

    python3 -m training.detailprobe --steps 600          # from the compact training checkpoint

The model saturates at high rates: on Kodak quality 4 -> 5 adds +0.31 dB for +31 % rate, and WebP's lead grows from
~0.6 dB at 0.16 bpp to ~2.9 dB at 0.63 bpp (docs/benchmarks.md). The validation crops show the same slope on training
photos (0.56 dB per doubling of rate at the top), so it is capacity, not over-fitting: everything the decoder can draw
comes through 128 channels at 1/16 resolution. This probe adds a small second latent ``d`` at 1/4 resolution (``--ch``
channels, encoded from the picture and what the base layers' reconstruction misses, per-level gains, a factorized prior like z's, so its entropy path needs no new kind of integer model) that
g_s adds into the pre-activation of its first 1/4-resolution layer through a zero-initialised 1x1 conv (``--ch`` x 64
MACs per 1/16 pixel: 0.03 kMAC/px at 8 channels). A format would code it as a refinement layer after the y groups, so
a stream prefix still decodes (missing: zeros).

Both arms start from the same weights and fine-tune g_s (``--lr``) on the same crops with everything else frozen and
the float entropy path; arm ``detail`` also trains the detail encoder, the gains, the prior and the injection
(``--detail-lr``). Prints validation (bpp, PSNR) per level (256² crops, hard rounding) and the BD-rate of detail
against control.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .ctxprobe import probe_arm
from .model import EdgeCodecModel, EntropyBottleneck, conv, ste_round
from .train import DEFAULT_COMPACT
from .valbd import bd_rate, text


class Detail(nn.Module):
    """The probe's detail branch: encoder (x -> d at 1/4), per-level gains, factorized prior, injection (d -> 64)."""

    def __init__(self, levels: int, ch: int, width: int = 64, target: int = 64, gain: float = 32.0):
        super().__init__()
        self.enc = nn.Sequential(conv(6, width, 5, 2), nn.LeakyReLU(0.01), conv(width, width, 5, 2), nn.LeakyReLU(0.01),
                                 conv(width, width, 3), nn.LeakyReLU(0.01), conv(width, ch, 3))
        # The same gain at every level to start with (a 600-step probe has no time to grow d out of the quantisation
        # noise: with small d the injection only ever sees noise and learns nothing, measured).
        # The inverse gain starts at 1, not 1/gain: the injected values are then O(1), and Adam's steps on the
        # zero-initialised 1x1 conv move it at a useful rate (with 1/32 a 300-step run learned nothing, measured).
        self.log_gain = nn.Parameter(torch.full((levels, ch), math.log(gain)))
        self.log_igain = nn.Parameter(torch.zeros(levels, ch))
        self.prior = EntropyBottleneck(ch, init_scale=4.0)
        self.inject = nn.Conv2d(ch, target, 1)
        nn.init.zeros_(self.inject.weight)
        nn.init.zeros_(self.inject.bias)

    def code(self, x: torch.Tensor, base: torch.Tensor, q: torch.Tensor, hard: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(bits, what g_s adds at 1/4 resolution). In training the decoder sees the noisy latent too (not straight-
        through rounding as for y): at the start every d rounds to 0 and the zero injection would pass no gradient."""
        d = self.enc(torch.cat([x, x - base], dim=1)) * torch.exp(self.log_gain[q])[:, :, None, None]
        noisy = torch.round(d) if hard else d + torch.empty_like(d).uniform_(-0.5, 0.5)
        bits = (-torch.log2(self.prior.likelihood(noisy))).sum()
        return bits, self.inject(noisy * torch.exp(self.log_igain[q])[:, :, None, None])


def forward(model: EdgeCodecModel, detail: Detail | None, x: torch.Tensor, q: torch.Tensor, hard: bool) -> dict:
    """``model.forward`` (float entropy path, no tail-drop), with the detail branch added into g_s's a4 when given."""
    out = model(x, q, hard=hard) if detail is None else None
    if out is not None:
        return out
    gain = torch.exp(model.log_gain[q])[:, :, None, None]
    igain = torch.exp(model.log_igain[q])[:, :, None, None]
    y = model.g_a(x) * gain
    z = model.h_a(y)
    z_lik = model.entropy_bottleneck.likelihood(model._perturb(z, hard))
    hyper = model.hyper(ste_round(z))
    y_bits, prev = model.code_groups(hyper, y, lambda r: (model._perturb(r, hard), ste_round(r)))
    y_hat = torch.cat(prev, dim=1) * igain
    with torch.no_grad():  # the encoder sees what the base layers miss (it can run the decoder)
        base = model.g_s(y_hat)
    d_bits, add = detail.code(x, base, q, hard)

    def conv_fn(step, layer, v):
        out = layer(v)
        return out if step.out != "a4" else out + F.pixel_unshuffle(add, step.d2s)

    x_hat = model.g_s.walk(y_hat, conv_fn=conv_fn)["rgb"]
    return {"x_hat": x_hat, "y_bits": y_bits + d_bits, "z_bits": (-torch.log2(z_lik)).sum(), "d_bits": d_bits}


def finetune(checkpoint: Path, ch: int, steps: int, seed: int, lr: float, detail_lr: float, patch: int,
             free: bool = False):
    torch.manual_seed(seed)
    return probe_arm(checkpoint, lambda m: m.g_s.parameters(), lambda m: Detail(len(m.lambdas), ch) if ch else None,
                     forward, (lr, detail_lr), steps, seed, f"detail{ch}" if ch else "control", patch,
                     extra_bits=(lambda out: out["d_bits"]) if free and ch else None,
                     note=(lambda out, x: f" detail bpp {float(out['d_bits']) / x[:, 0].numel():.4f}") if ch else None)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_COMPACT)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--ch", type=int, default=8, help="detail latent channels at 1/4 resolution")
    ap.add_argument("--patch", type=int, default=192)
    ap.add_argument("--lr", type=float, default=2.5e-5, help="g_s, both arms")
    ap.add_argument("--detail-lr", type=float, default=1e-3, help="the detail branch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--free", action="store_true",
                    help="diagnosis: the detail latent's rate is left out of the loss (how much can it carry at all?)")
    ap.add_argument("--no-control", action="store_true", help="skip the control arm")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = {}
    for ch in ((args.ch,) if args.no_control else (0, args.ch)):
        rows[ch] = finetune(args.checkpoint, ch, args.steps, args.seed, args.lr, args.detail_lr, args.patch, args.free)
        print(("control" if ch == 0 else f"detail{ch}") + " " + text(rows[ch]), flush=True)
    if 0 in rows:
        print(f"detail vs control: {bd_rate(rows[0], rows[args.ch]):+.2f} % BD-rate")


if __name__ == "__main__":
    main()
