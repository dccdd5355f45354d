"""Probe: what would per-quality-level synthesis constants buy? (docs/training.md, "Per-level synthesis, probed")

    python3 -m training.levelfilm --pack models/edgecodec-hp-<hash>.ecpack --checkpoint <the pack's checkpoint> \
        --levels 0 3 5 --steps 300
    python3 -m training.levelfilm --pack ... --checkpoint ... --levels 5 3 --steps 150 --batch 2 --patch 256 \
        --per-image 2      # one FiLM per picture: what a FiLM sent with each picture could buy at most

The shipped model shares one synthesis across its quality levels; only the latent gain vectors differ (Cui et al.
2021). A FiLM (per-channel scale and shift of every synthesis conv, the adapters' form, docs/adapters.md) selected
by the quality level would cost nothing at decode time: the engine would pick the level's bias/mult/shift as it
picks an adapter's. This probe trains, with the pack frozen and through its int8 fake-quant synthesis, one FiLM per
listed level on that level only (arm L), and one shared FiLM on all levels with the same number of steps per level
(arm S, the control: it is what a photo-domain adapter already does and measures ~0). Both are judged on the
held-out validation photos' 512² centre crops (training images only for training; Kodak is never used), as the dB
gained over the frozen pack's int8 picture per level; rates do not change (the bits are the same).
"""
from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch

from . import data, qat
from .adapters import LAYERS, Film, crop_batch, frozen_model_of_pack, latents, read_pack


def films_for(model) -> dict[str, Film]:
    return {out: Film(model.g_s.get_submodule(path).out_channels) for out, path, _ in LAYERS}


def train_film(model, fq, images, levels: list[int], steps: int, batch: int, patch: int, lr: float,
               seed: int) -> dict[str, Film]:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    films = films_for(model)
    opt = torch.optim.Adam([p for f in films.values() for p in f.parameters()], lr=lr)
    for it in range(1, steps + 1):
        x = crop_batch(images, rng, batch, patch)
        q = torch.tensor([levels[rng.randrange(len(levels))] for _ in range(batch)])
        y = latents(model, x, q)
        mse = ((fq(model.g_s, y, films) - x) ** 2).mean(dim=(1, 2, 3))
        loss = torch.log(mse + 1e-8).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return films


@torch.no_grad()
def gain_db(model, fq, crops, level: int, films) -> tuple[float, float]:
    """(base PSNR, adapted minus base) in dB, mean over the crops."""
    base, delta = [], []
    for x in crops:
        x = x.unsqueeze(0)
        y = latents(model, x, torch.tensor([level]))
        m0 = float(((fq(model.g_s, y) - x) ** 2).mean())
        m1 = float(((fq(model.g_s, y, films) - x) ** 2).mean())
        base.append(-10 * torch.log10(torch.tensor(m0)).item())
        delta.append(10 * torch.log10(torch.tensor(m0 / m1)).item())
    return sum(base) / len(base), sum(delta) / len(delta)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--levels", type=int, nargs="+", default=[0, 3, 5])
    ap.add_argument("--steps", type=int, default=300, help="steps per level (arm S gets steps x levels)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--size", type=int, default=512, help="side of the validation centre crops")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-image", type=int, default=0, metavar="N",
                    help="instead: fit one FiLM to each of the first N validation crops alone, at each level, and "
                         "report the gain on that crop (an upper bound for a FiLM sent with each picture)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    manifest, _, _ = read_pack(args.pack)
    model = frozen_model_of_pack(manifest, args.checkpoint)
    fq = qat.SynthesisFakeQuant.from_activation_scales(manifest["activation_scales"], model.g_s.plan)
    train_files, val_files = data.list_images(data.default_dirs())
    images = [data.load_rgb(f).float() / 255.0 for f in train_files]
    crops = data.center_crops(val_files, args.size)
    print(f"{len(images)} training images, {len(crops)} validation crops of {args.size}²", flush=True)

    t0 = time.time()
    if args.per_image:
        for i, crop in enumerate(crops[: args.per_image]):
            for level in args.levels:
                film = train_film(model, fq, [crop], [level], args.steps, args.batch, args.patch, args.lr, args.seed + i)
                base, gain = gain_db(model, fq, [crop], level, film)
                print(f"crop {i}, level {level}: pack int8 {base:.2f} dB, its own FiLM {gain:+.3f} dB "
                      f"({time.time() - t0:.0f} s)", flush=True)
        return
    shared = train_film(model, fq, images, args.levels, args.steps * len(args.levels), args.batch, args.patch,
                        args.lr, args.seed)
    print(f"arm S trained ({time.time() - t0:.0f} s)", flush=True)
    print("| level | pack int8 PSNR | arm S (shared) | arm L (this level only) |")
    print("|---|---|---|---|")
    for level in args.levels:
        own = train_film(model, fq, images, [level], args.steps, args.batch, args.patch, args.lr, args.seed + 1 + level)
        base, ds = gain_db(model, fq, crops, level, shared)
        _, dl = gain_db(model, fq, crops, level, own)
        print(f"| {level} | {base:.2f} dB | {ds:+.3f} dB | {dl:+.3f} dB |  ({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
