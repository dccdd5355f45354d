"""Validation rows of saved checkpoints, offline: what the training log's ``val`` column would say for them.

    python3 -m training.valck /tmp/a.pt /tmp/b.pt                     # 256² validation crops, each coded whole
    python3 -m training.valck /tmp/a.pt /tmp/b.pt --size 512 --tile 16  # 512² crops in 256-px entropy tiles

Each checkpoint (compact, run ``last.pt`` or average ``ema.pt``) is validated the way ``train`` validates: hard
rounding, estimated rates, and (unless ``--float``; the main line trains with ``--qat-*``) the synthesis and entropy
path in fake quant at ranges calibrated on the export's calibration crops. It prints one ``bpp:psnr`` row per checkpoint
and the BD-rate of every checkpoint against the first. Use it for rows the log does not have, e.g. an A/B arm's
weight average in entropy tiles.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from . import data, qat, valbd
from .train import holds_whole_tiles, load_model, validate, validate_tiled


def rows(paths: list[Path], size: int = 256, tile: int | None = None, quantised: bool = True,
         files: list[Path] | None = None) -> list[tuple[int, list[tuple[float, float]]]]:
    """(step, [(bpp, psnr) per level]) per checkpoint, on ``size``² centre crops of ``files`` (the validation photos)."""
    if files is None:
        _, files = data.list_images(data.default_dirs())
    crops = data.center_crops(files, size)
    if tile and not holds_whole_tiles(crops, tile):
        raise SystemExit(f"--tile {tile}: {size}-px crops do not hold whole {16 * tile}-px tiles")
    calibration = qat.calibration_crops() if quantised else None
    out = []
    for path in paths:
        model, step = load_model(path)
        if calibration is not None:
            qat.enable(model, calibration, synthesis=True, entropy=True)
        out.append((step, validate_tiled(model, crops, tile) if tile else validate(model, crops)))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", type=Path, nargs="+")
    ap.add_argument("--size", type=int, default=256, help="side of the validation centre crops")
    ap.add_argument("--tile", type=int, default=0, help="entropy tile side in latents (16 = 256 px; 0 = whole crop)")
    ap.add_argument("--float", dest="quantised", action="store_false",
                    help="float synthesis and entropy path (default: fake quant, as --qat-* training validates)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = rows(args.checkpoints, args.size, args.tile or None, args.quantised)
    for path, (step, points) in zip(args.checkpoints, results):
        print(f"{path} (step {step}): {valbd.text(points)}")
    anchor = results[0][1]
    for path, (_, points) in zip(args.checkpoints[1:], results[1:]):
        print(f"{path} vs {args.checkpoints[0]}: {valbd.bd_rate(anchor, points):+.2f} % BD-rate")


if __name__ == "__main__":
    main()
