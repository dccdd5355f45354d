"""The weight average that the committed compact checkpoint carries (``train.save_compact``'s ``carried``, since
session 41), written out as a compact checkpoint of its own: the file ``training/runs/main/ema.pt`` would be, so that
a release can export the average on a machine that has only the committed checkpoint.

    python3 -m training.average models/checkpoints/edgecodec-train.pt /tmp/ck.pt
    bash scripts/release-pack.sh /tmp/ck.pt /tmp/release-work
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

CARRIED = ("ema", "ema_since", "ema_decay")


def write_average(source: Path, target: Path) -> dict:
    """Writes ``source``'s carried average to ``target`` (the same record, the average as its weights and marked as
    such for the model card); returns the ``average`` marker. Raises ``ValueError`` if ``source`` carries none."""
    ck = torch.load(source, map_location="cpu")
    if ck.get("ema") is None or ck.get("ema_since") is None:
        raise ValueError(f"{source} carries no weight average (compact checkpoints carry one since session 41)")
    if ck["ema"].keys() - ck["weights"].keys():
        raise ValueError(f"{source}: its average has tensors its weights do not: {sorted(ck['ema'].keys() - ck['weights'].keys())[:3]}")
    record = {k: v for k, v in ck.items() if k not in CARRIED}
    # The average holds the floating-point tensors; integer buffers are the weights' own, as in ema.pt.
    record["weights"] = {k: ck["ema"].get(k, v) for k, v in ck["weights"].items()}
    record["average"] = {"decay": ck.get("ema_decay", 0.999), "since": ck["ema_since"]}
    tmp = target.with_suffix(".tmp")
    torch.save(record, tmp)
    os.replace(tmp, target)
    return record["average"]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", type=Path, help="a compact checkpoint (models/checkpoints/edgecodec-train.pt)")
    ap.add_argument("target", type=Path, help="where to write the average as a compact checkpoint")
    args = ap.parse_args(argv)
    marker = write_average(args.source, args.target)
    step = torch.load(args.target, map_location="cpu")["step"]
    print(f"wrote {args.target}: the weight average at step {step} (since {marker['since']}, decay {marker['decay']})")


if __name__ == "__main__":
    main()
