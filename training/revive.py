"""Revive dormant ReLU units of a trained model (ReDo: Sokar et al. 2023, "The Dormant Neuron Phenomenon in Deep
Reinforcement Learning").

    python3 -m training.revive --checkpoint training/runs/main/last.pt            # report only
    python3 -m training.revive --checkpoint training/runs/main/last.pt --apply    # rewrite the run's checkpoint

A ReLU unit whose input is negative on every pixel outputs zero and gets no gradient, so Adam never moves it again:
its multiply-adds are paid at every decode and buy nothing. A unit is dormant when it is positive on fewer than
``--threshold`` of the pixels of the export's calibration crops (training crops, never validation or Kodak) at every
quality level. Its incoming weights are drawn again and its bias set to zero, so it fires on about half of the
pixels and learns. Where its readers have free weights (``h_s``'s last conv, read only by the context models' first
1x1 convs), those are zeroed and the model computes exactly the same function, so the new weights get the spread of
the layer's live units. Where the unit's output joins a residual sum (``g_s.mid``, ``context.k.mid``), nothing can
hide it, so its new weights get ``--scale`` times that spread. At step 69,049, every layer at 0.01 cost +0.76 %
validation BD-rate; at step 67,500, ``g_s.mid`` alone cost +2.9 % at 0.03. Adam's moments of the redrawn weights
are cleared, and the weight average restarts at the revived weights (an average over dormant and revived weights is
neither).

Measured in session 14 (docs/training.md, "Dormant units"): 55 of the 96 channels of ``g_s.mid`` are dormant, and a
quarter to a third of each context model's ``mid``. Revived residual units die again within 450 steps, because those
branches can only add. The exactly revived ``h_s`` units stay alive. So the tool is a diagnostic, and the revival is
not part of the training recipe.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from . import data, qat, valbd
from .model import EdgeCodecModel, checkpoint_synthesis, load_state
from .train import REPO, append_row, parameter_groups, validate


@dataclass(frozen=True)
class Unit:
    """A ReLU layer whose channels can be revived: the conv that feeds it and the 1x1 convs that read it (empty
    when its output joins a residual sum)."""

    conv: str
    readers: tuple[str, ...] = ()


def revivable(model: EdgeCodecModel) -> dict[str, Unit]:
    """The layers this tool revives, by the name of the conv that feeds the ReLU (``g_s.mid`` has a ReLU of its own
    only in the relu-mid synthesis)."""
    units = {"h_s.4": Unit("h_s.4", tuple(f"context.{k}.inp" for k in range(model.groups)))}
    if model.g_s.variant == "relu-mid":
        units["g_s.mid"] = Unit("g_s.mid")
    units.update({f"context.{k}.mid": Unit(f"context.{k}.mid") for k in range(model.groups)})
    return units


@torch.no_grad()
def activity(model: EdgeCodecModel, crops: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per revivable layer, the fraction of pixels on which each channel's ReLU is positive, over ``crops`` at
    every quality level (the float model with hard rounding, as validation runs it)."""
    counts: dict[str, torch.Tensor] = {}
    pixels: dict[str, int] = {}
    hooks = []
    for name in revivable(model):
        def hook(_m, _inp, out, name=name):
            positive = (out > 0).sum(dim=(0, 2, 3)).double()
            counts[name] = counts.get(name, 0) + positive
            pixels[name] = pixels.get(name, 0) + out.shape[0] * out.shape[2] * out.shape[3]
        hooks.append(model.get_submodule(name).register_forward_hook(hook))
    was_training = model.training
    fake = model.g_s.fake_quant, model.entropy_fake_quant
    model.g_s.fake_quant, model.entropy_fake_quant = None, None  # the float layers, so the hooks see every conv
    model.eval()
    try:
        for x in crops:
            for q in range(len(model.lambdas)):
                model(x.unsqueeze(0), torch.tensor([q]), None, hard=True)
    finally:
        for h in hooks:
            h.remove()
        model.g_s.fake_quant, model.entropy_fake_quant = fake
        model.train(was_training)
    return {name: (counts[name] / pixels[name]).float() for name in counts}


@torch.no_grad()
def revive(model: EdgeCodecModel, active: dict[str, torch.Tensor], threshold: float, scale: float,
           generator: torch.Generator, layers: tuple[str, ...] | None = None) -> dict[str, list[int]]:
    """Redraws the dormant channels (active on fewer than ``threshold`` of the pixels) of ``layers`` (default: every
    revivable one). Returns the revived channels per layer."""
    revived = {}
    for name, unit in revivable(model).items():
        if layers is not None and name not in layers:
            continue
        dormant = (active[name] < threshold).nonzero().flatten().tolist()
        conv = model.get_submodule(unit.conv)
        live = [c for c in range(conv.out_channels) if c not in dormant]
        if not dormant or not live:
            continue
        # Free outgoing weights make the revival exact, so the unit gets the layer's full spread; a residual unit's
        # output is added as it is, so it starts small.
        spread = float(conv.weight[live].std()) * (1.0 if unit.readers else scale)
        shape = conv.weight[dormant].shape
        conv.weight[dormant] = torch.randn(shape, generator=generator) * spread
        conv.bias[dormant] = 0.0
        for reader in unit.readers:
            model.get_submodule(reader).weight[:, dormant] = 0.0
        revived[name] = dormant
    return revived


