"""Studio encoder: per-image latent refinement for a shipped model pack (docs/refinement.md).

    python3 -m training.refine --pack models/edgecodec-hp-<hash>.ecpack \\
        --checkpoint <the checkpoint the pack was exported from> \\
        --images DIR --qualities 0,1,2,3,4,5 --iters 80 --out DIR
    dotnet sdk/EdgeCodec.Cli/.../EdgeCodec.Cli.dll encode IMG.png --latents DIR/IMG.q2.eclt -o IMG.ecx

The amortised encoder (g_a, h_a) maps an image to latents in one pass; it is a trained guess. Here the latents of one
image are optimised directly for that image's rate + lambda * distortion through the model's own entropy model and
synthesis, with stochastic Gumbel annealing (SGA, Yang, Marino & Mandt 2020, "Improving Inference for Neural Image
Compression") standing in for rounding. By default (``--target integer``) the model runs the decoder's integer
arithmetic in fake quant (the int8 synthesis, the integer hyper decoder and context models), so the refinement
optimises the picture and the bits of the real decoder. The decoder, the pack and the bitstream format do not change:
the C# encoder entropy-codes the refined latents with the same integer path as always, so any EdgeCodec decoder plays
the result.

It costs two to three orders of magnitude more encoder compute than g_a, so it is for content encoded once and played
many times (VOD libraries for set-top boxes, archives), not for cameras. Every output file is a refined-latents file
(``.eclt``, format below); existing outputs are skipped, so an interrupted run resumes.

Refined-latents file, version 2 (version 1 is the same without bytes 40..43), little-endian:
    0  "ECLT"            4  u16 version (2)      6  u16 quality level
    8  u64 model id (first 8 bytes of the pack's SHA-256, big-endian, as in every packet)
   16  u32 image width  20  u32 image height
   24  u16 latent channels, latent height, latent width, hyper channels, hyper height, hyper width
   36  u32 refinement iterations (informational)
   40  u16 residual step index the latents were refined for (the layer in the loop; 0xFFFF = the level alone)
   42  u16 reserved, 0
   44  f32 y'[C][H][W]  (gained latents, already quantised around the model's means)
       i32 z[C][H][W]   (quantised hyper latents)
  end  u32 CRC-32 (IEEE) of everything before it

With ``--ladder`` the jobs are the pack's quality-ladder settings instead of its levels: a level alone as before
(``IMG.q<N>.eclt``), a level with a residual step ``r`` refined with the layer in the loop (``IMG.q<N>r<r>.eclt``;
``refine``'s ``layer``), which ``edgecodec eval --refined-latents DIR --ladder`` and ``edgecodec encode --latents``
take for that rung.
"""
from __future__ import annotations

import argparse
import math
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import data, residual
from .model import EdgeCodecModel

MAGIC = b"ECLT"
VERSION = 2
HEADER_V1 = struct.Struct("<4sHHQIIHHHHHHI")
HEADER = struct.Struct("<4sHHQIIHHHHHHIHH")
NO_STEP = 0xFFFF
PAD = 64  # the C# TileGrid pads to multiples of the hyper stride by edge replication


def sga_round(v: torch.Tensor, temperature: float) -> torch.Tensor:
    """Stochastic Gumbel annealing: a differentiable random choice between floor(v) and ceil(v) that becomes hard
    rounding as the temperature goes to 0 (Yang et al. 2020, eq. 8 with the atanh logits)."""
    fl = torch.floor(v)
    frac = v - fl
    eps = 1e-5
    logit_floor = -torch.atanh(torch.clamp(frac, -1 + eps, 1 - eps)) / temperature
    logit_ceil = -torch.atanh(torch.clamp(1 - frac, -1 + eps, 1 - eps)) / temperature
    gumbel = -torch.log(-torch.log(torch.rand(2, *v.shape).clamp(1e-10, 1)))
    p = torch.softmax(torch.stack([logit_floor + gumbel[0], logit_ceil + gumbel[1]]), 0)
    return fl + p[1]


