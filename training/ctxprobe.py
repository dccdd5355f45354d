"""What a checkerboard spatial context would buy on top of the four channel groups (an estimate, not a format).

    python3 -m training.ctxprobe --steps 600          # from the compact training checkpoint

Today each group's means and scale indices come from the hyper features and the earlier groups only. A checkerboard
context (He et al. 2021) splits every group into anchors and non-anchors: anchors are coded as now, and non-anchors
also see the decoded anchors of their own group around them. The decoder would run each context model twice (no
extra sequential steps per pixel), so it fits the decoder budget, but it changes the bitstream and the integer
engine, so it is measured here first. Both arms fine-tune the context models from the same weights, over the same
crops, with everything else frozen and the float (not fake-quant) entropy path. Arm ``checkerboard`` adds a
zero-initialised 5x5 conv per group from the masked anchors into the context model's first layer for non-anchors;
arm ``control`` does not, so the fine-tuning itself cancels out. Prints validation (bpp, PSNR) per level and the
BD-rate of checkerboard against control.
"""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import torch
import torch.nn as nn

from . import data
from .model import EdgeCodecModel, gaussian_likelihood, ste_round
from .train import DEFAULT_COMPACT, load_model, validate
from .valbd import bd_rate, text


def anchor_mask(h: int, w: int) -> torch.Tensor:
    """1 on the anchors ((row + column) even), 0 on the non-anchors; shape (1, 1, h, w)."""
    r = torch.arange(h).view(-1, 1)
    c = torch.arange(w).view(1, -1)
    return ((r + c) % 2 == 0).float().view(1, 1, h, w)


def spatial_branches(model: EdgeCodecModel) -> nn.ModuleList:
    """Per group: a 5x5 conv from the group's decoded anchors into its context model's hidden layer, at zero."""
    branches = nn.ModuleList()
    for ctx in model.context:
        conv = nn.Conv2d(model.group_ch, ctx.inp.out_channels, 5, padding=2)
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
        branches.append(conv)
    return branches


def forward(model: EdgeCodecModel, spatial: nn.ModuleList | None, x: torch.Tensor, q: torch.Tensor,
            hard: bool) -> dict:
    """``model.forward`` (float entropy path, no tail-drop) with the non-anchors of each group also predicted from the
    group's decoded anchors when ``spatial`` is given."""
    gain = torch.exp(model.log_gain[q]).unsqueeze(-1).unsqueeze(-1)
    igain = torch.exp(model.log_igain[q]).unsqueeze(-1).unsqueeze(-1)
    y = model.g_a(x) * gain
    z = model.h_a(y)
    z_lik = model.entropy_bottleneck.likelihood(model._perturb(z, hard))
    hyper = model.h_s(ste_round(z))
    mask = anchor_mask(*y.shape[2:])
    gc = model.group_ch
    bits = y.new_zeros(())
    prev: list[torch.Tensor] = []
    for k, ctx in enumerate(model.context):
        h0 = ctx.inp(torch.cat([hyper] + prev, dim=1) if prev else hyper)
        yk = y[:, k * gc:(k + 1) * gc]
        mu, t = ctx.head(h0)
        if spatial is not None:
            anchors = (ste_round(yk - mu) + mu) * mask
            mu_n, t_n = ctx.head(h0 + spatial[k](anchors))
            mu = mask * mu + (1 - mask) * mu_n
            t = mask * t + (1 - mask) * t_n
        r = yk - mu
        bits = bits + (-torch.log2(gaussian_likelihood(model._perturb(r, hard), model.scale_from_index(t)))).sum()
        prev.append(ste_round(r) + mu)
    x_hat = model.g_s(torch.cat(prev, dim=1) * igain)
    return {"x_hat": x_hat, "y_bits": bits, "z_bits": (-torch.log2(z_lik)).sum()}


def finetune_loop(model: EdgeCodecModel, opt: torch.optim.Optimizer, base_lrs: tuple[float, ...], forward_fn,
                  steps: int, seed: int, name: str, patch: int = 192, extra_bits=None, note=None) -> None:
    """The probes' fine-tuning loop: each parameter group's lr warms up over 100 steps, batches of 6 random training
    crops at random levels, the rate-distortion loss of ``forward_fn(x, q)`` (soft rounding). ``extra_bits(out)`` is
    taken out of the rate (a probe's rate-free diagnosis); ``note(out, x)`` adds to the progress line."""
    train_files, _ = data.list_images(data.default_dirs())
    sampler = data.CropSampler(train_files, patch, seed)
    rng = random.Random(seed)
    lambdas = torch.tensor(model.lambdas) * 255 ** 2
    for step in range(steps):
        warm = min(1.0, (step + 1) / 100)
        for g, base in zip(opt.param_groups, base_lrs):
            g["lr"] = base * warm
        x = sampler.batch(6)
        q = torch.tensor([rng.randrange(len(model.lambdas)) for _ in range(6)])
        out = forward_fn(x, q)
        mse = ((out["x_hat"] - x) ** 2).mean(dim=(1, 2, 3))
        bits = out["y_bits"] + out["z_bits"] - (extra_bits(out) if extra_bits else 0)
        loss = bits / x[:, 0].numel() + (lambdas[q] * mse).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            print(f"{name} step {step + 1} loss {float(loss):.3f}{note(out, x) if note else ''}", flush=True)


def probe_arm(checkpoint: Path, trainable, new_branch, forward_fn, lrs: tuple[float, float],
              steps: int, seed: int, name: str, patch: int = 192, **loop) -> list[tuple[float, float]]:
    """One arm of a probe: the model from ``checkpoint`` with only ``trainable(model)`` (at ``lrs[0]``) and the branch
    ``new_branch(model)`` builds (at ``lrs[1]``; None: the control arm) trained by ``finetune_loop``, then its
    validation rows (hard rounding).
    ``forward_fn(model, branch, x, q, hard)`` is the probe's forward pass."""
    model, _ = load_model(checkpoint)
    for p in model.parameters():
        p.requires_grad_(False)
    params = list(trainable(model))
    for p in params:
        p.requires_grad_(True)
    branch = new_branch(model)
    extra = [{"params": list(branch.parameters()), "lr": lrs[1]}] if branch is not None else []
    opt = torch.optim.Adam([{"params": params, "lr": lrs[0]}] + extra)
    finetune_loop(model, opt, lrs, lambda x, q: forward_fn(model, branch, x, q, False), steps, seed, name, patch, **loop)
    _, val_files = data.list_images(data.default_dirs())
    model.eval()
    with torch.no_grad():
        return validate(model, data.center_crops(val_files), lambda x, q: forward_fn(model, branch, x, q, True))


def finetune(checkpoint: Path, checkerboard: bool, steps: int, seed: int, lr: float, spatial_lr: float):
    return probe_arm(checkpoint, lambda m: (p for ctx in m.context for p in ctx.parameters()),
                     spatial_branches if checkerboard else (lambda m: None), forward,
                     (lr, spatial_lr), steps, seed, "checkerboard" if checkerboard else "control")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_COMPACT)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--lr", type=float, default=5e-5, help="context models, both arms")
    ap.add_argument("--spatial-lr", type=float, default=5e-4, help="the new anchor convs")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rows = {}
    for arm in (False, True):
        rows[arm] = finetune(args.checkpoint, arm, args.steps, args.seed, args.lr, args.spatial_lr)
        print(("checkerboard" if arm else "control") + " " + text(rows[arm]))
    print(f"checkerboard vs control: {bd_rate(rows[False], rows[True]):+.2f} % BD-rate")


if __name__ == "__main__":
    main()
