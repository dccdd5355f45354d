"""Synthesis architectures compared at fixed latents (docs/training.md, "Synthesis per multiply-add").

    python3 -m training.synthprobe cache --teacher CHECKPOINT --crops 3000 --out /tmp/synth-cache.pt
    python3 -m training.synthprobe train --cache /tmp/synth-cache.pt --arch bneck64 --steps 8000 --threads 1 \\
        --run-dir training/runs/synth-bneck64 --log training/logs/synthprobe-bneck64.csv

The limit at the top of the curve is the synthesis' capacity at the decoder budget ("The limit, measured again"), so
the next lever is a synthesis that does more per multiply-add. A full A/B of one costs thousands of training steps of
both arms; this probe filters candidates first, at a fraction of that cost:

* ``cache``: the teacher (a trained checkpoint, frozen) codes training crops and the validation photos' centre crops
  at every quality level with hard rounding, through its float entropy path, and stores what its decoder's synthesis
  receives, ``s = y_hat * inverse gain`` (float16), next to the pictures (uint8). Crops and levels come from
  ``--seed``; each crop gets one level, drawn uniformly.
* ``train``: a synthesis of architecture ``--arch`` (``ARCHS``), from scratch, learns ``s -> x`` on mean squared error
  alone (Adam, ``--lr``); with ``--warm`` it starts from the teacher's layers up to 1/4 resolution (``FRONT``, which
  the candidates share with the shipped synthesis) and learns the rest, which is where the candidates differ. Arms that read one cache with one ``--seed`` see the same batches in the same order, so
  their validation PSNRs compare architectures at equal steps. Each validation row also carries the teacher's own
  synthesis on the same latents: where a converged decoder of the current architecture stands.

A student that learns faster here is only a candidate: the probe starts from scratch and the latents stay the
teacher's, so it ranks learning speed at equal steps, not converged quality. ``train`` checkpoints its run directory
every ``--save-every`` steps and on SIGTERM, and resumes from it.
"""
from __future__ import annotations

import argparse
import csv
import math
import random
import signal
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data
from .model import EdgeCodecModel, Synthesis, conv, counted_conv_macs
from .train import load_model