def rate_distortion(model: EdgeCodecModel, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor, q: int,
                    temperature: float | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(bits of the latents, x_hat over the visible pixels, y_hat) for gained latents y and hyper latents z.
    temperature None = hard rounding (what the codec does; x_hat clamped to [0, 1]); otherwise SGA at that temperature."""
    quant = torch.round if temperature is None else (lambda v: sga_round(v, temperature))  # noqa: E731
    z_hat = quant(z)
    z_bits = -torch.log2(model.entropy_bottleneck.likelihood(z_hat)).sum()
    # The hyper decoder and context models always see the hard z: the decoder parses with exactly those.
    hyper = model.hyper(z_hat if temperature is None else z_hat + (torch.round(z) - z_hat).detach())

    def both(r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        v = quant(r)  # one SGA draw prices the symbol and feeds the decoder
        return v, v

    y_bits, prev = model.code_groups(hyper, y, both)
    y_hat = torch.cat(prev, 1)
    igain = torch.exp(model.log_igain[q]).view(1, -1, 1, 1)
    x_hat = model.g_s(y_hat * igain)[:, :, :x.shape[2], :x.shape[3]]
    if temperature is None:
        x_hat = x_hat.clamp(0, 1)
    return y_bits + z_bits, x_hat, y_hat


class Layer:
    """A quality-ladder rung's residual layer for ``refine``: the pack's class tables at one (level, step index)."""

    def __init__(self, tables: residual.PackTables, level: int, index: int):
        self.index = index
        self.step = tables.step(index)
        self.rows, self.weights = tables.setting(level, index)
        self.lut = residual.value_bits_table()

    def padded(self, r: torch.Tensor) -> torch.Tensor:
        """(3, H, W) residual padded to whole blocks by repeating its edges, as the C# layer repeats the pictures'."""
        h, w = r.shape[1:]
        return F.pad(r.unsqueeze(0), (0, -w % residual.BLOCK, 0, -h % residual.BLOCK), mode="replicate")[0]

    def hard(self, x: torch.Tensor, x_hat: torch.Tensor) -> tuple[float, float]:
        """(bits, squared error in pixel units) of the layer over the decoder's 8-bit picture."""
        r = torch.round(x[0] * 255) - torch.round(x_hat[0] * 255)
        return residual.layer_cost(self.padded(r.double()), self.rows, self.weights, self.step, self.lut)

    def soft(self, x: torch.Tensor, x_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return residual.soft_layer_cost(self.padded((x[0] - x_hat[0]) * 255), self.rows, self.weights, self.step, self.lut)


def refine(model: EdgeCodecModel, image: torch.Tensor, q: int, iters: int, lr: float = 0.01,
           check_every: int = 10, log=None, schedule: str = "constant", layer: Layer | None = None) -> dict:
    """Refines the latents of one image (uint8 or float 3xHxW) at quality q. Returns y_hat (gained, quantised),
    z_hat, and the model's own estimate of bpp / PSNR / J before and after. The result is never worse than the
    amortised encoder by that estimate: the best hard-rounded state seen is kept. schedule "cosine" decays the
    learning rate from lr to 0 over the iterations.

    With a ``layer`` (a quality-ladder rung: level q plus the residual layer at one step) the residual layer is in the
    loop: the latents are optimised for the picture after the layer, their bits plus the layer's bits, and the error
    it leaves, weighed at the step's own trade-off (``residual.slope``; at least level q's lambda)."""
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"unknown schedule {schedule}")
    x = image.float().unsqueeze(0) / (255.0 if image.dtype == torch.uint8 else 1.0)
    h, w = x.shape[2], x.shape[3]
    pixels = h * w
    padded = F.pad(x, (0, -w % PAD, 0, -h % PAD), mode="replicate")
    # J = bpp + lam * MSE, MSE over the three planes in [0, 1] units.
    lam = model.lambdas[q] * 255 ** 2
    if layer is not None:
        # The rung's trade-off: the step's own slope (high-rate theory; it matches the Kodak ladder's measured slope
        # from 57-px steps down), but never below the level's lambda: at coarse steps the layer codes little and the
        # level's own trade-off holds (the formula would undervalue distortion there by ~3x).
        lam = max(lam, residual.slope(layer.step) * 3 * 255 ** 2)
    gain = torch.exp(model.log_gain[q]).view(1, -1, 1, 1)
    with torch.no_grad():
        y0 = model.g_a(padded) * gain
        z0 = model.h_a(y0)
    y = y0.clone().requires_grad_(True)
    z = z0.clone().requires_grad_(True)
    opt = torch.optim.Adam([y, z], lr=lr)

    def hard() -> tuple[float, float, torch.Tensor]:
        with torch.no_grad():
            bits, x_hat, y_hat = rate_distortion(model, y, z, x, q, None)
            if layer is None:
                return float(bits) / pixels, float(F.mse_loss(x_hat, x)), y_hat
            layer_bits, se = layer.hard(x, x_hat)
        return (float(bits) + layer_bits) / pixels, se / (3 * pixels * 255 ** 2), y_hat

    bpp0, mse0, y_hat = hard()
    best = (bpp0 + lam * mse0, bpp0, mse0, y_hat, torch.round(z.detach()), 0)
    for i in range(1, iters + 1):
        temperature = max(0.5 * math.exp(-3.0 * i / iters), 0.02)
        if schedule == "cosine":
            for group in opt.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * (i - 1) / iters))
        bits, x_hat, _ = rate_distortion(model, y, z, x, q, temperature)
        if layer is None:
            loss = bits / pixels + lam * F.mse_loss(x_hat, x)
        else:
            layer_bits, se = layer.soft(x, x_hat)
            loss = (bits + layer_bits) / pixels + lam * se / (3 * pixels * 255 ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i % check_every == 0 or i == iters:
            b, m, y_hat = hard()
            if b + lam * m < best[0]:
                best = (b + lam * m, b, m, y_hat, torch.round(z.detach()), i)
            if log:
                log(f"  it {i}: bpp {b:.4f} psnr {psnr(m):.3f} J {b + lam * m:.4f}")
    _, bpp1, mse1, y_hat, z_hat, at = best
    return {"y": y_hat[0], "z": z_hat[0], "width": w, "height": h, "best_iteration": at,
            "step": None if layer is None else layer.index,
            "before": (bpp0, psnr(mse0), bpp0 + lam * mse0), "after": (bpp1, psnr(mse1), bpp1 + lam * mse1)}


def integer_target(model: EdgeCodecModel, manifest: dict, calib_crops: int = 16) -> None:
    """Switches the frozen model to the decoder's integer arithmetic: g_s, h_s and the context models in fake quant at
    the ranges the export calibrated (the same ``calib_crops`` crops, the same seed), so that the refinement optimises
    the picture the int8 engine draws and the bits the integer entropy path spends. Refuses if the recomputed
    synthesis ranges are not the pack's, which would mean other calibration data or other weights."""
    from . import qat
    from .export import pack_calibration
    with torch.no_grad():
        qat.enable(model, synthesis=True, entropy=True, calibration=pack_calibration(model, calib_crops))
    shipped = manifest["activation_scales"]
    ours = model.g_s.fake_quant.scales
    bad = [k for k, v in ours.items() if k in shipped and abs(v / float(shipped[k]) - 1) > 1e-4]
    if bad:
        raise SystemExit(f"the recomputed integer ranges differ from the pack's ({', '.join(bad)}): run "
                         "python3 -m training.fetch_data for the calibration images, pass the export's "
                         "--calib-crops, or use --target float")
    model.g_s.fake_quant = qat.SynthesisFakeQuant.from_activation_scales(shipped, model.g_s.plan)  # the pack's, to the last bit


def psnr(mse: float) -> float:
    return 10 * math.log10(1 / max(mse, 1e-12))


def encode_file(result: dict, model_id: int, quality: int, iters: int) -> bytes:
    y = result["y"].detach().numpy().astype("<f4")
    z = result["z"].detach().numpy()
    if np.abs(z).max(initial=0) >= 2 ** 31:
        raise ValueError("hyper latent out of int32 range")
    step = result.get("step")
    head = HEADER.pack(MAGIC, VERSION, quality, model_id, result["width"], result["height"],
                       y.shape[0], y.shape[1], y.shape[2], z.shape[0], z.shape[1], z.shape[2], iters,
                       NO_STEP if step is None else step, 0)
    body = head + y.tobytes() + z.astype("<i4").tobytes()
    return body + struct.pack("<I", zlib.crc32(body))


def decode_file(raw: bytes) -> dict:
    """Reads a refined-latents file, version 1 or 2 (the Python mirror of the C# reader, for tests and tools)."""
    if len(raw) < HEADER_V1.size + 4 or raw[:4] != MAGIC:
        raise ValueError("not a refined-latents file")
    if struct.unpack("<I", raw[-4:])[0] != zlib.crc32(raw[:-4]):
        raise ValueError("refined-latents file CRC mismatch")
    version = struct.unpack_from("<H", raw, 4)[0]
    if version not in (1, 2):
        raise ValueError(f"refined-latents version {version} is not supported")
    header = HEADER_V1 if version == 1 else HEADER
    f = header.unpack(raw[:header.size]) + ((NO_STEP, 0) if version == 1 else ())
    c, lh, lw, zc, zh, zw = f[6:12]
    ny, nz = c * lh * lw, zc * zh * zw
    if len(raw) != header.size + 4 * (ny + nz) + 4:
        raise ValueError("refined-latents file has the wrong size")
    y = np.frombuffer(raw, "<f4", ny, header.size).reshape(c, lh, lw)
    z = np.frombuffer(raw, "<i4", nz, header.size + 4 * ny).reshape(zc, zh, zw)
    return {"version": f[1], "quality": f[2], "model_id": f[3], "width": f[4], "height": f[5], "iters": f[12],
            "step": None if f[13] == NO_STEP else f[13], "y": y, "z": z}


def file_name(stem: str, quality: int, step: int | None) -> str:
    """``IMG.q<N>.eclt`` for a level alone, ``IMG.q<N>r<r>.eclt`` for a ladder rung (the C# ``RefinedRdCodec``'s names)."""
    return f"{stem}.q{quality}.eclt" if step is None else f"{stem}.q{quality}r{step}.eclt"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, required=True, help="the weights the pack was exported from")
    ap.add_argument("--images", type=Path, required=True, help="folder of PNG images")
    ap.add_argument("--qualities", default="", help="comma-separated levels (default: all)")
    ap.add_argument("--ladder", action="store_true",
                    help="refine for the pack's quality-ladder settings (with --qualities: those of these levels), "
                         "the residual layer in the loop for a rung with a step")
    ap.add_argument("--iters", type=int, default=80)
    ap.add_argument("--lr", type=float, default=0.02, help="Adam step size (the start of the cosine decay)")
    ap.add_argument("--schedule", choices=("cosine", "constant"), default="cosine",
                    help="learning-rate schedule (pack 772739c95929's Kodak results used constant, lr 0.01)")
    ap.add_argument("--target", choices=("integer", "float"), default="integer",
                    help="optimise against the integer decoder's picture and entropy path (fake quant at the pack's "
                         "ranges; needs the training data for the calibration crops) or the float model (before "
                         "session 11)")
    ap.add_argument("--calib-crops", type=int, default=16, help="the export's --calib-crops (for --target integer)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shard", default="0/1", help="i/n: this process takes every n-th job from the i-th")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    from .adapters import frozen_model_of_pack, read_pack
    manifest, _, digest = read_pack(args.pack)
    model = frozen_model_of_pack(manifest, args.checkpoint)
    if args.target == "integer":
        integer_target(model, manifest, args.calib_crops)
        torch.manual_seed(args.seed)
    model_id = int(digest[:16], 16)
    qualities = [int(v) for v in args.qualities.split(",") if v.strip()] or list(range(len(model.lambdas)))
    tables = None
    if args.ladder:
        if "residual" not in manifest:
            raise SystemExit(f"{args.pack} has no residual layer, so no quality ladder: drop --ladder")
        tables = residual.PackTables.of_pack(args.pack)
        settings = [(lv, None if st < 0 else st) for lv, st in tables.ladder if lv in qualities]
    else:
        settings = [(q, None) for q in qualities]
    files = sorted(p for p in args.images.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise SystemExit(f"no PNG images in {args.images}")
    shard, shards = (int(v) for v in args.shard.split("/"))
    # Setting by setting, so that a run cut short leaves whole settings (every image) for eval.
    jobs = [(f, q, st) for q, st in settings for f in files][shard::shards]
    args.out.mkdir(parents=True, exist_ok=True)
    for f, q, st in jobs:
        target = args.out / file_name(f.stem, q, st)
        if target.exists():
            continue
        t0 = time.time()
        r = refine(model, data.load_rgb(f), q, args.iters, args.lr, log=print if args.verbose else None,
                   schedule=args.schedule, layer=None if st is None else Layer(tables, q, st))
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(encode_file(r, model_id, q, args.iters))
        os.replace(tmp, target)
        (b0, p0, j0), (b1, p1, j1) = r["before"], r["after"]
        print(f"{f.name} q{q}{'' if st is None else f'+r{st}'}: bpp {b0:.4f}->{b1:.4f} psnr {p0:.2f}->{p1:.2f} "
              f"J {j0:.4f}->{j1:.4f} (best at {r['best_iteration']}, {time.time() - t0:.0f} s)", flush=True)

if __name__ == "__main__":
    main()
