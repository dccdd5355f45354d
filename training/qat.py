"""Quantisation-aware training of the synthesis g_s and of the entropy path (docs/training.md, "Quantisation-aware
synthesis" and "Quantisation-aware entropy path").

The decoder ships g_s as integer graphs (export.build_graphs): the de-gained latents quantised to int8 per channel,
int8 weights per output channel with the input scale folded in, int32 bias, and every activation requantised to u8
with a clip at its calibrated range. ``SynthesisFakeQuant`` runs the float g_s with exactly those roundings and
clips, with straight-through gradients, so that training sees the picture the integer engine will produce and
learns weights that lose less in int8. ``EntropyFakeQuant`` does the same for h_s and the context models, whose
integer graphs decide the means and scale indices the bitstream is coded with.

The ranges come from ``export.calibrate`` on ``calibration_crops()``, the same function and the same crops the export
uses, and are re-measured every few hundred steps while training; so the pack's integer graphs use (up to the drift
of those last steps) the ranges the weights were trained for. No range is stored in the checkpoint.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data
from .model import (MEAN_FRACTION_BITS, SCALE_LEVELS, SYNTH_INPUT, SYNTH_OUTPUT, SynthStep, synth_activations,
                    synth_signed)


def calibration_crops(count: int = 16) -> list[torch.Tensor]:
    """The export's calibration set: ``count`` 256-px crops of every n-th training image (never validation, never
    Kodak), drawn with a fixed seed so the export and QAT see the same pixels."""
    train_files, _ = data.list_images(data.default_dirs())
    sampler = data.CropSampler(train_files[:: max(1, len(train_files) // count)], 256, seed=1)
    return [sampler.batch(1)[0] for _ in range(count)]


def _round_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def _act_u8(x: torch.Tensor, scale: float) -> torch.Tensor:
    """ReLU output requantised to u8 (zero point 0) at ``scale`` per step: round, clip to [0, 255]."""
    return torch.clamp(_round_ste(x / scale), 0, 255) * scale


def _act_s8(x: torch.Tensor, scale: float) -> torch.Tensor:
    """Signed activation requantised to u8 with zero point 128 at ``scale`` per step: round, clip to [-128, 127]."""
    return torch.clamp(_round_ste(x / scale), -128, 127) * scale


def _conv_int8(conv: nn.Conv2d, x: torch.Tensor, s_in: torch.Tensor) -> torch.Tensor:
    """The conv as export.Builder.conv makes it: the input's scale ``s_in`` (per input channel, or one for a u8
    activation) folded into the weights, int8 per output channel, and the int32 bias in units of the accumulator
    (the folded weight scale)."""
    # The rounding decisions (weight scale, int8 weights, int32 bias) are made in float64 from the same numbers as the
    # export's, so a weight that sits near a rounding tie lands on the integer the pack holds: in float32 one such
    # weight shifted a hyper-decoder channel by up to 0.2 output steps (pack e449bca806bf). Gradients pass straight
    # through to the float32 weights and bias, as before.
    s_in64 = s_in.detach().double().reshape(1, -1, 1, 1)
    w64 = conv.weight.detach().double() * s_in64
    s_w64 = (w64.abs().flatten(1).amax(1) / 127.0).clamp_min(1e-12)
    q_w = torch.clamp(torch.round(w64 / s_w64.view(-1, 1, 1, 1)), -127, 127)
    w_q = conv.weight + ((q_w * s_w64.view(-1, 1, 1, 1) / s_in64).to(conv.weight.dtype) - conv.weight).detach()
    b_q = conv.bias + ((torch.round(conv.bias.detach().double() / s_w64) * s_w64).to(conv.bias.dtype) - conv.bias).detach()
    return F.conv2d(x, w_q, b_q, padding=conv.padding)


class SynthesisFakeQuant:
    """Integer-faithful forward of ``model.Synthesis`` from calibrated ranges (``export.calibrate``'s dict), for the
    synthesis plan ``plan`` (``Synthesis.plan``: which activations are signed)."""

    def __init__(self, cal: dict, plan: tuple[SynthStep, ...]):
        self.s_in = torch.as_tensor(cal["gs_in"] / 127.0, dtype=torch.float64)  # the export's precision (_conv_int8)
        signed = synth_signed(plan)
        self.scales = {k: float(cal[k]) / (127.0 if k in signed else 255.0) for k in synth_activations(plan)}
        # the scale of each conv's input: per channel for the latents, one for a byte activation
        self.input_scales = {k: torch.tensor([v], dtype=torch.float64) for k, v in self.scales.items()}
        self.input_scales[SYNTH_INPUT] = self.s_in

    @classmethod
    def from_activation_scales(cls, scales: dict, plan: tuple[SynthStep, ...]) -> "SynthesisFakeQuant":
        """The fake quant of a shipped pack, from its manifest's ``activation_scales`` (step sizes: ``yq`` per latent
        channel, one per activation), so that training against a frozen pack (adapters) uses exactly its ranges."""
        cal = {"gs_in": np.asarray(scales["yq"], dtype=np.float64) * 127.0}
        signed = synth_signed(plan)
        cal.update({k: float(scales[k]) * (127.0 if k in signed else 255.0) for k in synth_activations(plan)})
        return cls(cal, plan)

    def _conv(self, step: SynthStep, layer: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
        return _conv_int8(layer, x, self.input_scales[step.inputs[0]])

    def _act(self, step: SynthStep, v: torch.Tensor) -> torch.Tensor:
        if step.out == SYNTH_OUTPUT:
            return torch.clamp(_round_ste(v * 255.0), 0, 255) / 255.0
        return (_act_s8 if step.signed else _act_u8)(v, self.scales[step.out])

    def __call__(self, gs: nn.Module, y: torch.Tensor, films: dict | None = None) -> torch.Tensor:
        """The integer engine's picture of ``g_s(y)``; with ``films`` (an adapter's FiLM per conv output, which the
        export folds into each conv's requantisation) applied to every conv's accumulator before its output is
        requantised."""
        s_in = self.s_in.to(y.dtype).view(1, -1, 1, 1)
        # int8 input, zero point 128: values in [-128, 127] steps
        y_q = torch.clamp(_round_ste(y / s_in), -128, 127) * s_in
        conv = self._conv if films is None else (lambda st, layer, x: films[st.out](self._conv(st, layer, x)))
        return gs.walk(y_q, conv, self._act)[SYNTH_OUTPUT]


class EntropyFakeQuant:
    """Integer-faithful forward of the entropy-critical path (``h_s`` and the context models), from calibrated ranges.

    It computes what ``export.build_graphs``' "hyper" and "context<k>" graphs compute: z requantised to int8 per
    channel, int8 convs (per output channel, input scale folded in, int32 bias), every ReLU output requantised to u8 at
    its calibrated range, the earlier groups' latents requantised to int8 per channel, the mean rounded to the
    engine's 1/16 fixed point and the scale index rounded and clamped. Training through it (straight-through
    gradients) learns weights whose integer scale indices cost what the float ones did: the issue's "trained
    quantization-aware" hyper-decoder, and the +2-4 % y-rate the post-training conversion cost (docs/training.md)."""

    def __init__(self, cal: dict, groups: int):
        self.s_z = torch.as_tensor(cal["z"] / 127.0, dtype=torch.float64)
        self.s_y = [torch.as_tensor(cal[f"y{k}"] / 127.0, dtype=torch.float64) for k in range(groups)]
        self.s = {k: float(v) / 255.0 for k, v in cal.items() if k in ("h1", "h2", "hyper") or k.startswith("ctx")}
        self.t = {k: torch.tensor([v], dtype=torch.float64) for k, v in self.s.items()}  # the same, as a conv's input scale
        # (scales stay float64, the export's precision, so the int8 weights folded from them are the ones it writes)

    @staticmethod
    def _s8(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        s = s.to(x.dtype).view(1, -1, 1, 1)
        return torch.clamp(_round_ste(x / s), -128, 127) * s

    def hyper(self, hs: nn.Module, z_hat: torch.Tensor) -> torch.Tensor:
        s = self.s
        x = self._s8(z_hat, self.s_z)
        h1 = _act_u8(F.relu(F.pixel_shuffle(_conv_int8(hs[0].conv, x, self.s_z), 2)), s["h1"])
        h2 = _act_u8(F.relu(F.pixel_shuffle(_conv_int8(hs[2].conv, h1, self.t["h1"]), 2)), s["h2"])
        return _act_u8(F.relu(_conv_int8(hs[4], h2, self.t["h2"])), s["hyper"])

    def context(self, cm: nn.Module, hyper: torch.Tensor, prev: list[torch.Tensor], k: int):
        """(mean, scale-index logit) of group ``k``: the mean on the 1/16 grid, the index already an integer."""
        s = self.s
        ins, s_in = [hyper], [torch.full((hyper.shape[1],), s["hyper"], dtype=torch.float64)]
        for j, yj in enumerate(prev):
            ins.append(self._s8(yj, self.s_y[j]))
            s_in.append(self.s_y[j])
        feats = torch.cat(ins, 1)
        c1 = _act_u8(F.relu(_conv_int8(cm.inp, feats, torch.cat(s_in))), s[f"ctx{k}.c1"])
        c2 = _act_u8(F.relu(_conv_int8(cm.mid, c1, self.t[f"ctx{k}.c1"])), s[f"ctx{k}.c2"])
        c3 = _act_u8(c2 + c1, s[f"ctx{k}.c3"])
        out = _conv_int8(cm.out, c3, self.t[f"ctx{k}.c3"])
        gc = cm.group_ch
        one = 2.0 ** MEAN_FRACTION_BITS
        mean = torch.clamp(_round_ste(out[:, :gc] * one), -(2 ** 20), 2 ** 20) / one
        index = torch.clamp(_round_ste(out[:, gc:]), 0, SCALE_LEVELS - 1)
        return mean, index


def enable(model: nn.Module, crops: list[torch.Tensor] | None = None, synthesis: bool = True, entropy: bool = False,
           calibration: dict | None = None) -> None:
    """Switches the model's synthesis and/or its entropy path (h_s, context models) to fake quant at ``calibration``
    (a calibration of this model's float weights, e.g. ``export.pack_calibration``) or, without one, at the ranges
    the export's ``calibrate`` measures on ``crops``."""
    from .export import calibrate  # export imports the model; keep this module importable on its own

    if calibration is None and crops is None:
        raise ValueError("enable needs calibration crops or a calibration")
    was_training = model.training
    model.g_s.fake_quant = None
    model.entropy_fake_quant = None
    cal = calibration if calibration is not None else calibrate(model, crops)
    if synthesis:
        model.g_s.fake_quant = SynthesisFakeQuant(cal, model.g_s.plan)
    if entropy:
        model.entropy_fake_quant = EntropyFakeQuant(cal, model.groups)
    model.train(was_training)


def main(argv=None) -> None:
    """What the integer entropy path costs at a checkpoint: validation rate and PSNR per quality level with the float
    h_s/context models and with their fake quant (synthesis fake quant on in both)."""
    import argparse
    from pathlib import Path

    from .train import DEFAULT_COMPACT, load_model, validate
    from .export import pack_calibration

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_COMPACT, help="compact checkpoint")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, step = load_model(args.checkpoint)
    vals = data.center_crops(data.list_images(data.default_dirs())[1])
    with torch.no_grad():
        cal = pack_calibration(model)  # the ranges an export of this checkpoint ships
        enable(model, calibration=cal)
        rows_float = validate(model, vals)
        enable(model, calibration=cal, entropy=True)
        rows_int = validate(model, vals)
    print(f"step {step}: quality, float entropy path bpp:PSNR, integer entropy path bpp:PSNR, rate change")
    for q, ((bf, pf), (bi, pi)) in enumerate(zip(rows_float, rows_int)):
        print(f"{q}  {bf:.4f}:{pf:.2f}  {bi:.4f}:{pi:.2f}  {100 * (bi / bf - 1):+.2f} %")


if __name__ == "__main__":
    main()
