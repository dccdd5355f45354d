"""Train a domain adapter for a shipped model pack and export it as adapter package parts (docs/adapters.md).

    python3 -m training.adapters --pack models/edgecodec-hp-<hash>.ecpack \
        --checkpoint <the checkpoint the pack was exported from> \
        --domain screen --expert-id 2 --id screen-content --images training/data/images/screen/train \
        --out models/adapters/screen-content           # -> manifest.json + weights.bin
    dotnet sdk/EdgeCodec.Cli/.../EdgeCodec.Cli.dll adapters pack --manifest .../manifest.json --weights .../weights.bin -o x.ecadapter

Form: a per-channel scale g and shift t on the output of every synthesis convolution (FiLM), trained few-shot
with everything else frozen (the encoder, the latent space and the entropy path are shared, so the bits do not
change). Export folds them into the integers the engine already uses, exactly as docs/adapters.md states:
    mult' , shift' = mult_shift(g * mult * 2^-shift)
    bias'          = bias + round(t / (g * s_acc)),   s_acc = s_out * mult * 2^-shift (one accumulator unit)
so an adapted layer is the same int8 convolution with other constants on every backend.
Objective: mean over samples of log(MSE) (equal weight per quality level in dB, which is what BD-rate measures).
Trained through the frozen pack's fake-quant synthesis (qat.SynthesisFakeQuant at the pack's own activation scales),
so the adapter learns the picture the int8 engine decodes, not the float one.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from . import data, qat
from .export import mult_shift, pack_identity
from .model import DEFAULT_SYNTHESIS, SYNTH_OUTPUT, SYNTH_PLANS, EdgeCodecModel

# g_s convolutions in graph order: (pack layer output name, attribute path, activation-scale key of the output); the
# same in every synthesis variant (they differ in adds and ReLUs only)
LAYERS = [(st.out, st.conv, None if st.out == SYNTH_OUTPUT else st.out)
          for st in SYNTH_PLANS[DEFAULT_SYNTHESIS] if st.conv is not None]


class Film(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.log_g = nn.Parameter(torch.zeros(channels))
        self.t = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.exp(self.log_g).view(1, -1, 1, 1) + self.t.view(1, -1, 1, 1)


@torch.no_grad()
def latents(model: EdgeCodecModel, x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """What the decoder's synthesis sees: y_hat (hard rounding around the predicted means) times the inverse gain."""
    gain = torch.exp(model.log_gain[q]).unsqueeze(-1).unsqueeze(-1)
    igain = torch.exp(model.log_igain[q]).unsqueeze(-1).unsqueeze(-1)
    y = model.g_a(x) * gain
    hyper = model.h_s(torch.round(model.h_a(y)))
    prev = []
    gc = model.group_ch
    for k in range(model.groups):
        mu, _ = model.group_params(hyper, prev, k)
        prev.append(torch.round(y[:, k * gc:(k + 1) * gc] - mu) + mu)
    return torch.cat(prev, 1) * igain


def read_pack(path: Path) -> tuple[dict, dict[str, np.ndarray], str]:
    raw = path.read_bytes()
    digest = pack_identity(raw)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        manifest = json.loads(z.read("manifest.json"))
        blob = z.read("weights.bin")
    dt = {"i8": "<i1", "i32": "<i4", "u8": "u1"}
    tensors = {e["name"]: np.frombuffer(blob, dtype=dt[e["dtype"]], count=int(np.prod(e["shape"])) if e["shape"] else 1,
                                        offset=e["offset"]).astype(np.int64).reshape(e["shape"])
               for e in manifest["tensors"]}
    return manifest, tensors, digest


def frozen_model_of_pack(manifest: dict, checkpoint: Path) -> EdgeCodecModel:
    """The float model a pack was exported from, in eval mode with frozen weights. Refuses a checkpoint of another
    training step: adapters and refined latents are only valid for the exact weights of the pack."""
    from .model import model_for
    from .train import apply_weights
    ck = torch.load(checkpoint, map_location="cpu")
    model = model_for(ck, lambdas=[level["lambda"] for level in manifest["quality_levels"]])
    step = apply_weights(model, ck, checkpoint)
    if step != manifest["training_step"]:
        raise SystemExit(f"checkpoint step {step} is not the pack's training step {manifest['training_step']}")
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def synthesis_convs(manifest: dict) -> dict[str, dict]:
    return {n["output"]: n for n in manifest["graphs"]["synthesis"] if n["op"] == "conv"}


