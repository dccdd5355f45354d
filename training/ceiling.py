"""The transforms' PSNR ceiling: how well ``g_s(g_a(x))`` reproduces the validation photos with no quantisation.

    python3 -m training.ceiling training/runs/main/last.pt training/runs/signed/last.pt

No bit budget can buy more than this (docs/training.md, "Where the model is limited"): it measures what the
analysis/synthesis pair can express, apart from how the entropy model spends bits. The gain and inverse gain of a
quality level cancel without quantisation, so one figure serves all levels. Measured on the 512² centre crops of the
validation photos, as the diagnosis of session 4 was.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch

from . import data
from .model import EdgeCodecModel
from .train import load_weights


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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", type=Path, nargs="+", help="compact, run (last.pt) or average (ema.pt) checkpoints")
    ap.add_argument("--size", type=int, default=512, help="side of the validation centre crops")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    _, val_files = data.list_images(data.default_dirs())
    crops = data.center_crops(val_files, args.size)
    for path in args.checkpoints:
        model = EdgeCodecModel()
        step = load_weights(model, path)
        print(f"{path}: step {step}, synthesis {model.g_s.variant}, ceiling {ceiling(model, crops):.2f} dB")


if __name__ == "__main__":
    main()