class BottleneckBlock(nn.Module):
    """ReLU(x + 1x1(ReLU(3x3(ReLU(1x1(x)))))): a residual block that spends its 3x3 on ``hidden`` channels."""

    def __init__(self, ch: int, hidden: int):
        super().__init__()
        self.reduce = conv(ch, hidden, 1)
        self.mid = conv(hidden, hidden, 3)
        self.expand = conv(hidden, ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(x + self.expand(F.relu(self.mid(F.relu(self.reduce(x))))))


class ShippedFront(nn.Module):
    """The shipped synthesis' layers down to 1/4 resolution, which the candidates keep (and ``warm_front`` copies):
    1/16 -> 1/8 upsampler, the signed 1/8 residual, 1/8 -> 1/4 upsampler."""

    def __init__(self, m: int, n1: int, n2: int):
        super().__init__()
        self.up1 = conv(m, n1 * 4, 3)
        self.mid = conv(n1, n1, 3)
        self.up2 = conv(n1, n2 * 4, 3)

    def front(self, s: torch.Tensor) -> torch.Tensor:
        """The 1/4-resolution activation after the upsampler (before any 1/4 residual)."""
        a1 = F.relu(F.pixel_shuffle(self.up1(s), 2))
        a3 = F.relu(a1 + self.mid(a1))
        return F.relu(F.pixel_shuffle(self.up2(a3), 2))


class BottleneckSynthesis(ShippedFront):
    """The shipped front (``ShippedFront``), then a bottleneck block at 1/4 in place of the dense 3x3 residual, a 1x1
    upsampler to 1/2 in place of the 3x3 one (the 64 -> 4*48 3x3 at 1/4 is 6.9 of the 17.0 kMAC/px), ``blocks``
    bottleneck blocks at 1/2 on ``n3`` channels, and the 3x3 upsampler to RGB. Only dense 1x1 and 3x3 convolutions,
    ReLU, adds and depth-to-space: every backend's integer engine runs it as it is."""

    def __init__(self, m: int, n1: int = 96, n2: int = 64, n3: int = 64, blocks: int = 2):
        super().__init__(m, n1, n2)
        self.res4 = BottleneckBlock(n2, n2 // 2)
        self.up3 = conv(n2, n3 * 4, 1)
        self.at_half = nn.Sequential(*(BottleneckBlock(n3, n3 // 2) for _ in range(blocks)))
        self.up4 = conv(n3, 12, 3)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        a4 = self.res4(self.front(s))
        a5 = self.at_half(F.relu(F.pixel_shuffle(self.up3(a4), 2)))
        return F.pixel_shuffle(self.up4(a5), 2)


class HalfResidualSynthesis(ShippedFront):
    """The current synthesis with its 1/4 -> 1/2 upsampler made 1x1 and the 3x3 moved to a signed residual at 1/2
    resolution, ReLU(a5 + 3x3(a5)): the same receptive field, one more non-linearity at the higher resolution."""

    def __init__(self, m: int, n1: int = 96, n2: int = 64, n3: int = 48):
        super().__init__(m, n1, n2)
        self.res4 = conv(n2, n2, 3)
        self.up3 = conv(n2, n3 * 4, 1)
        self.res2 = conv(n3, n3, 3)
        self.up4 = conv(n3, 12, 3)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        a4 = self.front(s)
        a4 = F.relu(a4 + self.res4(a4))
        a5 = F.relu(F.pixel_shuffle(self.up3(a4), 2))
        a5 = F.relu(a5 + self.res2(a5))
        return F.pixel_shuffle(self.up4(a5), 2)


# name -> constructor taking the latent's channel count. "control" is the shipped architecture, freshly initialised.
ARCHS = {
    "control": lambda m: Synthesis(m),
    "half": lambda m: HalfResidualSynthesis(m),
    "bneck64": lambda m: BottleneckSynthesis(m, n3=64, blocks=2),
    # The shipped layers with width moved from 1/8 (96 -> 76 channels) to 1/4 resolution (64 -> 72): 17.25 kMAC/px.
    "quarter": lambda m: Synthesis(m, n1=76, n2=72),
}


def kmac_per_pixel(net: nn.Module, m: int, side: int = 256) -> float:
    """Multiply-adds of every convolution per output pixel, in thousands (measured on a ``side``² picture)."""
    macs = counted_conv_macs((net,), lambda: net(torch.zeros(1, m, side // 16, side // 16)))
    return macs / (side * side) / 1000


@torch.no_grad()
def decoded_latents(model: EdgeCodecModel, x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """What the teacher's synthesis receives for ``x`` at levels ``q``: ``y_hat * inverse gain``, hard rounding."""
    gain = torch.exp(model.log_gain[q])[:, :, None, None]
    igain = torch.exp(model.log_igain[q])[:, :, None, None]
    y = model.g_a(x) * gain
    hyper = model.hyper(torch.round(model.h_a(y)))
    _, prev = model.code_groups(hyper, y, lambda r: (torch.round(r), torch.round(r)))
    return torch.cat(prev, dim=1) * igain


def build_cache(model: EdgeCodecModel, train_files: list[Path], val_crops: list[torch.Tensor], crops: int, patch: int,
                seed: int, chunk: int = 8) -> dict:
    """Training crops with one random level each, and every validation crop at every level, with their latents."""
    model.eval()
    levels = len(model.lambdas)
    sampler = data.CropSampler(train_files, patch, seed=seed)
    rng = random.Random(seed)
    xs, ss, qs = [], [], []
    for start in range(0, crops, chunk):
        x = sampler.batch(min(chunk, crops - start))
        q = torch.tensor([rng.randrange(levels) for _ in range(x.shape[0])])
        ss.append(decoded_latents(model, x, q).half())
        xs.append((x * 255).round().to(torch.uint8))
        qs.append(q)
    val_x = torch.stack(val_crops)
    val_s = [decoded_latents(model, val_x, torch.full((len(val_crops),), k)).half() for k in range(levels)]
    return {"x": torch.cat(xs), "s": torch.cat(ss), "q": torch.cat(qs), "val_x": (val_x * 255).round().to(torch.uint8),
            "val_s": torch.stack(val_s), "m": model.m, "levels": levels, "seed": seed,
            "teacher_synthesis": {"variant": model.g_s.variant, "state": model.g_s.state_dict()}}


def teacher_synthesis(cache: dict) -> Synthesis:
    """The teacher's own synthesis (float), as the cache recorded it."""
    net = Synthesis(cache["m"], variant=cache["teacher_synthesis"]["variant"])
    net.load_state_dict(cache["teacher_synthesis"]["state"])
    return net


@torch.no_grad()
def validate(net: nn.Module, cache: dict) -> list[float]:
    """PSNR (dB, peak 1) per level over all validation crops' pixels together."""
    net.eval()
    x = cache["val_x"].float() / 255
    out = []
    for s in cache["val_s"]:
        se = float(((net(s.float()).clamp(0, 1) - x) ** 2).sum())
        out.append(10 * math.log10(x.numel() / se))
    net.train()
    return out


# The layers every architecture shares with the shipped synthesis, up to 1/4 resolution (the "front"): 1/16 -> 1/8
# upsampler, 1/8 residual, 1/8 -> 1/4 upsampler and, where a candidate keeps it, the 1/4 residual.
FRONT = ("up1", "mid", "up2", "res4")


def warm_front(net: nn.Module, teacher: Synthesis) -> list[str]:
    """Copies the teacher's front layers (``FRONT``) into ``net`` wherever a layer of the same name and shape exists
    (the shipped synthesis wraps its upsamplers' convs in ``Up``: ``up1.conv.weight`` is ``up1.weight`` here).
    Returns the parameters copied."""
    own = net.state_dict()
    copied = []
    for name, value in teacher.state_dict().items():
        key = name.replace(".conv.", ".")
        target = name if name in own else key
        if name.split(".")[0] in FRONT and target in own and own[target].shape == value.shape:
            own[target] = value.clone()
            copied.append(target)
    net.load_state_dict(own)
    return copied


def train(cache: dict, arch: str, steps: int, run_dir: Path, log: Path, batch: int = 6, lr: float = 2e-4,
          every: int = 250, save_every: int = 500, seed: int = 0, warm: bool = False) -> list[float]:
    """Trains (or resumes) one arm to ``steps``; returns its last validation row (PSNR per level). The initial
    weights and every batch are functions of ``seed``: a stopped and resumed arm ends where an uninterrupted one does.
    With ``warm``, the arm starts with the teacher's front layers (``warm_front``) and learns the rest from scratch."""
    torch.manual_seed(seed)
    net = ARCHS[arch](cache["m"])
    if warm:
        warm_front(net, teacher_synthesis(cache))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    step = 0
    last = run_dir / "last.pt"
    if last.exists():
        ck = torch.load(last, map_location="cpu")
        if ck["arch"] != arch or ck.get("warm", False) != warm:
            raise ValueError(f"{last} holds arm {ck['arch']}{' (warm)' if ck.get('warm') else ''}, not this one")
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
    run_dir.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        tmp = last.with_suffix(".tmp")
        torch.save({"arch": arch, "warm": warm, "step": step, "net": net.state_dict(), "opt": opt.state_dict()}, tmp)
        tmp.replace(last)

    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    previous = signal.signal(signal.SIGTERM, on_term)
    teacher = teacher_synthesis(cache)
    reference = validate(teacher, cache)
    label = f"{arch}+front" if warm else arch
    kmac, teacher_kmac = kmac_per_pixel(net, cache["m"]), kmac_per_pixel(teacher, cache["m"])
    header = ["time", "step", "arch", "kmac_px", "train_mse", "psnr_mean"] + [f"psnr_q{k}" for k in range(cache["levels"])]
    levels = cache["levels"]
    n = cache["x"].shape[0]
    row = reference
    losses: list[float] = []
    try:
        while step < steps and not stop:
            # The batch of step t is a function of (seed, t) alone: arms and resumed runs see the same crops.
            pick = torch.randint(0, n, (batch,), generator=torch.Generator().manual_seed(seed * 1_000_003 + step))
            x = cache["x"][pick].float() / 255
            loss = F.mse_loss(net(cache["s"][pick].float()), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss))
            step += 1
            if step % every == 0 or step == steps:
                row = validate(net, cache)
                new = not log.exists()
                log.parent.mkdir(parents=True, exist_ok=True)
                with log.open("a", newline="") as f:
                    w = csv.writer(f)
                    if new:
                        w.writerow(header)
                        w.writerow([int(time.time()), 0, "teacher", f"{teacher_kmac:.3f}", "",
                                    f"{sum(reference) / levels:.3f}"] + [f"{v:.3f}" for v in reference])
                    w.writerow([int(time.time()), step, label, f"{kmac:.3f}",
                                f"{sum(losses) / len(losses):.6f}", f"{sum(row) / levels:.3f}"] + [f"{v:.3f}" for v in row])
                print(f"step {step} {label}: mse {sum(losses) / len(losses):.6f}, psnr {sum(row) / levels:.2f} dB "
                      f"(teacher {sum(reference) / levels:.2f})", flush=True)
                losses.clear()
            if step % save_every == 0:
                save()
    finally:
        save()
        signal.signal(signal.SIGTERM, previous)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cache", help="code training and validation crops with the teacher; store latents and pictures")
    c.add_argument("--teacher", type=Path, required=True)
    c.add_argument("--crops", type=int, default=3000)
    c.add_argument("--patch", type=int, default=192)
    c.add_argument("--val-size", type=int, default=512)
    c.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("train", help="train one architecture from scratch on a cache")
    t.add_argument("--cache", type=Path, required=True)
    t.add_argument("--arch", choices=sorted(ARCHS), required=True)
    t.add_argument("--steps", type=int, default=8000)
    t.add_argument("--batch", type=int, default=6)
    t.add_argument("--lr", type=float, default=2e-4)
    t.add_argument("--every", type=int, default=250)
    t.add_argument("--warm", action="store_true",
                   help="start from the teacher's front layers (up to 1/4 resolution) and learn the rest")
    t.add_argument("--run-dir", type=Path, required=True)
    t.add_argument("--log", type=Path, required=True)
    for p in (c, t):
        p.add_argument("--seed", type=int, default=11)
        p.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.command == "cache":
        model, step = load_model(args.teacher)
        train_files, val_files = data.list_images(data.default_dirs())
        cache = build_cache(model, train_files, data.center_crops(val_files, args.val_size), args.crops, args.patch, args.seed)
        cache["teacher"], cache["teacher_step"] = str(args.teacher), step
        torch.save(cache, args.out)
        print(f"cached {args.crops} crops and {len(val_files)} validation crops x {cache['levels']} levels from step {step}")
    else:
        cache = torch.load(args.cache, map_location="cpu")
        train(cache, args.arch, args.steps, args.run_dir, args.log, args.batch, args.lr, args.every, seed=args.seed,
              warm=args.warm)


if __name__ == "__main__":
    main()