def fold(manifest: dict, tensors: dict, films: dict[str, Film]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    convs = synthesis_convs(manifest)
    scales = manifest["activation_scales"]
    layers = []
    for out, _, scale_key in LAYERS:
        node = convs[out]
        bias, mult, shift = (tensors[node[k]].astype(np.int64) for k in ("bias", "mult", "shift"))
        s_out = 1.0 / 255.0 if scale_key is None else float(scales[scale_key])
        g = torch.exp(films[out].log_g).detach().double().numpy()
        t = films[out].t.detach().double().numpy()
        m_float = mult.astype(np.float64) * np.power(2.0, -shift.astype(np.float64))
        s_acc = s_out * m_float
        pairs = [mult_shift(float(gi * mi)) for gi, mi in zip(g, m_float)]
        new_mult = np.array([p[0] for p in pairs], dtype=np.int64)
        new_shift = np.array([p[1] for p in pairs], dtype=np.int64)
        new_bias = bias + np.round(t / (g * s_acc)).astype(np.int64)
        assert np.all(np.abs(new_bias) < 2 ** 31), out
        layers.append((out, new_bias, new_mult, new_shift))
    return layers


def unfold(manifest: dict, tensors: dict, out_dir: Path) -> dict[str, Film]:
    """The FiLM parameters back from an exported weights.bin (inverse of fold, up to integer rounding)."""
    convs = synthesis_convs(manifest)
    scales = manifest["activation_scales"]
    raw = np.frombuffer((out_dir / "weights.bin").read_bytes(), dtype="<i4").astype(np.int64)
    films, pos = {}, 0
    for out, _, scale_key in LAYERS:
        node = convs[out]
        bias, mult, shift = (tensors[node[k]].astype(np.int64) for k in ("bias", "mult", "shift"))
        c = len(bias)
        b2, m2, s2 = raw[pos:pos + c], raw[pos + c:pos + 2 * c], raw[pos + 2 * c:pos + 3 * c]
        pos += 3 * c
        m_float = mult * np.power(2.0, -shift.astype(np.float64))
        g = m2 * np.power(2.0, -s2.astype(np.float64)) / m_float
        s_out = 1.0 / 255.0 if scale_key is None else float(scales[scale_key])
        t = (b2 - bias) * g * s_out * m_float
        f = Film(c)
        with torch.no_grad():
            f.log_g.copy_(torch.from_numpy(np.log(g)))
            f.t.copy_(torch.from_numpy(t))
        films[out] = f
    return films


def onnx_patch(pack_onnx: bytes, films: dict[str, Film]) -> tuple[bytes, bytes]:
    """The adapter's form for ONNX Runtime / QNN backends, as a patch of the pack's QDQ synthesis graph.

    FiLM folds into each conv as w*g, b*g + t; in the QDQ graph that is the same int8 weights with per-channel weight
    scales times g, and new float biases. So only two float initializers per conv change, and they keep their sizes:
    the patch lists them (name -> new raw bytes) and a device applies it in place to its pack's graph (C#:
    EdgeCodec.Adapters.OnnxPatch), checking the SHA-256 of the base before and of the result after.
    Returns (patch, adapted graph bytes).
    """
    import hashlib

    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(pack_onnx)
    if model.SerializeToString() != pack_onnx:
        raise SystemExit("the pack's QDQ graph does not re-serialise byte-identically; an in-place patch cannot be built")
    inits = {i.name: i for i in model.graph.initializer}
    producers = {o: n for n in model.graph.node for o in n.output}
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    if len(convs) != len(LAYERS):
        raise SystemExit(f"the pack's QDQ graph has {len(convs)} convolutions, the adapter {len(LAYERS)}")
    entries = []
    for (out, _, _), conv in zip(LAYERS, convs):
        g = torch.exp(films[out].log_g).detach().double().numpy()
        t = films[out].t.detach().double().numpy()
        out_scale = 255.0 if out == "rgb" else 1.0  # the graph emits 0..255 RGB: its last conv is scaled by 255
        for name, value in ((producers[conv.input[1]].input[1], lambda a: a * g),
                            (conv.input[2], lambda a: a * g + out_scale * t)):
            tensor = inits[name]
            old = numpy_helper.to_array(tensor).astype(np.float64)
            new = value(old).astype(np.float32)
            assert new.shape == old.shape and tensor.raw_data and len(new.tobytes()) == len(tensor.raw_data), name
            tensor.raw_data = new.tobytes()
            entries.append((name, new.tobytes()))
    adapted = model.SerializeToString()
    assert len(adapted) == len(pack_onnx)
    patch = bytearray(b"ECOP")
    patch += struct.pack("<I", 1)
    patch += hashlib.sha256(pack_onnx).digest() + hashlib.sha256(adapted).digest()
    patch += struct.pack("<I", len(entries))
    for name, data in entries:
        encoded = name.encode()
        patch += struct.pack("<H", len(encoded)) + encoded + struct.pack("<I", len(data)) + data
    return bytes(patch), adapted


def load_domain(dirs: list[Path]) -> list[torch.Tensor]:
    files = sorted(p for d in dirs for p in d.rglob("*") if p.suffix.lower() in data.EXTENSIONS)
    if any("kodak" in str(f).lower() for f in files):
        raise ValueError("Kodak is evaluation-only")
    return [data.load_rgb(f).float() / 255.0 for f in files]


def crop_batch(images: list[torch.Tensor], rng: random.Random, batch: int, patch: int) -> torch.Tensor:
    out = []
    for _ in range(batch):
        im = images[rng.randrange(len(images))]
        _, h, w = im.shape
        y0, x0 = rng.randrange(h - patch + 1), rng.randrange(w - patch + 1)
        c = im[:, y0:y0 + patch, x0:x0 + patch]
        out.append(torch.flip(c, [2]) if rng.random() < 0.5 else c)
    return torch.stack(out)


def write_onnx_patch(pack: Path, out: Path, films: dict[str, Film]) -> None:
    with zipfile.ZipFile(pack) as z:
        base = z.read("onnx/synthesis.qdq.onnx")
    patch, _ = onnx_patch(base, films)
    (out / "synthesis.qdq.patch").write_bytes(patch)
    print(f"wrote {out}/synthesis.qdq.patch ({len(patch)} bytes)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pack", type=Path, required=True)
    ap.add_argument("--checkpoint", type=Path, help="the weights the pack was exported from (training only)")
    ap.add_argument("--images", type=Path, nargs="+", help="training images of the domain (required unless --onnx-only)")
    ap.add_argument("--domain")
    ap.add_argument("--id")
    ap.add_argument("--expert-id", type=int)
    ap.add_argument("--version", type=int, default=1)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--onnx-only", action="store_true", help="only (re)write synthesis.qdq.patch from the weights.bin in --out")
    args = ap.parse_args(argv)
    if not args.onnx_only and (not args.images or not args.domain or not args.id or not args.expert_id or not args.checkpoint):
        ap.error("training needs --checkpoint, --images, --domain, --id and --expert-id")
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    manifest, tensors, digest = read_pack(args.pack)
    if args.onnx_only:
        write_onnx_patch(args.pack, args.out, unfold(manifest, tensors, args.out))
        return
    model = frozen_model_of_pack(manifest, args.checkpoint)
    films = {out: Film(model.g_s.get_submodule(path).out_channels) for out, path, _ in LAYERS}
    params = [p for f in films.values() for p in f.parameters()]
    count = sum(p.numel() for p in params)
    gs_count = sum(p.numel() for p in model.g_s.parameters())
    opt = torch.optim.Adam(params, lr=args.lr)
    fq = qat.SynthesisFakeQuant.from_activation_scales(manifest["activation_scales"], model.g_s.plan)

    images = load_domain(args.images)
    print(f"{args.id}: {len(images)} images, {count} adapter parameters = {100 * count / gs_count:.2f} % of g_s ({gs_count})")
    nq = len(model.lambdas)
    t0 = time.time()
    for it in range(1, args.steps + 1):
        x = crop_batch(images, rng, args.batch, args.patch)
        q = torch.randint(0, nq, (args.batch,))
        y = latents(model, x, q)
        x_hat = fq(model.g_s, y, films)  # the int8 engine's picture, with the FiLM folded as the export folds it
        mse = ((x_hat - x) ** 2).mean(dim=(1, 2, 3))
        loss = torch.log(mse + 1e-8).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if it % 50 == 0 or it == 1:
            with torch.no_grad():
                base = ((fq(model.g_s, y) - x) ** 2).mean(dim=(1, 2, 3))
            gain_db = float((10 * torch.log10(base / mse)).mean())
            print(f"step {it}: adapted {float(-10 * torch.log10(mse).mean()):.2f} dB, "
                  f"{gain_db:+.2f} dB vs base on this batch ({(time.time() - t0) / it:.2f} s/step)", flush=True)

    layers = fold(manifest, tensors, films)
    args.out.mkdir(parents=True, exist_ok=True)
    weights = bytearray()
    for _, bias, mult, shift in layers:
        for arr in (bias, mult, shift):
            weights += struct.pack(f"<{len(arr)}i", *(int(v) for v in arr))
    (args.out / "weights.bin").write_bytes(bytes(weights))
    write_onnx_patch(args.pack, args.out, unfold(manifest, tensors, args.out))
    adapter_manifest = {
        "id": args.id, "expert_id": args.expert_id, "domain": args.domain, "version": args.version,
        "base_model_sha256": digest, "parameter_count": count,
        "layer_outputs": [l[0] for l in layers], "layer_channels": [len(l[1]) for l in layers],
    }
    (args.out / "manifest.json").write_text(json.dumps(adapter_manifest, indent=1) + "\n")
    print(f"wrote {args.out}/manifest.json and weights.bin ({len(weights)} bytes)")


if __name__ == "__main__":
    main()
