"""Fit the encoder to a frozen decoder: fine-tune g_a, h_a and the gains alone (a probe, not part of the export).

    python3 -m training.fit_encoder --steps 300 --out /tmp/fitted.pt --log /tmp/fit.csv
    python3 -m training.fit_encoder --part entropy ...   # the entropy model instead, the transforms frozen

In joint training the decoder moves at every step and the encoder chases it. Here every decoder-side weight is
frozen (``h_s``, the context models, ``g_s``, the inverse gains, the factorized prior), the decoder side runs as the
integer engine does (``qat``'s fake quant of the synthesis and of the entropy path), and only ``g_a``, ``h_a`` and the
gains (the encoder's side of the quality levels) train on the rate-distortion objective. Nothing a decoder runs
changes. The rate is that of the rounded latents with a straight-through gradient (``--rate ste``, the "hard" stage
of Guo et al. 2021, "Soft then Hard") or, as in training, of noisy latents (``--rate noise``); ``--without`` sets
residual blocks of the encoder to the identity first (what the encoder does without them).

``--part entropy`` fits the other side to the rate the bitstream really costs: ``h_a``, ``h_s``, the context models
and the factorized prior train on the rounded latents' rate (straight-through), with ``g_a``, ``g_s`` and the gains
frozen; the picture changes only where a context model's mean moves a latent's rounding. Joint training prices the
latents with noise, so the entropy model is fitted to the noisy latents' density, not to the symbols it codes.

Because the decoder does not change, the comparison is exact: the first validation row is the starting checkpoint,
and ``python3 -m training.valbd <start> <start + n> --log <log> --test-log <log>`` tells what the fitting bought.
Measured in session 13 (docs/training.md, "Fitting the encoder to its decoder"): from a checkpoint at a bad moment of
the joint run it buys 4-5 % within 100 steps, with either rate; from an ordinary one nothing. So it measures how far
a checkpoint's encoder is out of step with its decoder; the weight average (``train --ema``) is what the export uses.
"""
from __future__ import annotations

import argparse
import csv
import math
import random
import time
from pathlib import Path

import torch

from . import data, qat, valbd
from .model import EdgeCodecModel, ResidualBlock
from .train import DEFAULT_COMPACT, load_model, rd_loss, save_compact, validate

ENCODER_PREFIXES = ("g_a.", "h_a.", "log_gain")
ENTROPY_PREFIXES = ("h_a.", "h_s.", "context.", "entropy_bottleneck.")
PARTS = {"encoder": ENCODER_PREFIXES, "entropy": ENTROPY_PREFIXES}


