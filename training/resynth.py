"""Move a training run from the relu-mid synthesis to the signed-mid one (model.SYNTH_PLANS).

    python3 -m training.resynth --checkpoint training/runs/main/last.pt            # report the change's cost only
    python3 -m training.resynth --checkpoint training/runs/main/last.pt --apply    # rewrite the run's checkpoint

In relu-mid, the 1/8-resolution residual is ``a1 + ReLU(mid(a1))``: it can only add, and most of its units die
(docs/training.md, "Dormant units"). In signed-mid it is ``ReLU(a1 + mid(a1))``, like ``res4``. The weights carry
over; a dormant unit's weights and bias are zeroed, so it adds exactly nothing in the new order either, as it did in
the old. A live unit's output is the same wherever it was positive; where it was negative it now subtracts
(``--live zero``, the default, zeroes the live units too: the +5.5 % of dropping the branch, which training won
back within ~1,000 steps; ``--live keep`` cost 5 dB at step 74,000, the flipped negatives are not small). Adam's moments of ``g_s.mid`` are
cleared (they belong to the other function), and the weight average restarts at the converted weights.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from . import data, qat, valbd
from .model import EdgeCodecModel
from .revive import activity, load_run, state_index
from .train import REPO, append_row, validate

SOURCE, TARGET = "relu-mid", "signed-mid"


@torch.no_grad()
def convert(model: EdgeCodecModel, active: torch.Tensor, threshold: float, live: str) -> list[int]:
    """Switches ``model`` (relu-mid) to signed-mid. ``active`` is the fraction of pixels on which each ``g_s.mid``
    unit's ReLU was positive (``revive.activity``); units below ``threshold``, and with ``live == "zero"`` all
    units, get zero weights and bias. Returns the zeroed channels."""
    if model.g_s.variant != SOURCE:
        raise ValueError(f"the model's synthesis is {model.g_s.variant}, not {SOURCE}")
    if live not in ("keep", "zero"):
        raise ValueError(f"live must be keep or zero, not {live!r}")
    mid = model.g_s.mid
    zeroed = list(range(mid.out_channels)) if live == "zero" else (active < threshold).nonzero().flatten().tolist()
    mid.weight[zeroed] = 0.0
    mid.bias[zeroed] = 0.0
    model.g_s.variant = TARGET
    return zeroed


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "training" / "runs" / "main" / "last.pt",
                    help="a training run's checkpoint (weights, optimizer, average)")
    ap.add_argument("--threshold", type=float, default=0.001, help="dormant below this fraction of positive pixels")
    ap.add_argument("--live", choices=("keep", "zero"), default="zero",
                    help="what happens to the live units (keep measured -5 dB at step 74,000: zero is the default)")
    ap.add_argument("--apply", action="store_true", help="rewrite the checkpoint (else report only)")
    ap.add_argument("--log", type=Path, default=REPO / "training" / "logs" / "resynth.csv")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    ck, model = load_run(args.checkpoint, "resynth")
    if model.g_s.variant != SOURCE:
        raise SystemExit(f"{args.checkpoint} already has the {model.g_s.variant} synthesis")
    active = activity(model, qat.calibration_crops())["g_s.mid"]
    _, val_files = data.list_images(data.default_dirs())
    val = data.center_crops(val_files, 256)
    before = validate(model, val)
    zeroed = convert(model, active, args.threshold, args.live)
    after = validate(model, val)
    print("validation (float, hard rounding) before:", valbd.text(before))
    print("validation (float, hard rounding) after: ", valbd.text(after))
    try:
        change = f"{valbd.bd_rate(before, after):+.2f} %"
    except ValueError as e:  # the curves no longer overlap
        change = str(e)
    print(f"{SOURCE} -> {TARGET}: {len(zeroed)} of {model.g_s.mid.out_channels} units of g_s.mid zeroed "
          f"(live units: {args.live}); BD-rate of the change: {change}")
    if not args.apply:
        return
    ck["model"] = model.state_dict()
    ck["synthesis"] = TARGET
    index = state_index(model)
    for name in ("g_s.mid.weight", "g_s.mid.bias"):
        ck["opt"]["state"].pop(index[name], None)  # Adam starts this layer's moments (and step count) afresh
    ck["ema"], ck["ema_since"] = None, None
    ck.setdefault("resynth", []).append({"step": int(ck["step"]), "from": SOURCE, "to": TARGET, "live": args.live,
                                         "zeroed": zeroed})
    tmp = args.checkpoint.with_suffix(".tmp")
    torch.save(ck, tmp)
    tmp.replace(args.checkpoint)
    append_row(args.log, ["time", "step", "from", "to", "live", "zeroed", "val_before", "val_after"],
               [int(time.time()), int(ck["step"]), SOURCE, TARGET, args.live, len(zeroed), valbd.text(before),
                valbd.text(after)])
    print(f"rewrote {args.checkpoint} at step {ck['step']} ({TARGET})")


if __name__ == "__main__":
    main()