def state_index(model: EdgeCodecModel) -> dict[str, int]:
    """Parameter name -> its key in the training optimizer's saved state (train's parameter groups, in order)."""
    name_of = {id(p): n for n, p in model.named_parameters()}
    return {name_of[id(p)]: i for i, p in enumerate(p for group in parameter_groups(model) for p in group)}


def clear_moments(model: EdgeCodecModel, opt_state: dict, revived: dict[str, list[int]]) -> None:
    """Zeroes Adam's moments of the redrawn weights in a saved optimizer state (``torch.optim.Adam.state_dict``):
    their history belongs to the dormant weights."""
    index = state_index(model)
    units = revivable(model)
    for name, channels in revived.items():
        unit = units[name]
        targets = [(f"{unit.conv}.weight", 0), (f"{unit.conv}.bias", 0)]
        targets += [(f"{reader}.weight", 1) for reader in unit.readers]
        for pname, dim in targets:
            state = opt_state["state"].get(index[pname])
            if state is None:
                continue
            for key in ("exp_avg", "exp_avg_sq"):
                state[key].index_fill_(dim, torch.tensor(channels), 0.0)


def load_run(path: Path, tool: str) -> tuple[dict, EdgeCodecModel]:
    """A training run's checkpoint (``<run-dir>/last.pt``: weights, optimizer, average) and its model, for the tools
    that rewrite one (``tool`` names the caller in the errors)."""
    ck = torch.load(path, map_location="cpu")
    if "model" not in ck or "opt" not in ck:
        raise SystemExit(f"{path} is not a training run's checkpoint (weights and optimizer): {tool} works on "
                         "<run-dir>/last.pt")
    model = EdgeCodecModel()
    model.g_s.variant = checkpoint_synthesis(ck)
    if load_state(model, ck["model"]):
        raise SystemExit(f"{path} predates a growth: resume training once before running {tool}")
    return ck, model


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "training" / "runs" / "main" / "last.pt",
                    help="a training run's checkpoint (weights, optimizer, average)")
    ap.add_argument("--threshold", type=float, default=0.001, help="dormant below this fraction of positive pixels")
    ap.add_argument("--scale", type=float, default=0.01,
                    help="spread of the redrawn weights of a residual unit relative to the layer's live ones (a unit "
                         "with free outgoing weights gets the full spread: they are zeroed)")
    ap.add_argument("--layers", default=None,
                    help="comma-separated convs to revive (default: all of g_s.mid, h_s.4, context.<k>.mid)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--apply", action="store_true", help="rewrite the checkpoint (else report only)")
    ap.add_argument("--log", type=Path, default=REPO / "training" / "logs" / "revive.csv")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    ck, model = load_run(args.checkpoint, "revive")
    crops = qat.calibration_crops()
    active = activity(model, crops)
    for name, a in active.items():
        print(f"{name}: {int((a < args.threshold).sum())} of {a.numel()} channels dormant "
              f"(median activity {float(a.median()):.3f})")
    _, val_files = data.list_images(data.default_dirs())
    val = data.center_crops(val_files, 256)
    before = validate(model, val)
    layers = tuple(args.layers.split(",")) if args.layers else None
    revived = revive(model, active, args.threshold, args.scale, torch.Generator().manual_seed(args.seed), layers)
    after = validate(model, val)
    print("validation (float, hard rounding) before:", valbd.text(before))
    print("validation (float, hard rounding) after: ", valbd.text(after))
    try:
        change = f"{valbd.bd_rate(before, after):+.2f} %"
    except ValueError as e:  # the curves no longer overlap: far too large a change
        change = str(e)
    print(f"revived: {', '.join(f'{k} {len(v)}' for k, v in revived.items()) or 'nothing'}; "
          f"BD-rate of the change: {change}")
    if not args.apply or not revived:
        return
    ck["model"] = model.state_dict()
    clear_moments(model, ck["opt"], revived)
    ck["ema"], ck["ema_since"] = None, None  # the average restarts at the revived weights
    ck.setdefault("revived", []).append({"step": int(ck["step"]), "threshold": args.threshold, "scale": args.scale,
                                         "channels": revived})
    tmp = args.checkpoint.with_suffix(".tmp")
    torch.save(ck, tmp)
    tmp.replace(args.checkpoint)
    append_row(args.log, ["time", "step", "threshold", "scale", "revived", "val_before", "val_after"],
               [int(time.time()), int(ck["step"]), args.threshold, args.scale,
                " ".join(f"{k}:{len(v)}" for k, v in revived.items()), valbd.text(before), valbd.text(after)])
    print(f"rewrote {args.checkpoint} at step {ck['step']}")


if __name__ == "__main__":
    main()
