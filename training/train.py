"""Train the EdgeCodec model. Resumable at any moment from the newest checkpoint.

    python3 -m training.train --steps 100000            # long run (background)
    python3 -m training.train --steps 3 --patch 64 --batch 2 --run-dir /tmp/smoke   # smoke

Checkpoints: <run-dir>/last.pt (fp32 weights + optimizer, every --save-every steps) and a
compact fp16 weights-only copy (--compact, default models/checkpoints/edgecodec-train.pt) that
is committed, so the next session resumes where this one stopped.
"""
from __future__ import annotations

import argparse
import csv
import math
import os
import random
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data, qat, valbd
from .model import (LEGACY_LAMBDAS, NEWEST_GROWTH, EdgeCodecModel, checkpoint_layout, checkpoint_synthesis, grow_latent,
                    latent_layout, load_state, model_for, newest_group_slices, relevel_rows)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_COMPACT = REPO / "models" / "checkpoints" / "edgecodec-train.pt"


def trim_log(path: Path, step: int) -> int:
    """Drops the rows of a CSV log written after ``step`` and returns how many it dropped.

    A run resumes from its last checkpoint, so the rows it logged between that checkpoint and an interruption are
    written again; without this the log would hold those steps twice. The file is rewritten in place (a process that
    still appends to it keeps appending at its end).
    """
    if not path.exists():
        return 0
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return 0
    keep = [rows[0]] + [r for r in rows[1:] if not (len(r) > 1 and r[1].isdigit() and int(r[1]) > step)]
    dropped = len(rows) - len(keep)
    if dropped:
        with open(path, "r+", newline="") as f:
            csv.writer(f).writerows(keep)
            f.truncate()
    return dropped