def freeze_decoder(model: EdgeCodecModel, without: tuple[str, ...] = (), part: str = "encoder") -> list[torch.nn.Parameter]:
    """Freezes every parameter but the ``part``'s (``PARTS``: by default the encoder's, ``g_a``, ``h_a``, the gains);
    returns those. The residual blocks under the prefixes ``without`` are set to the identity (their last conv
    zeroed) and frozen."""
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, ResidualBlock) and (name + ".").startswith(tuple(without)):
                module.conv2.weight.zero_()
                module.conv2.bias.zero_()
    trainable = []
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(PARTS[part]) and not name.startswith(tuple(without)))
        if p.requires_grad:
            trainable.append(p)
    return trainable


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_COMPACT, help="compact checkpoint to start from")
    ap.add_argument("--out", type=Path, required=True, help="compact checkpoint to write (the starting step's number)")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--warmup", type=int, default=100, help="linear learning-rate ramp of the fresh optimizer")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--patch", type=int, default=192)
    ap.add_argument("--drop-prob", type=float, default=0.25, help="probability of a tail-drop term per step")
    ap.add_argument("--part", choices=tuple(PARTS), default="encoder",
                    help="what trains: the encoder (g_a, h_a, gains) against the frozen decoder, or the entropy model "
                         "(h_a, h_s, context models, factorized prior) against the frozen transforms")
    ap.add_argument("--rate", choices=("ste", "noise"), default="ste",
                    help="the rate the encoder trains on: of the rounded latents (straight-through), or of the noisy "
                         "ones as in training (a control: what encoder-only training buys without the hard rate)")
    ap.add_argument("--without", nargs="*", default=(), metavar="PREFIX",
                    help="residual blocks of the encoder to set to the identity and freeze (e.g. g_a.res16.: what the "
                         "encoder does without that block)")
    ap.add_argument("--val-every", type=int, default=100)
    ap.add_argument("--recalibrate-every", type=int, default=100,
                    help="re-measure the fake quant's ranges every N steps (the encoder moves the latents' ranges)")
    ap.add_argument("--calibration-crops", type=int, default=16, help="crops of the fake quant's calibration")
    ap.add_argument("--val-size", type=int, default=256, help="side of the validation crops")
    ap.add_argument("--log", type=Path, default=None, help="CSV of step, loss, bpp, psnr, val (valbd reads it)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    model, start = load_model(args.checkpoint)
    params = freeze_decoder(model, tuple(args.without), args.part)
    crops = qat.calibration_crops(args.calibration_crops)

    def recalibrate() -> None:
        with torch.no_grad():
            qat.enable(model, crops, synthesis=True, entropy=True)

    recalibrate()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    train_files, val_files = data.list_images(data.default_dirs())
    sampler = data.CropSampler(train_files, args.patch, args.seed)
    val_images = data.center_crops(val_files, args.val_size)
    opt = torch.optim.Adam(params, lr=args.lr)
    lambdas = torch.tensor(model.lambdas)
    nq = len(model.lambdas)

    log = None
    if args.log:
        args.log.parent.mkdir(parents=True, exist_ok=True)
        log = open(args.log, "w", newline="")
        writer = csv.writer(log)
        writer.writerow(["step", "loss", "bpp", "psnr", "val"])

    def row(step: int, loss: float, bpp: float, mse: float) -> list:
        val = validate(model, val_images)
        text = valbd.text(val)
        if log:
            writer.writerow([step, f"{loss:.4f}", f"{bpp:.4f}", f"{10 * math.log10(1 / mse):.2f}" if mse else "", text])
            log.flush()
        return val

    baseline = row(start, 0.0, 0.0, 0.0)
    print(f"step {start} (start): {baseline}", flush=True)
    acc = [0.0, 0.0, 0.0, 0]
    t0 = time.time()
    for i in range(1, args.steps + 1):
        x = sampler.batch(args.batch)
        q = torch.randint(0, nq, (x.shape[0],))
        drop = random.randint(1, model.groups - 1) if random.random() < args.drop_prob else None
        loss, bpp, mse_i, _ = rd_loss(model, x, q, drop, lambdas, hard="ste" if args.rate == "ste" else False)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        for group in opt.param_groups:
            group["lr"] = args.lr * min(1.0, i / max(1, args.warmup))
        opt.step()
        acc = [acc[0] + float(loss), acc[1] + float(bpp), acc[2] + float(mse_i.mean()), acc[3] + 1]
        if i % args.recalibrate_every == 0:
            recalibrate()
        if i % args.val_every == 0 or i == args.steps:
            n = acc[3]
            val = row(start + i, acc[0] / n, acc[1] / n, acc[2] / n)
            try:
                change = f"{valbd.bd_rate(baseline, val):+.2f} % BD-rate against the start"
            except ValueError as e:  # e.g. an untrained model's curves do not overlap
                change = f"no BD-rate against the start ({e})"
            print(f"fitted {i} steps ({(time.time() - t0) / i:.2f} s/step): {change}", flush=True)
            acc = [0.0, 0.0, 0.0, 0]
    save_compact(model, start, args.out)
    if log:
        log.close()
    print(f"wrote {args.out} (step {start}, {args.part} fitted {args.steps} steps)")


if __name__ == "__main__":
    main()