def append_row(path: Path, header: list[str], row: list) -> None:
    """Appends one row to a CSV log, writing ``header`` first when the file is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new_file:
            w.writerow(header)
        w.writerow(row)


def save_compact(model: EdgeCodecModel, step: int, path: Path, average: dict | None = None,
                 grown_at: int | None = None, carried: tuple[dict, int, float] | None = None) -> None:
    """The committed checkpoint format: fp16 weights, the step, the levels and what the weights were last trained
    quantisation-aware; ``average`` (``{"decay", "since"}``) marks the weights as a moving average (the model card
    says so). ``carried`` (the run's weight average, the step it started at and its decay) travels along in fp16, so
    that a weights-only resume on another machine goes on with the average instead of starting it again, and a
    release can export it from the committed file alone (``training.average``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    # Which parts the weights were last trained quantisation-aware (the export's model card reports it).
    qat_parts = [name for name, fq in (("synthesis", model.g_s.fake_quant), ("entropy", model.entropy_fake_quant))
                 if fq is not None]
    record = {"step": step, "weights": state, "lambdas": list(model.lambdas), "qat": qat_parts,
              "synthesis": model.g_s.variant, "latent": latent_layout(model)}
    if average:
        record["average"] = average
    if grown_at is not None:
        record["latent_grown_at"] = grown_at  # a weights-only resume goes on with the new group's rate warm-up
    if carried is not None:
        record["ema"] = {k: v.half() for k, v in carried[0].items()}
        record["ema_since"], record["ema_decay"] = carried[1], carried[2]
    torch.save(record, tmp)
    os.replace(tmp, path)


def load_model(path: Path) -> tuple[EdgeCodecModel, int]:
    """A model of the layout that the checkpoint file records, with its weights; and its training step."""
    ck = torch.load(path, map_location="cpu")
    model = model_for(ck)
    return model, apply_weights(model, ck, path)


def load_weights(model: EdgeCodecModel, path: Path) -> int:
    """Loads a checkpoint file's weights into ``model``; returns its training step."""
    return apply_weights(model, torch.load(path, map_location="cpu"), path)


def apply_weights(model: EdgeCodecModel, ck: dict, path: Path) -> int:
    """``load_weights`` for a checkpoint already read (``path`` only names it in messages)."""
    weights = ck["weights"] if "weights" in ck else ck["model"]  # compact, or a full run checkpoint (last.pt)
    layout = checkpoint_layout(ck)
    if (layout["channels"], layout["groups"]) != (model.m, model.groups):
        raise ValueError(f"{path} has {layout['channels']} latent channels in {layout['groups']} groups, the model "
                         f"{model.m} in {model.groups} (build it with model.model_for or train.load_model)")
    state = {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
    model.g_s.variant = checkpoint_synthesis(ck)
    levelled(model, state, ck, path)
    grown = load_state(model, state)
    if grown:
        print(f"{path}: predates a growth; {len(grown)} grown tensors start at the identity")
    return int(ck.get("step", 0))


def trained_lambdas(ck: dict) -> tuple:
    """The quality lambdas a checkpoint was trained for (before they were recorded: LEGACY_LAMBDAS)."""
    return tuple(ck.get("lambdas", LEGACY_LAMBDAS))


def same_levels(model: EdgeCodecModel, ck: dict) -> bool:
    """Whether the checkpoint was trained for the model's quality lambdas."""
    return tuple(model.lambdas) == trained_lambdas(ck)


def levelled(model: EdgeCodecModel, state: dict, ck: dict, path: Path) -> bool:
    """Re-levels ``state``'s gain vectors in place if the checkpoint was trained for other quality lambdas than the
    model's (before they were recorded: LEGACY_LAMBDAS); the number of levels may differ (``train --lambdas`` adding a
    level: its vectors are extrapolated from the trained ones). Returns whether it did."""
    if same_levels(model, ck):
        return False
    trained = trained_lambdas(ck)
    for key in ("log_gain", "log_igain"):
        state[key] = relevel_rows(state[key], trained, model.lambdas)
    print(f"{path}: trained for lambdas {trained}; gains re-levelled to {tuple(model.lambdas)}")
    return True


def has_bf16_units(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX-BF16). Elsewhere oneDNN has to widen the
    operands first, and the speed-up was only measured with native units, so ``--bf16-encoder auto`` stays off."""
    try:
        flags = next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "").split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@torch.no_grad()
def holds_whole_tiles(crops: list[torch.Tensor], tile: int) -> bool:
    """Whether every crop's sides are whole multiples of a ``tile``-latent entropy tile (16 px per latent)."""
    return not any(side % (16 * tile) for c in crops for side in c.shape[1:])


def validate_tiled(model: EdgeCodecModel, images: list[torch.Tensor], tile: int) -> list[tuple[float, float]]:
    """``validate`` with the entropy model coding each ``tile`` x ``tile`` latent block alone, as the SDK's tiles."""
    return validate(model, images, lambda x, q: model(x, q, None, hard=True, tile=tile))


def validate(model: EdgeCodecModel, images: list[torch.Tensor], forward=None) -> list[tuple[float, float]]:
    """(bpp, psnr) per quality level on the validation crops, with hard rounding (no noise). ``forward(x, q)`` replaces
    the model's own hard-rounding forward (it must return ``x_hat``, ``y_bits`` and ``z_bits``)."""
    forward = forward or (lambda x, q: model(x, q, None, hard=True))
    model.eval()
    results = []
    for q in range(len(model.lambdas)):
        bits = 0.0
        pixels = 0
        mse_sum = 0.0
        for img in images:
            x = img.unsqueeze(0)
            out = forward(x, torch.tensor([q]))
            bits += float(out["y_bits"] + out["z_bits"])
            pixels += x.shape[2] * x.shape[3]
            mse_sum += float(F.mse_loss(out["x_hat"].clamp(0, 1), x)) * x.shape[2] * x.shape[3]
        mse = mse_sum / pixels
        results.append((bits / pixels, 10 * math.log10(1 / max(mse, 1e-12))))
    model.train()
    return results


class WeightAverage:
    """An exponential moving average of a model's floating-point state (parameters and buffers): the average of the
    last ~1/(1 - decay) steps' weights. Joint training leaves the encoder and the decoder a little out of step at any
    given step (validation rows 500 steps apart differ by up to 4 %); the average smooths that jitter out."""

    def __init__(self, model: nn.Module, decay: float, state: dict | None = None):
        self.decay = decay
        own = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}
        # A saved average of the same tensors goes on; after a growth or a removal it starts again at the weights.
        self.resumed = (state is not None and state.keys() == own.keys()
                        and all(state[k].shape == v.shape for k, v in own.items()))
        self.state = {k: v.detach().clone().float() for k, v in state.items()} if self.resumed else own

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for k, v in model.state_dict().items():
            if k in self.state:
                self.state[k].mul_(self.decay).add_(v, alpha=1 - self.decay)

    @contextmanager
    def swapped_in(self, model: nn.Module):
        """Runs the block with the average in ``model``; the model's own weights (and fake quant) come back after."""
        saved = {k: v.detach().clone() for k, v in model.state_dict().items() if k in self.state}
        fake = (model.g_s.fake_quant, model.entropy_fake_quant)
        with torch.no_grad():
            model.load_state_dict(self.state, strict=False)
        try:
            yield model
        finally:
            with torch.no_grad():
                model.load_state_dict(saved, strict=False)
            model.g_s.fake_quant, model.entropy_fake_quant = fake


def rd_loss(model: EdgeCodecModel, x: torch.Tensor, q: torch.Tensor, drop: int | None, lambdas: torch.Tensor,
            tile: int | None = None, hard: bool | str = False):
    """The training objective of one batch: bits per pixel + lambda(q) * MSE * 255^2, plus half the lambda-weighted
    MSE of a tail-drop reconstruction when ``drop`` groups are kept. Returns (loss, bpp, per-sample MSE, per-sample
    tail-drop MSE or None)."""
    out = model(x, q, drop, hard=hard, tile=tile)
    pixels = x.shape[0] * x.shape[2] * x.shape[3]
    bpp = (out["y_bits"] + out["z_bits"]) / pixels
    mse_i = ((out["x_hat"] - x) ** 2).mean(dim=(1, 2, 3))
    lam = lambdas[q] * 255 ** 2
    loss = bpp + (lam * mse_i).mean()
    mse_d = None
    if "x_hat_drop" in out:
        mse_d = ((out["x_hat_drop"] - x) ** 2).mean(dim=(1, 2, 3))
        loss = loss + 0.5 * (lam * mse_d).mean()
    return loss, bpp, mse_i, mse_d


def parameter_groups(model: EdgeCodecModel) -> tuple[list, list, list]:
    """(decoder side, newest growth, encoder only) parameters: each gets its own learning rate. The encoder-only
    transforms g_a and h_a are not in any pack's decoder, so they can move faster without changing what a decoder
    is trained for."""
    named = list(model.named_parameters())
    grown = [p for n, p in named if n.startswith(NEWEST_GROWTH)]
    encoder = [p for n, p in named if n.startswith(("g_a.", "h_a.")) and not n.startswith(NEWEST_GROWTH)]
    rest = [p for n, p in named if not n.startswith(NEWEST_GROWTH + ("g_a.", "h_a."))]
    return rest, grown, encoder


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1_000_000, help="stop after this global step")
    ap.add_argument("--minutes", type=float, default=0, help="stop after this wall time (0 = no limit)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lambdas", type=lambda s: [float(v) for v in s.split(",")], default=None,
                    help="the quality levels' MSE lambdas, rising (default: the checkpoint's, or model.DEFAULT_LAMBDAS "
                         "from scratch). On resume, other lambdas re-level the trained gain vectors (more or fewer "
                         "levels: a new level's vectors are inter- or extrapolated in log lambda) and the optimizer "
                         "and the weight average start fresh")
    ap.add_argument("--grown-lr", type=float, default=None,
                    help="learning rate of the layers added by the latest growth, model.NEWEST_GROWTH (default: --lr)")
    ap.add_argument("--encoder-lr", type=float, default=None,
                    help="learning rate of the encoder-only transforms g_a and h_a (not their newest growth), which "
                         "no decoder runs (default: --lr)")
    ap.add_argument("--drop-prob", type=float, default=0.25, help="probability of a tail-drop term per step")
    ap.add_argument("--tiled-prob", type=float, default=0.0,
                    help="probability that a step trains the tiled regime: a --tiled-patch crop whose entropy model "
                         "codes each --tile of latents alone, as the SDK's entropy tiles (g_a and g_s see the crop)")
    ap.add_argument("--tiled-patch", type=int, default=512, help="crop side of a tiled step (a multiple of 16 * --tile)")
    ap.add_argument("--tiled-batch", type=int, default=1, help="crops per tiled step")
    ap.add_argument("--tile", type=int, default=16, help="entropy tile side in latents for tiled steps (16 = 256 px)")
    ap.add_argument("--run-dir", type=Path, default=REPO / "training" / "runs" / "main")
    ap.add_argument("--compact", type=Path, default=DEFAULT_COMPACT)
    ap.add_argument("--log", type=Path, default=REPO / "training" / "logs" / "train.csv")
    ap.add_argument("--save-every", type=int, default=250)
    ap.add_argument("--val-every", type=int, default=2000)
    ap.add_argument("--val-size", type=int, default=256)
    ap.add_argument("--val-tiled", type=int, default=0,
                    help="also validate with entropy tiles of this many latents (16 = the SDK's 256-px tiles) on "
                         "--val-tiled-size crops, into <log>-tiled.csv (and the average's into <log>-ema-tiled.csv; "
                         "0 = off): what --tiled-prob is for")
    ap.add_argument("--val-tiled-size", type=int, default=512,
                    help="side of the tiled validation's centre crops (a multiple of 16 x --val-tiled)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16-encoder", choices=("auto", "on", "off"), default="auto",
                    help="train g_a's layers above the latent's resolution with bfloat16 multiplies (Analysis.use_bf16; "
                         "evaluation and export stay fp32); auto: on where the CPU has AVX512-BF16 or AMX-BF16")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--data", type=Path, nargs="*", default=None)
    ap.add_argument("--qat-synthesis", action="store_true",
                    help="train g_s quantisation-aware: the synthesis runs as the integer engine will (training/qat.py)")
    ap.add_argument("--qat-entropy", action="store_true",
                    help="train h_s and the context models quantisation-aware: means and scale indices come out as "
                         "the integer engine computes them (training/qat.py: EntropyFakeQuant)")
    ap.add_argument("--warmup", type=int, default=500,
                    help="when the optimizer starts fresh (a weights-only resume, a growth, new levels or groups), "
                         "ramp the learning rates linearly from 0 over this many steps: a fresh Adam's first updates "
                         "are ~lr per parameter whatever the gradient, which knocks a trained model back (0 = off)")
    ap.add_argument("--ema", type=float, default=0.999,
                    help="decay of the weights' moving average (train.WeightAverage), validated next to the weights "
                         "into <log>-ema.csv and written as <run-dir>/ema.pt at every checkpoint (0 = off)")
    ap.add_argument("--fresh-optimizer", action="store_true",
                    help="resume the weights but not the optimizer's state (the control of an A/B against a growth, "
                         "which starts a fresh optimizer)")
    ap.add_argument("--grow-latent", type=int, default=0, metavar="HIDDEN",
                    help="on resuming a 4-group checkpoint, add a fifth group of latent channels with a context model "
                         "of HIDDEN channels (model.grow_latent; function-preserving for the picture, fresh optimizer)")
    ap.add_argument("--grow-rate-warmup", type=int, default=2000,
                    help="after --grow-latent, the new group's bits enter the loss with a weight ramped from 0 to 1 "
                         "over this many steps (the logged training bpp is the weighted one meanwhile)")
    ap.add_argument("--new-group-lr-mult", type=float, default=1.0,
                    help="multiply each optimizer step of the newest channel group's slices (model.newest_group_slices: "
                         "the synthesis' new input columns, the encoder's new output rows, ...) by this factor. Adam's "
                         "step is ~lr per weight whatever the gradient's scale, so a zero-initialised slice that must "
                         "grow to the trained weights' size needs a larger rate than its tensor's other weights")
    ap.add_argument("--qat-recalibrate-every", type=int, default=500,
                    help="re-measure the activation ranges (export's calibration) every N steps under --qat-*")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    seed = args.seed if args.seed is not None else int(time.time())
    torch.manual_seed(seed)
    random.seed(seed)

    last = args.run_dir / "last.pt"
    ck = torch.load(last, map_location="cpu") if last.exists() else None
    levels = {"lambdas": tuple(args.lambdas)} if args.lambdas else {}
    model = model_for(ck, **levels) if ck is not None else EdgeCodecModel(**levels)
    grown_at = ck.get("latent_grown_at") if ck is not None else None
    lrs = (args.lr, args.grown_lr or args.lr, args.encoder_lr or args.lr)

    def new_optimizer() -> torch.optim.Optimizer:
        return torch.optim.Adam([{"params": params, "lr": lr} for params, lr in zip(parameter_groups(model), lrs)])

    opt = new_optimizer()
    step = 0
    fresh = True  # the optimizer has no state: warm its learning rates up
    ema_state, ema_since = None, None
    if ck is not None:
        ema_state, ema_since = ck.get("ema"), ck.get("ema_since")
        model.g_s.variant = checkpoint_synthesis(ck)
        state = dict(ck["model"])
        relevelled = levelled(model, state, ck, last)
        if relevelled:
            ema_state = None  # an average of the old levels' gains would not fit the new ones
        if load_state(model, state):
            print("the checkpoint predates a growth: grown layers start at the identity, optimizer starts fresh")
        elif relevelled:
            print("optimizer and weight average start fresh (the quality levels changed)")
        elif len(ck["opt"]["param_groups"]) != len(opt.param_groups):
            print("optimizer starts fresh (its parameter groups changed)")
        elif args.fresh_optimizer:
            print("optimizer starts fresh (--fresh-optimizer)")
        else:
            opt.load_state_dict(ck["opt"])
            fresh = False
        for group, lr in zip(opt.param_groups, lrs):
            group["lr"] = lr  # --lr applies on resume too (the optimizer state would restore the old rate)
        step = int(ck["step"])
        print(f"resumed from {last} at step {step}")
        del ck
    elif args.compact.exists():
        compact = torch.load(args.compact, map_location="cpu")
        model = model_for(compact, **levels)
        step, grown_at = apply_weights(model, compact, args.compact), compact.get("latent_grown_at")
        if same_levels(model, compact):  # an average of other levels' gains would not fit the new ones
            ema_state, ema_since = compact.get("ema"), compact.get("ema_since")
        del compact
        opt = new_optimizer()
        print(f"resumed weights from {args.compact} at step {step} (fresh optimizer"
              f"{f', weight average since {ema_since}' if ema_state is not None else ''})")
    else:
        print(f"starting from scratch (synthesis {model.g_s.variant})")
    if args.grow_latent and model.groups == 4 and step > 0:
        model, grown_at, fresh = grow_latent(model, args.grow_latent, seed), step, True
        opt = new_optimizer()
        print(f"latent grown to {model.m} channels in {model.groups} groups (context {model.context_hidden}): "
              f"optimizer starts fresh")
    boosted = []
    if args.new_group_lr_mult != 1.0:
        params = dict(model.named_parameters())
        boosted = [(params[n], m) for n, m in newest_group_slices(model).items()]
        print(f"newest group's slices ({len(boosted)} tensors, {sum(int(m.sum()) for _, m in boosted)} weights) "
              f"step x{args.new_group_lr_mult:g}" if boosted else "no grown channel group: --new-group-lr-mult ignored")
    # The average starts at the weights (a weights-only resume) or where the run's checkpoint left it.
    ema = WeightAverage(model, args.ema, ema_state) if args.ema > 0 else None
    if ema and (not ema.resumed or ema_since is None):
        ema_since = step
    bf16 = args.bf16_encoder == "on" or (args.bf16_encoder == "auto" and has_bf16_units())
    model.g_a.use_bf16(bf16)
    print(f"encoder arithmetic: {'bfloat16 above the latent, fp32 for y' if bf16 else 'fp32'}")
    ema_log = args.log.with_name(args.log.stem + "-ema.csv")
    warm_from = step if fresh and args.warmup > 0 else None
    if warm_from is not None:
        print(f"fresh optimizer: learning rates warm up over {args.warmup} steps")

    train_files, val_files = data.list_images(args.data or data.default_dirs())
    sampler = data.CropSampler(train_files, args.patch, seed)
    tiled_sampler = None
    if args.tiled_prob > 0:
        if args.tile % 4 or args.tiled_patch % (16 * args.tile):
            raise SystemExit(f"--tile {args.tile} must be a multiple of 4 latents (the hyper stride) and --tiled-patch "
                             f"{args.tiled_patch} a multiple of {16 * args.tile} px")
        tiled_sampler = data.CropSampler(train_files, args.tiled_patch, seed + 1)
        print(f"tiled regime: {args.tiled_prob:.0%} of steps, {args.tiled_batch} x {args.tiled_patch} px crops in "
              f"{16 * args.tile}-px entropy tiles")
    val_images = data.center_crops(val_files, args.val_size)
    tiled_val = data.center_crops(val_files, args.val_tiled_size) if args.val_tiled else []
    if not holds_whole_tiles(tiled_val, args.val_tiled):
        raise SystemExit(f"--val-tiled {args.val_tiled}: the {args.val_tiled_size}-px validation crops do not hold whole "
                         f"{16 * args.val_tiled}-px tiles")
    tiled_log = args.log.with_name(args.log.stem + "-tiled.csv")
    ema_tiled_log = args.log.with_name(args.log.stem + "-ema-tiled.csv")
    if last.exists():
        dropped = sum(trim_log(p, step) for p in (args.log, ema_log, tiled_log, ema_tiled_log))
        if dropped:
            print(f"dropped {dropped} log rows written after step {step} (they are written again)")
    print(f"{len(sampler)} training images, {len(val_images)} validation crops")
    if args.data is None and len(data.default_dirs()) == 1:
        # A fresh machine has only the shared photos until fetch_data has run (session 3 trained ~4,000 steps so).
        print("WARNING: training/data/images/photos is missing, training on the shared photos only; "
              "run `python3 -m training.fetch_data` and restart (training resumes)", flush=True)

    qat_crops = None
    if args.qat_synthesis or args.qat_entropy:
        qat_crops = qat.calibration_crops()

        def recalibrate() -> None:
            qat.enable(model, qat_crops, synthesis=args.qat_synthesis, entropy=args.qat_entropy)

        recalibrate()
        parts = [p for p, on in (("synthesis", args.qat_synthesis), ("entropy path", args.qat_entropy)) if on]
        print(f"quantisation-aware {' and '.join(parts)}: on (ranges from the export's calibration crops)", flush=True)

    stop = {"flag": False}

    def on_signal(*_):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    args.log.parent.mkdir(parents=True, exist_ok=True)
    new_log = not args.log.exists()
    log = open(args.log, "a", newline="")
    writer = csv.writer(log)
    if new_log:
        writer.writerow(["time", "step", "loss", "bpp", "mse", "psnr", "drop_psnr", "lr", "sec_per_step", "val"])
    lambdas = torch.tensor(model.lambdas)
    nq = len(model.lambdas)
    start = time.time()
    t0 = time.time()
    acc = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "drop": 0.0, "n": 0, "nd": 0}

    def checkpoint():
        args.run_dir.mkdir(parents=True, exist_ok=True)
        tmp = last.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "lambdas": list(model.lambdas),
                    "synthesis": model.g_s.variant, "latent": latent_layout(model), "latent_grown_at": grown_at,
                    "ema": ema.state if ema else None, "ema_since": ema_since}, tmp)
        os.replace(tmp, last)
        save_compact(model, step, args.compact, grown_at=grown_at,
                     carried=(ema.state, ema_since, args.ema) if ema else None)
        if ema:
            with ema.swapped_in(model):
                save_compact(model, step, args.run_dir / "ema.pt", {"decay": args.ema, "since": ema_since}, grown_at)

    def validate_average(at: int) -> None:
        """The average's validation row, with its own calibration (what an export of it would ship)."""
        with ema.swapped_in(model):
            if qat_crops is not None:
                recalibrate()
            text = valbd.text(validate(model, val_images))
            tiled_text = valbd.text(validate_tiled(model, tiled_val, args.val_tiled)) if tiled_val else None
        append_row(ema_log, ["time", "step", "decay", "val"], [int(time.time()), at, args.ema, text])
        if tiled_text:
            append_row(ema_tiled_log, ["time", "step", "tile", "val"], [int(time.time()), at, args.val_tiled, tiled_text])
        print(f"step {at} average: {text}", flush=True)

    while step < args.steps and not stop["flag"]:
        if args.minutes and time.time() - start > args.minutes * 60:
            break
        tiled = tiled_sampler is not None and random.random() < args.tiled_prob
        x = tiled_sampler.batch(args.tiled_batch) if tiled else sampler.batch(args.batch)
        q = torch.randint(0, nq, (x.shape[0],))
        drop = random.randint(1, model.groups - 1) if random.random() < args.drop_prob else None
        if grown_at is not None and args.grow_rate_warmup > 0 and step - grown_at < args.grow_rate_warmup:
            model.group_rate_weight = [1.0] * (model.groups - 1) + [(step - grown_at) / args.grow_rate_warmup]
        try:
            loss, bpp, mse_i, mse_d = rd_loss(model, x, q, drop, lambdas, tile=args.tile if tiled else None)
        finally:
            model.group_rate_weight = None
        if mse_d is not None:
            acc["drop"] += float(mse_d.mean())
            acc["nd"] += 1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        if warm_from is not None:
            ramp = min(1.0, (step - warm_from + 1) / args.warmup)
            for group, lr in zip(opt.param_groups, lrs):
                group["lr"] = lr * ramp
            if ramp == 1.0:
                warm_from = None
        before = [p.detach().clone() for p, _ in boosted]
        opt.step()
        with torch.no_grad():
            for (p, mask), b in zip(boosted, before):
                p.add_((p - b) * mask * (args.new_group_lr_mult - 1.0))
        if ema:
            ema.update(model)
        step += 1
        if qat_crops is not None and step % args.qat_recalibrate_every == 0:
            recalibrate()
        acc["loss"] += float(loss)
        acc["bpp"] += float(bpp)
        acc["mse"] += float(mse_i.mean())
        acc["n"] += 1

        if step % 50 == 0:
            n = acc["n"]
            mse = acc["mse"] / n
            drop_psnr = 10 * math.log10(1 / (acc["drop"] / acc["nd"])) if acc["nd"] else float("nan")
            sps = (time.time() - t0) / n
            val = ""
            if step % args.val_every == 0:
                val = valbd.text(validate(model, val_images))
                if tiled_val:
                    tiled_text = valbd.text(validate_tiled(model, tiled_val, args.val_tiled))
                    append_row(tiled_log, ["time", "step", "tile", "val"], [int(time.time()), step, args.val_tiled, tiled_text])
                if ema:
                    validate_average(step)
            writer.writerow([int(time.time()), step, f"{acc['loss'] / n:.4f}", f"{acc['bpp'] / n:.4f}",
                             f"{mse:.6f}", f"{10 * math.log10(1 / mse):.2f}", f"{drop_psnr:.2f}",
                             opt.param_groups[0]["lr"], f"{sps:.3f}", val])
            log.flush()
            print(f"step {step} loss {acc['loss'] / n:.3f} bpp {acc['bpp'] / n:.3f} "
                  f"psnr {10 * math.log10(1 / mse):.2f} drop {drop_psnr:.2f} {sps:.2f}s/step {val}", flush=True)
            acc = {"loss": 0.0, "bpp": 0.0, "mse": 0.0, "drop": 0.0, "n": 0, "nd": 0}
            t0 = time.time()
        if step % args.save_every == 0:
            checkpoint()
    checkpoint()
    log.close()
    print(f"stopped at step {step}; checkpoint {last}, compact {args.compact}")


if __name__ == "__main__":
    main()
