"""Smoke and unit tests of the training toolchain (run in CI; a few steps only)."""
from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training import aeprobe, data, export, intref, train
from training.model import (GROWN_KEYS, SCALE_LEVELS, EdgeCodecModel, decoder_kmac_per_pixel, encoder_kmac_per_pixel,
                            grow_latent, load_state, newest_group_slices)

REPO = Path(__file__).resolve().parents[2]


def shipped_weights() -> Path:
    """The shipped pack's source weights, fixed until the next release. Tests that need trained weights use these,
    not the training checkpoint (``train.DEFAULT_COMPACT``), which moves every session and once moved a test's
    measurement under its bound."""
    found = sorted((REPO / "models" / "checkpoints").glob("edgecodec-hp-*.pt"))
    assert len(found) == 1, "models/checkpoints holds exactly the shipped pack's weights"
    return found[0]


@pytest.fixture
def shipped_model() -> EdgeCodecModel:
    """The model with the shipped pack's source weights, in evaluation mode."""
    model = EdgeCodecModel()
    train.load_weights(model, shipped_weights())
    return model.eval()


def test_decoder_budget_is_at_most_20_kmac_per_pixel():
    kmac = decoder_kmac_per_pixel(EdgeCodecModel())
    assert kmac["g_s"] + kmac["h_s"] + kmac["context"] == pytest.approx(kmac["total"])
    assert kmac["total"] <= 20.0


def test_kodak_is_refused_as_training_data(tmp_path):
    kodak = tmp_path / "kodak"
    kodak.mkdir()
    with pytest.raises(ValueError, match="evaluation-only"):
        data.list_images([kodak])


def test_validation_photos_are_held_out_of_training():
    train_files, val_files = data.list_images([data.SHARED / "wikipedia-photos"])
    assert len(val_files) == data.VALIDATION_COUNT
    assert not set(train_files) & set(val_files)


def test_rshift_round_is_half_up_on_negatives():
    x = np.array([-5, -6, -2, 5, 6, 2], dtype=np.int64)
    assert intref.rshift_round(x, 2).tolist() == [-1, -1, 0, 1, 2, 1]


def test_depth_to_space_matches_pixel_shuffle():
    x = torch.arange(2 * 4 * 3 * 5).reshape(1, 8, 3, 5)
    ref = torch.nn.PixelShuffle(2)(x)[0].numpy()
    assert (intref.depth_to_space(x[0].numpy(), 2) == ref).all()


def test_conv_pads_with_the_zero_point():
    x = intref.U8(np.full((1, 2, 2), 128, dtype=np.int64), 128)
    w = np.ones((1, 1, 3, 3), dtype=np.int64)
    acc = intref.conv_u8([x], w, np.array([-128 * 9]))
    assert (acc == 0).all()  # a tensor of real zeros, padded with real zeros, stays zero


def test_mult_shift_round_trips_scales():
    for m in [1e-6, 0.0031, 0.5, 1.0, 1.7, 123.4]:
        mult, shift = export.mult_shift(m)
        assert 2 ** 30 <= mult < 2 ** 31 or shift == 62
        assert mult * 2.0 ** -shift == pytest.approx(m, rel=1e-8)


@pytest.mark.parametrize("seed", range(5))
def test_quantized_cdfs_are_valid(seed):
    rng = np.random.default_rng(seed)
    pmf = rng.dirichlet(np.full(rng.integers(1, 300), 0.1))
    pmf[rng.integers(0, pmf.size)] += 1000.0  # one huge weight
    pmf /= pmf.sum()
    cdf = export.quantize_pmf(pmf * 0.999)
    freq = np.diff(cdf)
    assert cdf[0] == 0 and cdf[-1] == 65536 and len(cdf) == pmf.size + 2
    assert freq.min() >= 1


def test_gaussian_tables_cover_every_scale_level():
    cdfs, offsets = export.gaussian_tables()
    assert len(cdfs) == SCALE_LEVELS
    widths = [len(c) - 2 for c in cdfs]
    assert widths == sorted(widths) and widths[0] >= 3
    for c, o in zip(cdfs, offsets):
        assert o == -((len(c) - 3) // 2)


def test_a_pre_growth_checkpoint_loads_and_computes_the_same_function():
    torch.manual_seed(3)
    trained = EdgeCodecModel()
    old = {k: v for k, v in trained.state_dict().items() if not k.startswith(GROWN_KEYS)}
    grown = EdgeCodecModel()
    missing = load_state(grown, old)
    assert missing and all(k.startswith(GROWN_KEYS) for k in missing)
    x = torch.rand(1, 3, 128, 128)
    plain = x
    for i in range(7):  # the encoder as it was before the growth: the nn.Sequential of these seven layers
        plain = trained.g_a._modules[str(i)](plain)
    with torch.no_grad():
        assert torch.equal(grown.g_a(x), plain)
        # Once trained, the residual blocks change the function.
        for block in (grown.g_a.res4, grown.g_a.res8, grown.g_a.res16):
            before = grown.g_a(x)
            torch.nn.init.normal_(block.conv2.weight, std=0.1)
            assert not torch.allclose(grown.g_a(x), before)


def test_the_grown_synthesis_starts_as_the_function_it_was_grown_from_and_can_learn():
    """g_s grew a zero-initialised residual conv at 1/4 resolution (step 49,060): loaded from a checkpoint without
    it, g_s must compute the pre-growth layer order exactly, and both the float and the fake-quant forward must
    pass gradients into the new layer (a ReLU right after a zero conv would not)."""
    from training import qat

    torch.manual_seed(4)
    trained = EdgeCodecModel()
    old = {k: v for k, v in trained.state_dict().items() if not k.startswith("g_s.res4.")}
    grown = EdgeCodecModel()
    grown.g_s.variant = "relu-mid"  # the growth predates the signed-mid synthesis
    assert load_state(grown, old) == ["g_s.res4.weight", "g_s.res4.bias"]
    gs, y = grown.g_s, torch.randn(1, grown.m, 6, 5)
    with torch.no_grad():
        a3 = F.relu(gs.mid(F.relu(gs.up1(y)))) + F.relu(gs.up1(y))
        before = gs.up4(F.relu(gs.up3(F.relu(gs.up2(a3)))))  # the layer order before the growth
        assert torch.equal(gs(y), before)
    for fake_quant in (False, True):
        if fake_quant:
            qat.enable(grown, [torch.rand(3, 64, 64)])
        grown.zero_grad()
        grown.g_s(y).square().mean().backward()
        assert gs.res4.weight.grad.abs().sum() > 0 and gs.res4.bias.grad.abs().sum() > 0, fake_quant


def test_converting_to_the_signed_mid_synthesis_keeps_what_dormant_units_did(tmp_path):
    """resynth: a relu-mid model whose g_s.mid units are all dormant computes a1 + 0; after the conversion the
    signed-mid model computes ReLU(a1 + 0) = a1, the same picture, and the 1/8 branch now gets gradients. The
    checkpoint records the variant and loading it sets it; a checkpoint that names none is relu-mid."""
    from training import resynth, revive

    torch.manual_seed(6)
    model = EdgeCodecModel()
    model.g_s.variant = "relu-mid"
    _silence(model, "g_s.mid", list(range(model.g_s.mid.out_channels)))
    y = torch.randn(1, model.m, 5, 4)
    with torch.no_grad():
        before = model.g_s(y)
    active = revive.activity(model, [torch.rand(3, 64, 64)])["g_s.mid"]
    assert resynth.convert(model, active, 0.001, "keep") == list(range(model.g_s.mid.out_channels))
    assert model.g_s.variant == "signed-mid" and [s.out for s in model.g_s.plan if s.signed] == ["a2", "r4"]
    with torch.no_grad():
        assert torch.equal(model.g_s(y), before)
    model.g_s(y).square().mean().backward()
    assert model.g_s.mid.weight.grad.abs().sum() > 0  # the zeroed branch learns (a ReLU after it would not)
    with pytest.raises(ValueError, match="not relu-mid"):
        resynth.convert(model, active, 0.001, "keep")

    train.save_compact(model, 7, tmp_path / "signed.pt")
    loaded = EdgeCodecModel()
    loaded.g_s.variant = "relu-mid"
    train.load_weights(loaded, tmp_path / "signed.pt")
    assert loaded.g_s.variant == "signed-mid"
    legacy = torch.load(tmp_path / "signed.pt")
    del legacy["synthesis"]
    torch.save(legacy, tmp_path / "legacy.pt")
    train.load_weights(loaded, tmp_path / "legacy.pt")
    assert loaded.g_s.variant == "relu-mid"
    with pytest.raises(ValueError, match="unknown synthesis variant"):
        loaded.g_s.variant = "gdn"
    from training.model import SYNTH_PLANS, SYNTH_RESIDUALS
    assert set(SYNTH_RESIDUALS) == set(SYNTH_PLANS)  # the model card describes every variant


def test_a_checkpoint_of_another_model_is_refused():
    state = EdgeCodecModel().state_dict()
    state["g_s.extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="unexpected"):
        load_state(EdgeCodecModel(), state)
    del state["g_s.extra.weight"], state["h_s.0.conv.weight"]
    with pytest.raises(ValueError, match="missing"):
        load_state(EdgeCodecModel(), state)


def test_training_resumes_from_its_checkpoint(tmp_path):
    args = ["--patch", "64", "--batch", "2", "--run-dir", str(tmp_path / "run"), "--compact",
            str(tmp_path / "c.pt"), "--log", str(tmp_path / "log.csv"), "--save-every", "2", "--seed", "1"]
    train.main(["--steps", "2"] + args)
    train.main(["--steps", "3"] + args)
    ck = torch.load(tmp_path / "run" / "last.pt")
    assert ck["step"] == 3
    compact = torch.load(tmp_path / "c.pt")
    assert compact["step"] == 3
    assert all(v.dtype != torch.float32 for v in compact["weights"].values())
    train.main(["--steps", "4", "--lr", "2e-5", "--grown-lr", "1e-4", "--encoder-lr", "5e-5"] + args)
    assert [g["lr"] for g in torch.load(tmp_path / "run" / "last.pt")["opt"]["param_groups"]] == [2e-5, 1e-4, 5e-5]
    # Tiled steps (every step here): 128-px crops in 64-px entropy tiles.
    train.main(["--steps", "6", "--tiled-prob", "1", "--tiled-patch", "128", "--tile", "4"] + args)
    assert torch.load(tmp_path / "run" / "last.pt")["step"] == 6
    # An interrupted run logged steps after its last checkpoint; the resumed run writes them again, once.
    with open(tmp_path / "log.csv", "a") as f:
        f.write("0,7,9.9,0,0,0,0,0,0,\n0,8,9.9,0,0,0,0,0,0,\n")
    train.main(["--steps", "7"] + args)
    assert "9.9" not in (tmp_path / "log.csv").read_text()  # dropped (and steps 7, 8 log nothing: rows every 50)
    with pytest.raises(SystemExit, match="a multiple of 64 px"):
        train.main(["--steps", "7", "--tiled-prob", "1", "--tiled-patch", "96", "--tile", "4"] + args)
    with pytest.raises(SystemExit, match="do not hold whole 64-px tiles"):  # the tiled validation's crops
        train.main(["--steps", "8", "--val-tiled", "4", "--val-tiled-size", "96"] + args)


def test_a_resumed_run_can_add_a_quality_level_below_the_trained_ones(tmp_path):
    from training.model import DEFAULT_LAMBDAS, model_for, relevel_rows

    args = ["--patch", "64", "--batch", "2", "--run-dir", str(tmp_path / "run"), "--compact",
            str(tmp_path / "c.pt"), "--log", str(tmp_path / "log.csv"), "--save-every", "2", "--seed", "1"]
    train.main(["--steps", "2"] + args)
    before = torch.load(tmp_path / "run" / "last.pt")["model"]
    seven = (0.00018,) + DEFAULT_LAMBDAS
    train.main(["--steps", "3", "--lr", "0", "--lambdas", ",".join(map(str, seven))] + args)
    ck = torch.load(tmp_path / "run" / "last.pt")
    assert tuple(ck["lambdas"]) == seven and ck["model"]["log_gain"].shape[0] == 7
    assert ck["ema_since"] == 2  # the weight average started again at the resume
    # lr 0: the trained levels keep their vectors (now rows 1..6); the new row extends the first segment
    for key in ("log_gain", "log_igain"):
        assert torch.equal(ck["model"][key][1:], before[key])
        assert torch.allclose(ck["model"][key], relevel_rows(before[key], DEFAULT_LAMBDAS, seven))
        t = (math.log(0.00018) - math.log(DEFAULT_LAMBDAS[0])) / (math.log(DEFAULT_LAMBDAS[1]) - math.log(DEFAULT_LAMBDAS[0]))
        assert t < 0 and torch.allclose(ck["model"][key][0], (1 - t) * before[key][0] + t * before[key][1], atol=1e-6)
    # later resumes, exports and tools take the checkpoint's levels without being told
    train.main(["--steps", "4"] + args)
    assert tuple(torch.load(tmp_path / "run" / "last.pt")["lambdas"]) == seven
    assert model_for(torch.load(tmp_path / "c.pt")).lambdas == seven
    with pytest.raises(ValueError, match="cannot re-level"):
        relevel_rows(before["log_gain"], DEFAULT_LAMBDAS[:-1], seven)


def test_trimming_a_log_keeps_its_header_and_the_rows_up_to_the_step(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("time,step,val\n1,10,a\n2,20,b\n3,30,c\n")
    assert train.trim_log(log, 20) == 1
    assert log.read_text().splitlines() == ["time,step,val", "1,10,a", "2,20,b"]
    assert train.trim_log(log, 20) == 0 and train.trim_log(tmp_path / "none.csv", 0) == 0


@torch.no_grad()
def test_the_tiled_regime_codes_each_entropy_tile_alone():
    from training.model import from_tiles, to_tiles

    torch.manual_seed(2)
    y = torch.randn(2, 3, 8, 12)
    tiles = to_tiles(y, 4)
    assert tiles.shape == (12, 3, 4, 4)
    assert torch.equal(tiles[4], y[0, :, 4:8, 4:8]) and torch.equal(tiles[6 + 2], y[1, :, 0:4, 8:12])
    assert torch.equal(from_tiles(tiles, y.shape), y)
    with pytest.raises(ValueError, match="does not split"):
        to_tiles(y, 5)

    model = EdgeCodecModel()
    train.load_weights(model, shipped_weights())  # trained: its hyper and context models respond to tile borders
    model.eval()
    x = torch.nn.functional.interpolate(torch.rand(1, 3, 16, 16), size=(128, 128), mode="bilinear")
    q = torch.tensor([3])
    plain = model(x, q, hard=True)
    whole = model(x, q, hard=True, tile=8)  # one tile = the whole latent
    assert torch.equal(whole["x_hat"], plain["x_hat"]) and torch.equal(whole["y_bits"], plain["y_bits"])
    tiled = model(x, q, hard=True, tile=4, drop_groups=2)
    y = model.g_a(x) * torch.exp(model.log_gain[q]).view(1, -1, 1, 1)
    bits = 0.0
    for r in range(2):
        for c in range(2):  # each tile's entropy path on its own latents: h_a, h_s and the context models see no other
            yt = y[:, :, 4 * r:4 * r + 4, 4 * c:4 * c + 4]
            hyper = model.hyper(torch.round(model.h_a(yt)))
            bits = bits + model.code_groups(hyper, yt, lambda v: (torch.round(v), torch.round(v)))[0]
    assert float(tiled["y_bits"]) == pytest.approx(float(bits), rel=1e-5)
    assert float(tiled["y_bits"]) > 1.01 * float(plain["y_bits"])  # borders inside the picture cost bits
    assert tiled["x_hat"].shape == tiled["x_hat_drop"].shape == x.shape
    with pytest.raises(ValueError, match="hyper-latents"):
        model(x, q, tile=2)


@torch.no_grad()
def test_the_checkerboard_probe_starts_as_the_model_and_learns_from_the_anchors(shipped_model):
    from training import ctxprobe

    model = shipped_model
    x, q = torch.rand(1, 3, 128, 128), torch.tensor([2])
    plain = model(x, q, hard=True)
    spatial = ctxprobe.spatial_branches(model)
    for arm in (None, spatial):  # zero-initialised branches: the model's own function
        out = ctxprobe.forward(model, arm, x, q, hard=True)
        assert torch.allclose(out["x_hat"], plain["x_hat"], atol=1e-6)
        assert float(out["y_bits"] + out["z_bits"]) == pytest.approx(float(plain["y_bits"] + plain["z_bits"]), rel=1e-6)
    for conv in spatial:
        torch.nn.init.normal_(conv.weight, std=0.05)
    moved = ctxprobe.forward(model, spatial, x, q, hard=True)
    assert float(moved["y_bits"] + moved["z_bits"]) != pytest.approx(float(plain["y_bits"] + plain["z_bits"]), rel=1e-4)
    mask = ctxprobe.anchor_mask(8, 8)
    assert float(mask.sum()) == 32 and mask[0, 0, 0, 0] == 1 and mask[0, 0, 0, 1] == 0


def test_a_fresh_optimizer_warms_its_learning_rates_up_and_a_resumed_one_does_not(tmp_path):
    args = ["--patch", "64", "--batch", "2", "--run-dir", str(tmp_path / "run"), "--compact", str(tmp_path / "c.pt"),
            "--log", str(tmp_path / "log.csv"), "--save-every", "1", "--seed", "1", "--lr", "1e-4", "--warmup", "4"]
    train.main(["--steps", "2"] + args)
    assert [g["lr"] for g in torch.load(tmp_path / "run" / "last.pt")["opt"]["param_groups"]] == [5e-5] * 3
    train.main(["--steps", "3"] + args)  # the optimizer's state is restored: full rate at once
    assert [g["lr"] for g in torch.load(tmp_path / "run" / "last.pt")["opt"]["param_groups"]] == [1e-4] * 3
    (tmp_path / "run" / "last.pt").unlink()  # a weights-only resume, as at the start of a session
    train.main(["--steps", "4"] + args)
    assert [g["lr"] for g in torch.load(tmp_path / "run" / "last.pt")["opt"]["param_groups"]] == [2.5e-5] * 3


def test_a_checkpoint_with_a_removed_layer_loads_without_it():
    from training.model import REMOVED_KEYS

    torch.manual_seed(5)
    model = EdgeCodecModel()
    state = dict(model.state_dict())
    state[REMOVED_KEYS[0] + "conv1.weight"] = torch.zeros(48, 96, 3, 3)
    other = EdgeCodecModel()
    assert load_state(other, state) == []
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in other.state_dict().items())
    state["g_a.res9.conv1.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="unexpected"):
        load_state(other, state)


def test_the_encoder_only_and_the_newest_grown_parameters_get_their_own_learning_rate(monkeypatch):
    monkeypatch.setattr(train, "NEWEST_GROWTH", ("g_a.res16.",))
    model = EdgeCodecModel()
    rest, grown, encoder = train.parameter_groups(model)
    names = {id(p): n for n, p in model.named_parameters()}
    assert len(rest) + len(grown) + len(encoder) == len(names)
    assert len({id(p) for p in rest + grown + encoder}) == len(names)
    assert all(names[id(p)].startswith(("g_a.", "h_a.")) for p in encoder)
    assert {names[id(p)].split(".")[0] for p in rest} >= {"g_s", "h_s", "context", "entropy_bottleneck"}
    assert grown and all(names[id(p)].startswith("g_a.res16.") for p in grown)
    assert all(not names[id(p)].startswith(("g_a.", "h_a.")) for p in rest)


def test_export_writes_a_pack_the_csharp_side_reads(tmp_path):
    export.main(["--random-init", "--out", str(tmp_path), "--vectors", str(tmp_path / "vectors"),
                 "--calib-crops", "2", "--residual-crops", "1"])
    pack = next(tmp_path.glob("edgecodec-hp-*.ecpack"))
    with zipfile.ZipFile(pack) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert set(manifest["files"]) <= set(z.namelist())
    assert manifest["decoder_kmac_per_pixel"]["total"] <= 20.0
    rates = manifest["residual"]["ladder_bpp"]  # the ladder's measured rates, one per setting, in order of size
    assert len(rates) == len(manifest["residual"]["ladder"]) and all(r > 0 for r in rates) and rates == sorted(rates)
    meta = json.loads((tmp_path / "vectors" / "vectors.json").read_text())
    assert manifest["format_version"] == 2 and meta["pack_sha256"] == export.pack_identity(pack.read_bytes())
    assert meta["pack_sha256"].startswith(pack.stem.split("-")[-1])
    cli = csharp_cli()
    assert "vectors: identical" in cli("model", "verify", str(pack), "--vectors", str(tmp_path / "vectors"))
    # A decoder-only copy keeps the identity, so the same vectors (which name the pack by it) verify against it.
    (tmp_path / "decoder").mkdir()
    cli("model", "strip", str(pack), "--out", str(tmp_path / "decoder"))
    copy = next((tmp_path / "decoder").glob("*.ecpack"))
    with zipfile.ZipFile(copy) as z:
        assert not [n for n in z.namelist() if n.startswith("onnx/")]
    assert copy.stat().st_size < pack.stat().st_size and export.pack_identity(copy.read_bytes()) == meta["pack_sha256"]
    assert "vectors: identical" in cli("model", "verify", str(copy), "--vectors", str(tmp_path / "vectors"))


def test_adapter_trains_exports_and_the_csharp_side_verifies_it(tmp_path):
    """A few adapter steps on a random-init pack: fold/unfold agree, the ONNX patch applies, C# signs and verifies."""
    from PIL import Image

    from training import adapters

    pack, checkpoint = random_init_pack(tmp_path)
    images = tmp_path / "domain"
    images.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (128, 160, 3), dtype=np.uint8)).save(images / f"{i}.png")
    out = tmp_path / "adapter"
    adapters.main(["--pack", str(pack), "--checkpoint", str(checkpoint), "--images", str(images),
                   "--domain", "test", "--id", "smoke", "--expert-id", "3", "--steps", "2", "--patch", "64",
                   "--batch", "2", "--lr", "0.05", "--out", str(out)])
    manifest = json.loads((out / "manifest.json").read_text())
    film_channels = sum(EdgeCodecModel().g_s.get_submodule(path).out_channels for _, path, _ in adapters.LAYERS)
    assert film_channels == 1004  # a scale and a shift per output channel of g_s's 6 convolutions
    assert manifest["parameter_count"] == 2 * film_channels and manifest["base_model_sha256"] == export_sha(pack)

    # unfold(weights.bin) recovers the trained scales closely (integer rounding only)
    pack_manifest, tensors, _ = adapters.read_pack(pack)
    films = adapters.unfold(pack_manifest, tensors, out)
    layers = adapters.fold(pack_manifest, tensors, films)
    raw = np.frombuffer((out / "weights.bin").read_bytes(), dtype="<i4")
    refolded = np.concatenate([np.concatenate([b, m, s]) for _, b, m, s in layers])
    assert np.abs(refolded - raw).max() <= 1

    # the ONNX patch rewrites only float initializers in place and promises the right result
    patch = (out / "synthesis.qdq.patch").read_bytes()
    assert patch[:4] == b"ECOP" and len(patch) < 16_000

    run = csharp_cli()
    package = tmp_path / "smoke.ecadapter"
    run("adapters", "pack", "--manifest", str(out / "manifest.json"), "--weights", str(out / "weights.bin"),
        "--onnx-patch", str(out / "synthesis.qdq.patch"), "-o", str(package))
    run("keys", "new", "--out", str(tmp_path / "keys"))
    run("adapters", "sign", str(package), "--key", str(tmp_path / "keys" / "publisher.key.pem"))
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "publisher.pub.pem").write_bytes((tmp_path / "keys" / "publisher.pub.pem").read_bytes())
    assert "verified" in run("adapters", "verify", str(package), "--trust", str(trust), "--model", str(pack))


def random_init_pack(tmp_path: Path, residual_crops: int = 0) -> tuple[Path, Path]:
    """A random-init compact checkpoint (step 0) and the pack exported from it, as a real pack is exported from a
    compact checkpoint (whose fp16 weights are what the pack's integer ranges are calibrated on); with
    ``residual_crops`` its residual layer's tables are fitted on that many crops."""
    torch.manual_seed(0)
    train.save_compact(EdgeCodecModel(), 0, tmp_path / "init.pt")
    export.main(["--checkpoint", str(tmp_path / "init.pt"), "--out", str(tmp_path), "--vectors", str(tmp_path / "v"),
                 "--calib-crops", "2", "--residual-crops", str(residual_crops)])
    return next(tmp_path.glob("edgecodec-hp-*.ecpack")), tmp_path / "init.pt"


CLI_DLL = REPO / "sdk" / "EdgeCodec.Cli" / "bin" / "Release" / "net10.0" / "EdgeCodec.Cli.dll"


def csharp_cli():
    """Runs the built C# CLI (skips the test when it is not built) and returns its stdout; a failure fails the test."""
    if not CLI_DLL.exists():
        pytest.skip("build the CLI first (scripts/test.sh does): " + str(CLI_DLL))

    def run(*args):
        r = subprocess.run(["dotnet", str(CLI_DLL), *args], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    return run


def export_sha(pack: Path) -> str:
    return export.pack_identity(pack.read_bytes())


def test_sga_rounding_becomes_hard_rounding_as_it_cools():
    from training import refine
    torch.manual_seed(0)
    v = torch.randn(10_000) * 3
    cold = refine.sga_round(v, 1e-3)
    clear = (v - torch.floor(v) - 0.5).abs() > 0.02  # away from the x.5 ties the annealing still flips at random
    assert float((cold - torch.round(v))[clear].abs().max()) < 1e-3
    warm = refine.sga_round(v, 0.5)
    assert set(torch.unique(torch.floor(warm + 1e-6) - torch.floor(v)).tolist()) <= {0.0, 1.0}
    assert float((warm - torch.round(v)).abs().mean()) > 0.05  # still soft


def test_rdoq_rounds_to_the_nearest_when_distortion_dominates_and_saves_bits_when_it_does_not(shipped_model):
    from training import rdoq
    torch.manual_seed(0)
    x = torch.rand(3, 64, 64)
    nearest = rdoq.code(shipped_model, x, 3, None, 0.0)
    weights = torch.ones(shipped_model.m)
    assert rdoq.code(shipped_model, x, 3, weights, 1e9) == pytest.approx(nearest)  # rounding error costs everything
    cheap_bits, cheap_error = rdoq.code(shipped_model, x, 3, weights, 1e-6)  # rounding error costs nothing
    assert cheap_bits < 0.95 * nearest[0] and cheap_error > nearest[1]
    gains = rdoq.synthesis_gains(shipped_model, [x], 3)
    assert gains.shape == (shipped_model.m,) and bool((gains > 0).all())


def blocky_picture(tmp_path: Path, seed: int, width: int, height: int) -> tuple[Path, np.ndarray]:
    """A folder ``images`` holding ``pic.png``: random 12-px blocks of colour, and the picture as an array."""
    from PIL import Image
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(seed)
    picture = np.kron(rng.integers(0, 255, (height // 12 + 1, width // 12 + 1, 3)), np.ones((12, 12, 1)))[:height, :width]
    picture = picture.astype(np.uint8)
    Image.fromarray(picture).save(images / "pic.png")
    return images, picture


def test_refined_latents_are_never_worse_and_the_csharp_encoder_codes_them(tmp_path):
    """Studio encoder smoke: refine a small image for a random-init pack, check the file format both ways, then let
    the C# CLI entropy-code the latents and decode the container."""
    from PIL import Image

    from training import adapters, refine

    pack, checkpoint = random_init_pack(tmp_path)
    images, smooth = blocky_picture(tmp_path, seed=1, width=150, height=100)
    out = tmp_path / "latents"
    refine.main(["--pack", str(pack), "--checkpoint", str(checkpoint), "--images", str(images),
                 "--qualities", "1", "--iters", "6", "--threads", "1", "--calib-crops", "2", "--out", str(out)])
    raw = (out / "pic.q1.eclt").read_bytes()
    f = refine.decode_file(raw)
    assert (f["width"], f["height"], f["quality"], f["iters"]) == (150, 100, 1, 6)
    assert f["y"].shape == (128, 8, 12) and f["z"].shape == (64, 2, 3)
    assert f["model_id"] == int(export_sha(pack)[:16], 16)
    with pytest.raises(ValueError):
        refine.decode_file(raw[:-1] + bytes([raw[-1] ^ 1]))

    model = adapters.frozen_model_of_pack(adapters.read_pack(pack)[0], checkpoint)
    r = refine.refine(model, torch.from_numpy(smooth).permute(2, 0, 1), 1, 6)
    assert r["after"][2] <= r["before"][2]

    run = csharp_cli()
    assert "refined latents, 6 iterations" in run("encode", str(images / "pic.png"), "--latents", str(out / "pic.q1.eclt"),
                                                 "-o", str(tmp_path / "refined.ecx"), "--model", str(pack))
    run("decode", str(tmp_path / "refined.ecx"), "-o", str(tmp_path / "refined.png"), "--model", str(pack))
    assert Image.open(tmp_path / "refined.png").size == (150, 100)
    (out / "bad.q1.eclt").write_bytes(raw[:-1] + bytes([raw[-1] ^ 1]))
    with pytest.raises(AssertionError, match="CRC"):
        run("encode", str(images / "pic.png"), "--latents", str(out / "bad.q1.eclt"), "-o", str(tmp_path / "bad.ecx"),
            "--model", str(pack))
    assert not (tmp_path / "bad.ecx").exists()


def test_the_studio_encoder_refines_ladder_rungs_with_the_residual_layer_in_the_loop(tmp_path):
    """refine --ladder: a rung with a step is refined with the layer in the loop (never worse by its own measure),
    written as IMG.q<N>r<S>.eclt with the step in the file, and the C# encoder codes it at that rung by default."""
    from training import adapters, refine, residual

    pack, checkpoint = random_init_pack(tmp_path, residual_crops=1)
    tables = residual.PackTables.of_pack(pack)
    level, step = next((lv, st) for lv, st in tables.ladder if st >= 0)
    images, picture = blocky_picture(tmp_path, seed=2, width=100, height=70)
    out = tmp_path / "latents"
    refine.main(["--pack", str(pack), "--checkpoint", str(checkpoint), "--images", str(images), "--ladder",
                 "--qualities", str(level), "--iters", "4", "--threads", "1", "--calib-crops", "2", "--out", str(out)])
    rungs = [st for lv, st in tables.ladder if lv == level]
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(refine.file_name("pic", level, None if st < 0 else st) for st in rungs)
    f = refine.decode_file((out / refine.file_name("pic", level, step)).read_bytes())
    assert (f["version"], f["quality"], f["step"], f["iters"]) == (2, level, step, 4)

    model = adapters.frozen_model_of_pack(adapters.read_pack(pack)[0], checkpoint)
    r = refine.refine(model, torch.from_numpy(picture).permute(2, 0, 1), level, 4, layer=refine.Layer(tables, level, step))
    assert r["step"] == step and r["after"][2] <= r["before"][2]

    said = csharp_cli()("encode", str(images / "pic.png"), "--latents", str(out / refine.file_name("pic", level, step)),
                        "-o", str(tmp_path / "rung.ecx"), "--model", str(pack))
    assert f"+ residual step {step}" in said and "refined latents, 4 iterations" in said


def test_the_layer_s_differentiable_cost_prices_the_encoder_s_choices():
    """soft_layer_cost keeps the encoder's quantisation (its error is layer_cost's on a whole-pixel residual) and its
    bits fall as the residual shrinks, with a gradient that points there."""
    from training import residual
    torch.manual_seed(3)
    rows = [[residual.NOT_CODED] * 768, [20] * 768]
    weights = [30000, 30000]
    r = torch.round(torch.randn(3, 32, 48) * 12)
    bits, se = residual.layer_cost(r.double(), rows, weights, 8.0)
    soft = r.float().clone().requires_grad_(True)
    soft_bits, soft_se = residual.soft_layer_cost(soft, rows, weights, 8.0)
    assert abs(float(soft_se) - se) < 1e-3 * se
    (soft_bits / 1000).backward()
    assert float((soft.grad * r).sum()) > 0  # descending the bits shrinks the residual
    assert float(residual.soft_layer_cost(r.float() * 0.7, rows, weights, 8.0)[0]) < float(soft_bits)
    assert bits > 0 and residual.slope(8.0) > residual.slope(16.0)


def test_refined_latents_files_of_version_1_still_read():
    from training import refine
    y = torch.zeros(128, 4, 4)
    r = {"y": y, "z": torch.zeros(64, 1, 1, dtype=torch.int32), "width": 64, "height": 64}
    v2 = refine.encode_file(r, 7, 2, 5)
    body = v2[:4] + struct.pack("<H", 1) + v2[6:40] + v2[44:-4]
    f = refine.decode_file(body + struct.pack("<I", zlib.crc32(body)))
    assert (f["version"], f["quality"], f["step"], f["iters"]) == (1, 2, None, 5) and f["y"].shape == (128, 4, 4)
    assert refine.decode_file(v2)["step"] is None


def test_the_integer_target_runs_the_pack_s_ranges_and_refuses_other_ones(tmp_path):
    """The studio encoder's integer target recomputes the export's calibration: its synthesis ranges must be the
    pack's, its picture the fake-quant one (not the float one), and a pack with other ranges is refused."""
    from training import adapters, refine

    pack, checkpoint = random_init_pack(tmp_path)
    manifest = adapters.read_pack(pack)[0]
    model = adapters.frozen_model_of_pack(manifest, checkpoint)
    x = torch.rand(1, 128, 8, 12) * 4
    with torch.no_grad():
        float_picture = model.g_s(x)
        refine.integer_target(model, manifest, calib_crops=2)
        assert model.entropy_fake_quant is not None
        shipped = manifest["activation_scales"]
        assert model.g_s.fake_quant.scales == pytest.approx({k: float(shipped[k]) for k in model.g_s.fake_quant.scales},
                                                            rel=1e-12)
        int_picture = model.g_s(x)
    assert torch.equal(int_picture, torch.round(int_picture * 255) / 255)  # the engine's 8-bit output
    assert not torch.equal(int_picture, float_picture.clamp(0, 1))
    manifest["activation_scales"]["a2"] *= 1.01
    with pytest.raises(SystemExit, match="a2"):
        refine.integer_target(adapters.frozen_model_of_pack(manifest, checkpoint), manifest, calib_crops=2)


def test_the_shipped_pack_has_the_weights_it_was_exported_from():
    """The studio encoder and adapter training need the exact float weights of the shipped pack."""
    from training import adapters

    pack = next((REPO / "models").glob("edgecodec-hp-*.ecpack"))
    weights = REPO / "models" / "checkpoints" / (pack.stem + ".pt")
    assert weights.exists(), f"commit the weights {pack.name} was exported from as {weights}"
    manifest, tensors, digest = adapters.read_pack(pack)
    model = adapters.frozen_model_of_pack(manifest, weights)  # refuses another training step
    assert pack.stem.endswith(digest[:12])
    # and they are those weights: the pack's integer g_s output layer is the quantised float one
    conv = model.g_s.up4.conv
    w = tensors["synth.up4.weight"].astype(np.float64)
    assert w.shape == tuple(conv.weight.shape)
    f = conv.weight.detach().double().numpy()
    corr = [np.corrcoef(w[o].ravel(), f[o].ravel())[0, 1] for o in range(w.shape[0])]  # int8 scales are per output channel
    assert min(corr) > 0.99


def test_the_shipped_pack_s_calibration_replays_from_its_weights():
    """The studio encoder's integer target (refine.integer_target) recomputes the shipped pack's ranges from its weights
    and refuses if they differ. The replay must depend on nothing but the weights and the calibration crops (packs up
    to c189c487d731 also depended on the global generator's state, which a model change could move)."""
    from training import adapters, refine

    if len(data.default_dirs()) < 2:
        pytest.skip("the calibration crops come from the fetched training photos: python3 -m training.fetch_data")
    pack = next((REPO / "models").glob("edgecodec-hp-*.ecpack"))
    manifest = adapters.read_pack(pack)[0]
    model = adapters.frozen_model_of_pack(manifest, REPO / "models" / "checkpoints" / (pack.stem + ".pt"))
    with torch.no_grad():
        refine.integer_target(model, manifest)  # SystemExit if a recomputed range differs by more than 1e-4


def _shipped_pack_on_a_validation_crop():
    """The shipped pack's float model, a 128x192 validation crop, its calibration and the integer graphs built from
    it: what the fake-quant tests compare against."""
    from training import adapters

    pack = next((REPO / "models").glob("edgecodec-hp-*.ecpack"))
    manifest, _, _ = adapters.read_pack(pack)
    model = adapters.frozen_model_of_pack(manifest, REPO / "models" / "checkpoints" / (pack.stem + ".pt"))
    _, val_files = data.list_images(data.default_dirs())
    x = (data.load_rgb(val_files[0])[:, :128, :192].float() / 255.0).unsqueeze(0)
    cal = export.calibrate(model, [x[0]])
    b, graphs, _ = export.build_graphs(model, cal)
    return model, x, cal, b, graphs


def _integer_entropy_path(model, b, graphs, x, q):
    """The float trace of ``x`` at quality ``q`` and the integer reference's hyper decoder and context models on it."""
    tr = export.float_trace(model, x, q)
    y = (model.g_a(x) * torch.exp(model.log_gain[q]).view(1, -1, 1, 1))[0].double().numpy()
    return tr, export.int_hyper_and_context(b, graphs, tr["z"][0].numpy().astype(np.int64), y, model.groups,
                                            model.group_ch)


def test_fake_quant_synthesis_reproduces_the_integer_engine():
    """QAT trains against what the integer graphs compute: on the shipped pack's weights the fake-quant synthesis
    must land within a rounding step of the integer reference, far closer than the float synthesis does."""
    from training import qat

    model, x, cal, b, graphs = _shipped_pack_on_a_validation_crop()
    fq = qat.SynthesisFakeQuant(cal, model.g_s.plan)
    with torch.no_grad():
        for q in (0, 5):
            tr, ent = _integer_entropy_path(model, b, graphs, x, q)
            y16 = np.concatenate(ent["y"], 0)
            xi = intref.run_graph(graphs["synthesis"], {"y": y16}, b.weights, quality=q)["rgb"].data
            y_in = torch.tensor(y16, dtype=torch.float32).unsqueeze(0) / 2 ** export.MEAN_FRACTION_BITS
            y_in = y_in * torch.exp(model.log_igain[q]).view(1, -1, 1, 1)
            xq = (fq(model.g_s, y_in)[0] * 255).round().numpy()
            xf = (model.g_s(y_in).clamp(0, 1)[0] * 255).round().numpy()
            d_q, d_f = np.abs(xq - xi), np.abs(xf - xi)
            assert d_q.max() <= 2 and d_q.mean() < 0.15, (q, d_q.max(), d_q.mean())
            assert d_f.mean() > 4 * d_q.mean(), (q, d_f.mean(), d_q.mean())


def test_fake_quant_entropy_path_reproduces_the_integer_scale_indices():
    """QAT of h_s and the context models trains against what the integer graphs decide: on the shipped pack's weights
    the fake-quant path must give the integer engine's scale index almost everywhere (the float path misses it at
    many positions) and its mean within one 1/16 step at 99 % of positions (a u8 activation one step off where float
    rounding meets a tie moves a few means further: up to 4 steps with pack 936384df4dd9, 5 at one position of q5's
    first group with 115c8ca5b7f9). The maximum is bounded at half a unit (8 steps), which an isolated gross error (a
    wrong scale or zero point shifts means by whole units) would exceed. Training-side only: the decoder uses the
    integer means, which the C# conformance vectors pin."""
    from training import qat

    model, x, cal, b, graphs = _shipped_pack_on_a_validation_crop()
    fq = qat.EntropyFakeQuant(cal, model.groups)
    one = 2 ** export.MEAN_FRACTION_BITS
    with torch.no_grad():
        for q in (0, 5):
            tr, ent = _integer_entropy_path(model, b, graphs, x, q)
            hyper_q, hyper_f = fq.hyper(model.h_s, tr["z"]), model.h_s(tr["z"])
            prev: list[torch.Tensor] = []
            for k in range(model.groups):
                mean, index = fq.context(model.context[k], hyper_q, prev, k)
                _, t_f = model.context[k](torch.cat([hyper_f] + prev, 1))
                index_f = torch.clamp(torch.round(t_f), 0, export.SCALE_LEVELS - 1)[0].numpy()
                hit_q = float((index[0].numpy() == ent["indices"][k]).mean())
                hit_f = float((index_f == ent["indices"][k]).mean())
                # where the float path hits every index too (with pack 2c6a7815b8f0: the lowest level's last group),
                # the fake-quant one must as well
                assert hit_q >= 0.98 and 1 - hit_q <= (1 - hit_f) / 3, (q, k, hit_q, hit_f)
                d_mean = np.abs(mean[0].numpy() * one - ent["means"][k])
                assert (d_mean <= 1).mean() >= 0.99 and d_mean.max() <= one // 2, (q, k, d_mean.max())
                prev.append(torch.tensor(ent["y"][k], dtype=torch.float32).unsqueeze(0) / one)


def test_quantisation_aware_entropy_path_trains_h_s_and_the_context_models(tmp_path):
    from training import qat
    from training.train import save_compact

    model = EdgeCodecModel()
    qat.enable(model, [torch.rand(3, 128, 128)], synthesis=False, entropy=True)
    assert model.g_s.fake_quant is None and model.entropy_fake_quant is not None
    out = model(torch.rand(2, 3, 128, 128), torch.tensor([0, 5]))
    out["y_bits"].backward()
    for name in ("h_s.0.conv.bias", "h_s.4.weight", "context.0.inp.weight", "context.3.mid.weight",  # (z of an untrained h_a is 0)
                 "context.3.out.bias"):
        grad = model.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert model.log_gain.grad.abs().sum() > 0
    save_compact(model, 7, tmp_path / "ck.pt")  # the model card reports what the weights were trained against
    assert torch.load(tmp_path / "ck.pt")["qat"] == ["entropy"]


def test_quantisation_aware_synthesis_trains_through_the_roundings():
    from training import qat

    model = EdgeCodecModel()
    qat.enable(model, [torch.rand(3, 64, 64)])
    out = model(torch.rand(2, 3, 64, 64), torch.tensor([0, 5]))
    assert torch.all(out["x_hat"] * 255 == torch.round(out["x_hat"] * 255))  # u8 pixels, as the engine outputs
    ((out["x_hat"] - 0.5) ** 2).mean().backward()
    for name in ("up1.conv.weight", "mid.weight", "up4.conv.weight", "up4.conv.bias"):
        grad = model.g_s.get_parameter(name).grad
        assert grad is not None and grad.abs().sum() > 0, name
    assert model.log_gain.grad.abs().sum() > 0  # through the int8 input quantiser to the encoder side


def test_relevelling_keeps_the_trained_levels_and_follows_the_gain_curve_elsewhere(tmp_path):
    from training.model import LEGACY_LAMBDAS, relevel_rows

    torch.manual_seed(0)
    old = EdgeCodecModel(lambdas=LEGACY_LAMBDAS)
    old.log_gain.data.normal_()
    old.log_igain.data.normal_()
    wanted = (0.0009, 0.0018, 0.005, 0.0130, 0.0483, 0.1)
    g = relevel_rows(old.log_gain, LEGACY_LAMBDAS, wanted).double()
    og = old.log_gain.detach().double()
    for i, j in ((1, 0), (3, 3), (4, 5)):  # lambdas that were trained keep their vectors
        assert torch.allclose(g[i], og[j], atol=1e-6)
    lg = [math.log(v) for v in LEGACY_LAMBDAS]
    t = (math.log(0.005) - lg[1]) / (lg[2] - lg[1])
    assert torch.allclose(g[2], (1 - t) * og[1] + t * og[2], atol=1e-6)
    t = (math.log(0.0009) - lg[0]) / (lg[1] - lg[0])  # below the range: the first segment, extended
    assert t < 0 and torch.allclose(g[0], (1 - t) * og[0] + t * og[1], atol=1e-6)
    with pytest.raises(ValueError):
        relevel_rows(old.log_gain, LEGACY_LAMBDAS[::-1], wanted)

    # checkpoints record their lambdas; a checkpoint without them is from the legacy levels
    train.save_compact(old, 7, tmp_path / "a.pt")
    ck = torch.load(tmp_path / "a.pt")
    assert tuple(ck["lambdas"]) == LEGACY_LAMBDAS
    del ck["lambdas"]
    torch.save(ck, tmp_path / "legacy.pt")
    for name in ("a.pt", "legacy.pt"):
        loaded = EdgeCodecModel(lambdas=wanted)
        assert train.load_weights(loaded, tmp_path / name) == 7
        assert torch.allclose(loaded.log_gain.detach().double(), g, atol=2e-3)  # fp16 weights


def test_validation_bd_rate_matches_a_known_rate_change_and_reads_the_log(tmp_path, capsys):
    from training import valbd

    anchor = [(0.12, 23.7), (0.18, 24.8), (0.26, 25.5), (0.37, 26.0), (0.49, 26.3), (0.64, 26.4)]
    assert valbd.bd_rate(anchor, anchor) == pytest.approx(0.0, abs=1e-9)
    cheaper = [(r * 0.9, p) for r, p in anchor]  # 10 % fewer bits at every PSNR
    assert valbd.bd_rate(anchor, cheaper) == pytest.approx(-10.0, abs=1e-6)
    with pytest.raises(ValueError, match="overlap"):
        valbd.bd_rate(anchor, [(r, p + 10) for r, p in anchor])
    # a window: only the low end 10 % cheaper (rates scaled by a factor that is 0.9 below 25 dB and 1 above 25.5 dB)
    bent = [(r * (0.9 if p < 25 else 1.0 if p > 25.4 else 0.95), p) for r, p in anchor]
    assert valbd.bd_rate(anchor, bent, (23.7, 24.0)) < valbd.bd_rate(anchor, bent) < valbd.bd_rate(anchor, bent, (26.0, 26.4))
    assert valbd.bd_rate(anchor, cheaper, (24.0, 30.0)) == pytest.approx(-10.0, abs=1e-6)  # clipped to the shared range
    with pytest.raises(ValueError, match="within the window"):
        valbd.bd_rate(anchor, cheaper, (27.0, 28.0))
    log = tmp_path / "train.csv"
    fmt = lambda c: ";".join(f"{r}:{p}" for r, p in c)  # noqa: E731
    log.write_text("time,step,val\n1,1000,\n2,1000," + fmt(anchor) + "\n3,2000," + fmt(cheaper) + "\n")
    rows = valbd.validation_rows(log)
    assert sorted(rows) == [1000, 2000] and valbd.curve(rows[2000]) == cheaper
    arm = tmp_path / "arm.csv"  # an A/B arm logged on its own: its step 2000 is the anchor's own curve
    arm.write_text("time,step,val\n4,2000," + fmt(anchor) + "\n")
    valbd.main(["1000", "2000", "--log", str(log)])
    valbd.main(["1000", "2000", "--log", str(log), "--test-log", str(arm)])
    assert capsys.readouterr().out.splitlines() == ["2000 vs 1000: -10.00 % BD-rate", "2000 vs 1000: +0.00 % BD-rate"]
    with pytest.raises(SystemExit, match="no validation row at step 3000"):
        valbd.main(["1000", "3000", "--log", str(log), "--test-log", str(arm)])
    # a run that added a level below the others compares its old levels with --skip-test-levels
    grown = tmp_path / "grown.csv"
    grown.write_text("time,step,val\n5,3000," + fmt([(0.07, 22.0)] + cheaper) + "\n")
    valbd.main(["1000", "3000", "--log", str(log), "--test-log", str(grown), "--skip-test-levels", "1"])
    assert capsys.readouterr().out.splitlines() == ["3000 vs 1000: -10.00 % BD-rate"]


def test_a_packs_activation_scales_give_the_same_fake_quant_as_its_calibration():
    """Adapters train through the fake quant of the frozen pack, rebuilt from the manifest's activation_scales: it must
    be the fake quant of the calibration the pack was built from, and FiLM at identity must change nothing."""
    from training import adapters, qat

    torch.manual_seed(5)
    model = EdgeCodecModel()
    torch.nn.init.normal_(model.g_s.res4.weight, std=0.02)  # a trained residual: a real signed range
    cal = export.calibrate(model, [torch.rand(3, 64, 64)])
    _, _, scales = export.build_graphs(model, cal)
    fq = qat.SynthesisFakeQuant(cal, model.g_s.plan)
    from_pack = qat.SynthesisFakeQuant.from_activation_scales(scales, model.g_s.plan)
    y = torch.randn(1, model.m, 4, 4)
    films = {out: adapters.Film(model.g_s.get_submodule(path).out_channels) for out, path, _ in adapters.LAYERS}
    with torch.no_grad():
        assert torch.equal(fq(model.g_s, y), from_pack(model.g_s, y))
        assert torch.equal(fq(model.g_s, y), from_pack(model.g_s, y, films))
        films["a5"].t.fill_(0.5)
        assert not torch.equal(fq(model.g_s, y), from_pack(model.g_s, y, films))


def test_table_bits_prices_symbols_and_escapes_as_the_coder_does():
    cdfs, offsets = [[0, 16384, 49152, 65535, 65536]], [-1]  # values -1, 0, 1; escape frequency 1
    sym = np.array([0, 0, -1, 40])
    idx = np.zeros(4, dtype=np.int64)
    # 0 costs 1 bit, -1 costs 2, 40 escapes: 16 bits, a 3-bit length and two 4-bit chunks of zigzag(41) = 82
    assert export.table_bits(sym, idx, cdfs, offsets) == pytest.approx(1 + 1 + 2 + 16 + 3 + 8)


def test_ste_rate_is_the_rounded_rate_with_a_gradient():
    torch.manual_seed(0)
    model = EdgeCodecModel()
    x, q = torch.rand(1, 3, 64, 64), torch.tensor([3])
    with torch.no_grad():
        rounded = model(x, q, hard=True)
    ste = model(x, q, hard="ste")
    assert torch.allclose(ste["y_bits"], rounded["y_bits"]) and torch.allclose(ste["z_bits"], rounded["z_bits"])
    ste["y_bits"].backward()
    assert model.g_a.get_submodule("0").weight.grad.abs().sum() > 0  # the rate of the rounded latents reaches the encoder


@pytest.mark.parametrize("part", ["encoder", "entropy"])
def test_fitting_one_part_trains_it_and_leaves_every_other_weight_as_it_was(tmp_path, part):
    from training import fit_encoder
    from training.train import save_compact

    torch.manual_seed(0)
    save_compact(EdgeCodecModel(), 11, tmp_path / "start.pt")
    log = tmp_path / "fit.csv"
    fit_encoder.main(["--checkpoint", str(tmp_path / "start.pt"), "--out", str(tmp_path / "fit.pt"), "--steps", "2",
                      "--warmup", "1", "--lr", "1e-3", "--batch", "2", "--patch", "64", "--val-every", "2",
                      "--calibration-crops", "2", "--val-size", "64", "--log", str(log), "--part", part])
    before, after = (torch.load(tmp_path / n)["weights"] for n in ("start.pt", "fit.pt"))
    assert torch.load(tmp_path / "fit.pt")["step"] == 11
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    expected = ("g_a.", "h_a.") if part == "encoder" else ("h_a.", "h_s.", "context.")
    assert all(any(k.startswith(prefix) for k in moved) for prefix in expected), sorted(moved)
    assert all(k.startswith(fit_encoder.PARTS[part]) for k in moved), sorted(moved)
    rows = log.read_text().splitlines()
    assert rows[0] == "step,loss,bpp,psnr,val" and [r.split(",")[0] for r in rows[1:]] == ["11", "13"]


def test_the_weight_average_averages_and_swaps_back():
    torch.manual_seed(0)
    model = EdgeCodecModel()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    avg = train.WeightAverage(model, decay=0.75)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    avg.update(model)
    w = model.g_s.get_parameter("up1.conv.weight")
    assert torch.allclose(avg.state["g_s.up1.conv.weight"], start["g_s.up1.conv.weight"] + 0.25)
    moved = w.clone()
    with avg.swapped_in(model):
        assert torch.allclose(w, start["g_s.up1.conv.weight"] + 0.25)
        model.g_s.fake_quant = "replaced"
    assert torch.equal(w, moved) and model.g_s.fake_quant is None
    assert train.WeightAverage(model, 0.9, avg.state).resumed
    grown = dict(avg.state, extra=torch.zeros(1))  # another model's average (a growth or a removal since) starts again
    again = train.WeightAverage(model, 0.9, grown)
    assert not again.resumed and torch.equal(again.state["g_s.up1.conv.weight"], moved)


def test_the_bf16_encoder_trains_close_to_fp32_keeps_y_fp32_and_evaluates_exactly(shipped_model):
    g_a = shipped_model.g_a
    x = data.center_crops(data.list_images(data.default_dirs())[1][:1], 128)[0].unsqueeze(0)  # validation photo 046

    def run(bf16: bool, training: bool) -> tuple[torch.Tensor, torch.Tensor]:
        g_a.use_bf16(bf16)
        g_a.train(training)
        g_a.zero_grad()
        y = g_a(x)
        y.square().mean().backward()
        return y.detach(), torch.cat([p.grad.flatten() for p in g_a.parameters()])

    try:
        y32, grad32 = run(False, True)
        y16, grad16 = run(True, True)
        assert not torch.equal(y16, y32), "bf16 was not used in training"
        assert float((y16 - y32).abs().max()) < 2e-2 * float(y32.abs().max())
        # With native bfloat16 units (AVX512-BF16/AMX, where --bf16-encoder auto turns it on) the gradients agree to
        # > 0.99; elsewhere oneDNN emulates the multiplies less exactly (0.987 on an AVX2-only EPYC, session 26), and
        # auto leaves the encoder in fp32 there.
        floor = 0.99 if train.has_bf16_units() else 0.98
        assert float(F.cosine_similarity(grad16, grad32, 0)) > floor
        assert torch.equal(run(True, False)[0], run(False, False)[0]), "evaluation must stay fp32"
        g_a.use_bf16(True)
        wide = {name for name, m in g_a.named_modules() if getattr(m, "bf16", False)}
        assert {"0", "1", "4", "res4.conv1", "res8.conv2"} <= wide
        assert not any(name.startswith(("6", "res16")) for name in wide), "the layers that write y stay fp32"
    finally:
        g_a.use_bf16(False)
        g_a.eval()


def test_bf16_auto_follows_the_cpu_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor : 0\nflags : fpu sse2 avx512f avx512_bf16\n")
    assert train.has_bf16_units(info)
    info.write_text("processor : 0\nflags : fpu sse2 avx512f avx512_vnni\n")
    assert not train.has_bf16_units(info)
    assert not train.has_bf16_units(tmp_path / "missing")


def test_training_validates_and_writes_its_weight_average_and_tiled_rows(tmp_path):
    args = ["--patch", "64", "--batch", "2", "--run-dir", str(tmp_path / "run"), "--compact", str(tmp_path / "c.pt"),
            "--log", str(tmp_path / "log.csv"), "--save-every", "50", "--val-every", "50", "--val-size", "64",
            "--seed", "1", "--ema", "0.9"]
    # With the tiled validation too: 128-px crops in 64-px entropy tiles, into its own log.
    train.main(["--steps", "50", "--val-tiled", "4", "--val-tiled-size", "128"] + args)
    rows = (tmp_path / "log-ema.csv").read_text().splitlines()
    assert rows[0] == "time,step,decay,val" and rows[1].split(",")[1:3] == ["50", "0.9"]
    from training import valbd
    tiled = valbd.validation_rows(tmp_path / "log-tiled.csv")
    assert list(tiled) == [50] and len(valbd.curve(tiled[50])) == len(EdgeCodecModel().lambdas)
    assert valbd.curve(tiled[50]) != valbd.curve(valbd.validation_rows(tmp_path / "log.csv")[50])
    ema_tiled = valbd.validation_rows(tmp_path / "log-ema-tiled.csv")  # the average's tiled row
    assert list(ema_tiled) == [50] and valbd.curve(ema_tiled[50]) != valbd.curve(tiled[50])
    ema = torch.load(tmp_path / "run" / "ema.pt")
    raw = torch.load(tmp_path / "c.pt")
    assert ema["step"] == raw["step"] == 50 and ema["average"] == {"decay": 0.9, "since": 0} and "average" not in raw
    assert any(not torch.equal(ema["weights"][k], raw["weights"][k]) for k in raw["weights"])
    saved = torch.load(tmp_path / "run" / "last.pt")["ema"]
    train.main(["--steps", "51"] + args)  # the resumed run goes on from the saved average, not from its weights
    resumed = torch.load(tmp_path / "run" / "last.pt")
    assert resumed["ema_since"] == 0
    k = "g_s.up1.conv.weight"
    assert torch.allclose(resumed["ema"][k], 0.9 * saved[k] + 0.1 * resumed["model"][k])
    # The committed compact checkpoint carries the average (fp16), so a weights-only resume on a fresh machine goes
    # on with it instead of starting it again at the weights.
    compact = torch.load(tmp_path / "c.pt")
    assert compact["ema_since"] == 0 and compact["ema_decay"] == 0.9 and compact["ema"][k].dtype == torch.float16
    assert torch.equal(compact["ema"][k], resumed["ema"][k].half())
    # ... and written out, it is the run's ema.pt: what a release exports, from the committed file alone
    from training import average
    assert average.write_average(tmp_path / "c.pt", tmp_path / "avg.pt") == {"decay": 0.9, "since": 0}
    written, ema_file = torch.load(tmp_path / "avg.pt"), torch.load(tmp_path / "run" / "ema.pt")
    assert written["step"] == ema_file["step"] == 51 and written["average"] == ema_file["average"]
    assert written["weights"].keys() == ema_file["weights"].keys()
    assert all(torch.equal(written["weights"][n], ema_file["weights"][n]) for n in written["weights"])
    assert not set(average.CARRIED) & written.keys()
    with pytest.raises(ValueError, match="carries no weight average"):
        average.write_average(tmp_path / "run" / "ema.pt", tmp_path / "x.pt")
    shutil.rmtree(tmp_path / "run")
    train.main(["--steps", "52"] + args)
    fresh = torch.load(tmp_path / "run" / "last.pt")
    assert fresh["ema_since"] == 0
    assert torch.allclose(fresh["ema"][k], 0.9 * compact["ema"][k].float() + 0.1 * fresh["model"][k], atol=1e-6)


def _silence(model: EdgeCodecModel, conv: str, channels: list[int]) -> None:
    with torch.no_grad():
        model.get_submodule(conv).bias[channels] = -1e3  # never positive: a dormant ReLU unit


def test_reviving_wakes_dormant_units_and_an_exact_revival_keeps_the_function():
    from training import revive

    torch.manual_seed(0)
    model = EdgeCodecModel()
    model.g_s.variant = "relu-mid"  # g_s.mid has a ReLU of its own only there
    _silence(model, "g_s.mid", [0, 5, 7])
    _silence(model, "h_s.4", [2, 3])
    crops = [torch.rand(3, 64, 64) for _ in range(2)]
    active = revive.activity(model, crops)
    assert float(active["g_s.mid"][[0, 5, 7]].max()) == 0.0 and float(active["h_s.4"][[2, 3]].max()) == 0.0
    x, q = crops[0].unsqueeze(0), torch.tensor([3])
    with torch.no_grad():
        before = model(x, q, None, hard=True)
    revived = revive.revive(model, active, 0.001, 0.01, torch.Generator().manual_seed(1), layers=("h_s.4",))
    assert set(revived) == {"h_s.4"} and {2, 3} <= set(revived["h_s.4"])
    for k in range(model.groups):  # its readers no longer see it, so the model computes the same function
        assert float(model.context[k].inp.weight[:, [2, 3]].abs().max()) == 0.0
    with torch.no_grad():
        after = model(x, q, None, hard=True)
    assert torch.equal(before["x_hat"], after["x_hat"]) and torch.equal(before["y_bits"], after["y_bits"])
    kept = model.g_s.mid.weight[1].clone()
    revived = revive.revive(model, active, 0.001, 0.01, torch.Generator().manual_seed(1), layers=("g_s.mid",))
    assert {0, 5, 7} <= set(revived["g_s.mid"]) and 1 not in revived["g_s.mid"]
    assert torch.equal(model.g_s.mid.weight[1], kept)  # live units are untouched
    awake = revive.activity(model, crops)
    assert float(awake["g_s.mid"][[0, 5, 7]].min()) > 0.05 and float(awake["h_s.4"][[2, 3]].min()) > 0.05


def test_reviving_a_run_clears_the_units_moments_and_restarts_the_average(tmp_path):
    from training import revive

    args = ["--patch", "64", "--batch", "2", "--run-dir", str(tmp_path / "run"), "--compact", str(tmp_path / "c.pt"),
            "--log", str(tmp_path / "log.csv"), "--save-every", "2", "--val-every", "1000", "--seed", "1"]
    train.main(["--steps", "2"] + args)
    last = tmp_path / "run" / "last.pt"
    ck = torch.load(last)
    model = EdgeCodecModel()
    load_state(model, ck["model"])
    _silence(model, "context.1.mid", [4])
    ck["model"] = model.state_dict()
    torch.save(ck, last)
    revive.main(["--checkpoint", str(last), "--apply", "--layers", "context.1.mid", "--log",
                 str(tmp_path / "revive.csv")])
    out = torch.load(last)
    assert out["ema"] is None and out["revived"][0]["step"] == 2 and 4 in out["revived"][0]["channels"]["context.1.mid"]
    assert float(out["model"]["context.1.mid.bias"][4]) == 0.0
    name_of = {id(p): n for n, p in model.named_parameters()}
    names = [name_of[id(p)] for group in train.parameter_groups(model) for p in group]
    state = out["opt"]["state"][names.index("context.1.mid.weight")]
    assert float(state["exp_avg_sq"][4].abs().max()) == 0.0 and float(state["exp_avg_sq"].abs().max()) > 0.0
    assert (tmp_path / "revive.csv").read_text().splitlines()[1].split(",")[1] == "2"
    train.main(["--steps", "3"] + args)  # training resumes from the revived checkpoint
    assert torch.load(last)["step"] == 3


def test_the_ceiling_pools_the_squared_error_of_every_crop():
    """training.ceiling is the PSNR of the unquantised, clamped reconstruction over all crops' pixels together (not a
    mean of per-crop PSNRs), the same for every quality level."""
    from training.ceiling import ceiling

    torch.manual_seed(3)
    model = EdgeCodecModel()
    crops = [torch.rand(3, 64, 64), torch.rand(3, 64, 128) * 0.2]
    with torch.no_grad():
        errors = [((model.g_s(model.g_a(c[None])).clamp(0, 1) - c[None]) ** 2) for c in crops]
    pooled = torch.cat([e.flatten() for e in errors]).mean()
    assert ceiling(model, crops) == pytest.approx(-10 * math.log10(float(pooled)), abs=1e-4)
    per_crop = [-10 * math.log10(float(e.mean())) for e in errors]
    assert abs(ceiling(model, crops) - sum(per_crop) / 2) > 0.01


def test_the_precision_ceiling_at_gain_one_is_the_models_own_hard_rounded_coding():
    """training.ceiling.coded at gain factor 1 is what the model's forward pass with hard rounding gives (bits and
    pooled PSNR); a gain factor above 1 quantises more finely, so it spends more bits."""
    from training.ceiling import coded

    torch.manual_seed(4)
    model = EdgeCodecModel().eval()
    crops = [torch.rand(3, 64, 64), torch.rand(3, 64, 128) * 0.3 + 0.2]
    bits = se = n = pixels = 0.0
    with torch.no_grad():
        for c in crops:
            out = model(c[None], torch.tensor([5]), hard=True)
            bits += float(out["y_bits"] + out["z_bits"])
            se += float(((out["x_hat"].clamp(0, 1) - c[None]) ** 2).sum())
            n += c.numel()
            pixels += c.shape[1] * c.shape[2]
    bpp, psnr = coded(model, crops, 5)
    assert bpp == pytest.approx(bits / pixels, rel=1e-4)
    assert psnr == pytest.approx(10 * math.log10(n / se), abs=1e-3)
    assert coded(model, crops, 5, 2.0)[0] > bpp
    fine = coded(model, crops, 5, 8.0)
    assert coded(model, crops, 5, 8.0, deadzone=0.3)[0] < fine[0]  # more residuals at the mean: fewer bits


def test_the_capacity_probes_growths_start_as_the_identity_and_train():
    """training.ceiling.grow adds a piece of synthesis that changes nothing until trained, and whose parameters the
    capacity probe then moves."""
    from training.ceiling import finetune, grow

    for kind in ("skip", "bottleneck"):
        torch.manual_seed(6)
        model = EdgeCodecModel().eval()
        y = torch.randn(1, 128, 4, 4) * 3
        with torch.no_grad():
            before = model.g_s(y)
        assert grow(model, kind) > 0
        with torch.no_grad():
            assert torch.equal(model.g_s(y), before)
        added = [p for n, p in model.named_parameters() if "basis" in n or "expand" in n]
        assert added and all(float(p.abs().sum()) == 0 for p in added)
        finetune(model, lambda: torch.rand(2, 3, 64, 64), 5, 3, lr=1e-3)
        assert any(float(p.abs().sum()) > 0 for p in added)


def test_the_capacity_probe_trains_only_the_transforms_on_distortion():
    """training.ceiling.finetune lowers the distortion of a repeated batch and leaves the entropy model, the gains and
    the hyper transforms exactly as they were (and trainable again afterwards)."""
    from training.ceiling import finetune

    torch.manual_seed(5)
    model = EdgeCodecModel()
    x = torch.rand(2, 3, 64, 64)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    losses = finetune(model, lambda: x, 3, 30, lr=1e-3)
    assert len(losses) == 30 and losses[-1] < 0.8 * losses[0]
    after = model.state_dict()
    moved = {k for k in before if not torch.equal(before[k], after[k])}
    assert moved and all(k.startswith(("g_a.", "g_s.")) for k in moved)
    assert all(p.requires_grad for p in model.parameters())


def test_validating_checkpoints_offline_gives_their_rows_and_tiles_cost_bits(tmp_path):
    """training.valck validates saved checkpoints as train does; the same weights give the same row (0 % BD-rate), and
    the same crops in entropy tiles cost more bits at the same reconstruction."""
    from training import valck

    torch.manual_seed(5)
    model = EdgeCodecModel()
    train.save_compact(model, 7, tmp_path / "a.pt")
    _, files = data.list_images(data.default_dirs())
    whole = valck.rows([tmp_path / "a.pt", tmp_path / "a.pt"], size=128, quantised=False, files=files[:1])
    assert whole[0][0] == 7 and whole[0][1] == whole[1][1] and len(whole[0][1]) == len(model.lambdas)
    trained = [shipped_weights()]
    whole = valck.rows(trained, size=128, quantised=False, files=files[:2])[0][1]
    tiled = valck.rows(trained, size=128, tile=4, quantised=False, files=files[:2])[0][1]
    assert all(abs(t[1] - w[1]) < 0.3 for t, w in zip(tiled, whole))  # about the same pixels (the means move)...
    # ...for more bits: four 64-px tiles, four borders. Weights trained in the tiled regime (step 83,010 on) pay less
    # for them (+4.8 % at quality 0 at step 84,012, +31-76 % before; pack f8541dbd55ce: +0.3 % at quality 0, +14 % at
    # 5), so the bounds are only that borders cost at every level and clearly at the top one.
    assert all(t[0] > w[0] for t, w in zip(tiled, whole))
    assert tiled[-1][0] > 1.05 * whole[-1][0]
    with pytest.raises(SystemExit, match="whole 256-px tiles"):
        valck.rows([tmp_path / "a.pt"], size=128, tile=16, quantised=False, files=files[:1])


def test_edgecodec_bd_windows_agree_with_valbd_and_plot_the_report(tmp_path):
    """`edgecodec bd --window` (C#) and `valbd.bd_rate` with a window (numpy; the model card uses it) read a committed
    studio report the same way, and `--plot` writes the RD chart; a reversed window is a clear error."""
    from PIL import Image

    from training import valbd
    report = REPO / "docs" / "results" / "kodak-ladder-studio-2c6a7815b8f0-rd.json"
    out = csharp_cli()("bd", str(report), "--window", "23.9,30.35", "--plot", str(tmp_path / "rd.png"))
    curves = {c["codec"]: [(p["bpp"], p["psnr"]) for p in c["points"]] for c in json.loads(report.read_text())["average_curves"]}
    for anchor in ("jpeg", "webp"):
        row = next(line for line in out.splitlines() if line.startswith(f"│ {anchor} "))
        shown = float(row.split("│")[2].strip().rstrip("%").strip().replace("−", "-"))
        assert shown == pytest.approx(valbd.bd_rate(curves[anchor], curves["edgecodec"], (23.9, 30.35)), abs=0.051)
    with Image.open(tmp_path / "rd.png") as plot:
        assert plot.format == "PNG" and plot.size == (1600, 600)
        assert len(plot.convert("RGB").getcolors(1 << 20) or []) > 16  # curves, not a blank canvas
    bad = subprocess.run(["dotnet", str(CLI_DLL), "bd", str(report), "--window", "31,30"], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode != 0 and "--window takes LO,HI in dB with LO < HI" in bad.stdout + bad.stderr


def test_edgecodec_model_info_lists_each_onnx_graph_with_its_size_and_reader():
    """`edgecodec model info` says what each ONNX entry of the shipped pack weighs and who reads it (what a device that
    only decodes could leave out, docs/model-pack.md), with the sizes the archive holds."""
    pack = next((REPO / "models").glob("edgecodec-hp-*.ecpack"))
    out = " ".join(line.strip("│ ") for line in csharp_cli()("model", "info", str(pack)).splitlines())
    with zipfile.ZipFile(pack) as z:
        sizes = {i.filename: i.file_size for i in z.infolist() if i.filename.startswith("onnx/")}
    assert sizes
    for name, size in sizes.items():
        assert f"{name} ({size / 1e6:.2f} MB, " in out
    assert "onnx/analysis.onnx (" in out and "MB, encoder)" in out and "decoder: onnx, qnn backends" in out


def test_edgecodec_bd_against_another_report_reads_its_test_curve_as_an_anchor():
    """`edgecodec bd REPORT --against OTHER` (how a release compares a pack with the previous one) gives the BD-rate of
    REPORT's test curve against OTHER's, as valbd reads it; a report on other images is refused, not compared."""
    from training import valbd
    results = REPO / "docs" / "results"
    studio, one_pass = results / "kodak-ladder-studio-2c6a7815b8f0-rd.json", results / "kodak-ladder-rd.json"

    def test_curve(path):
        report = json.loads(path.read_text())
        points = next(c for c in report["average_curves"] if c["codec"] == report["test_codec"])["points"]
        return [(p["bpp"], p["psnr"]) for p in points]

    out = csharp_cli()("bd", str(studio), "--window", "25,30", "--against", str(one_pass))
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("│ edgecodec of "))
    shown = float(lines[at].split("│")[2].strip().rstrip("%").strip())
    expected = valbd.bd_rate(test_curve(one_pass), test_curve(studio), (25.0, 30.0))
    assert expected < -1  # the studio ladder (of the pack before) is still the lower curve
    assert shown == pytest.approx(expected, abs=0.051)
    bad = subprocess.run(["dotnet", str(CLI_DLL), "bd", str(studio), "--against", str(results / "validation-rd.json")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "measured other images" in bad.stdout + bad.stderr


def test_edgecodec_bench_times_the_encoder_on_the_stream_it_decodes(tmp_path):
    """`bench --encode` times the same one-pass encode whose stream the decode rows use: one row per thread count, the
    same container size, positive times (the figures themselves are benchmarks, docs/benchmarks.md)."""
    out = tmp_path / "bench.json"
    csharp_cli()("bench", "--image", str(REPO / "samples" / "media" / "astronaut.png"), "--backends", "cpu",
                 "--threads", "1,2", "--repeat", "1", "-q", "1", "--encode", "--analysis", "Float32", "--json", str(out))
    report = json.loads(out.read_text())
    assert [row["threads"] for row in report["encode_rows"]] == [1, 2]
    assert all(row["analysis"] == "Float32" for row in report["encode_rows"])
    assert all(row["container_bytes"] == report["container_bytes"] for row in report["encode_rows"])
    assert all(row["encode_seconds"] > 0 and row["megapixels_per_second"] > 0 for row in report["encode_rows"])
    # and a fresh encoder's first picture, cold and after EdgeCodecEncoder.WarmUp (the figures: docs/benchmarks.md)
    assert all(row[k] > 0 for row in report["encode_rows"]
               for k in ("first_encode_seconds", "warm_up_seconds", "first_encode_after_warm_up_seconds"))


def test_the_model_card_gets_its_measured_section_from_the_reports(tmp_path):
    from training import card

    def curve(codec, base):
        return {"codec": codec, "points": [{"quality": q, "bpp": 0.1 * (q + 1), "psnr": base + q, "ms_ssim": 0.9}
                                           for q in (1, 0)]}  # out of order: the table sorts by quality

    def comparison(anchor, rate):
        return {"anchor": anchor, "test": "edgecodec", "bd_rate": rate, "bd_psnr": 0.5, "bd_rate_ms_ssim": rate - 1}

    report = {"test_codec": "edgecodec", "created_utc": "2026-12-03T10:00:00Z", "summary": {"image_count": 24},
              "average_curves": [curve("edgecodec", 25.0), curve("edgecodec-onnx-fp32", 25.01),
                                 curve("edgecodec-1layers", 24.0), curve("edgecodec-2layers", 24.5)],
              "comparisons": [comparison("jpeg", -31.25), comparison("webp", 12.5),
                              comparison("edgecodec-onnx-fp32", 0.126), comparison("edgecodec-1layers", -40.0),
                              comparison("edgecodec-2layers", -10.0)]}
    validation = {"test_codec": "edgecodec", "summary": {"image_count": 4},
                  "comparisons": [comparison("jpeg", -33.0), comparison("webp", 8.0),
                                  comparison("edgecodec-tile256", -20.0)]}
    text = card.section(report, validation, "abc")
    assert "| 0 | 0.100 | 25.00 | 0.900 | 24.00 / 24.50 | 25.01 |" in text
    assert text.index("| 0 |") < text.index("| 1 |")
    assert "**−31.2 %**" in text and "**+12.5 %**" in text and "**+0.13 %**" in text and "−40.0 % / −10.0 %" in text
    assert "**−33.0 % vs JPEG**, +8.00 % vs WebP" in text and "against 256-px tiles (`--compare-tile-sizes 256`): −20.0 %" in text
    assert "Pack `abc`, 24 Kodak images, 2026-12-03" in text

    ladder = {"test_codec": "edgecodec", "average_curves": [curve("edgecodec", 25.5), curve("edgecodec-levels", 25.0)],
              "comparisons": [comparison("jpeg", -45.0), comparison("webp", -5.0), comparison("edgecodec-levels", -12.0)]}
    text_ladder = card.section(report, validation, "abc", ladder=ladder)
    assert ("With the residual layer (`eval --ladder`: the pack's quality ladder, 2 settings) on Kodak: **−45.0 % vs "
            "JPEG**, **−5.0 % vs WebP**, −12.0 % against the quality levels alone; the ladder reaches 26.5 dB, the levels "
            "26.0 dB, and each BD-rate") in text_ladder
    assert "residual layer" not in text

    # the studio encoder's ladder: over the shared ranges from the report, and up to the one-pass levels' top (26 dB
    # here), computed from the curves: a studio curve 20 % cheaper than JPEG at every PSNR reads −20 % in any window
    def rd(codec, base, scale=1.0):
        return {"codec": codec, "points": [{"quality": q, "bpp": scale * 0.1 * 1.5 ** q, "psnr": base + q, "ms_ssim": 0.9}
                                           for q in range(6)]}

    studio = {"test_codec": "edgecodec", "average_curves": [rd("edgecodec", 23.0, 0.8), rd("jpeg", 23.0),
                                                            rd("webp", 24.5, 0.7)],
              "comparisons": [comparison("jpeg", -44.0), comparison("webp", -4.0), comparison("edgecodec-fast", -8.0)]}
    text_studio = card.section(report, validation, "abc", studio=studio)
    assert ("on Kodak, 6 settings of the quality ladder up to 28.0 dB: **−44.0 % vs JPEG**, **−4.0 % vs WebP** over "
            "the range each shares with it, −8.0 % against the one-pass ladder; up to where the one-pass levels stop: "
            "**−20.0 % vs JPEG** over 23.00–26.00 dB") in text_studio
    assert "vs WebP** over 24.50–26.00 dB" in text_studio and "validation split, 6 settings" not in text_studio
    text_vs = card.section(report, validation, "abc", validation_studio=studio)
    assert text_vs.count("The studio encoder (") == 1 and "on the validation split, 6 settings" in text_vs
    assert "levels stop" not in text_vs  # this validation report has no curves: no window to read
    # the int8 analysis (eval --compare-analysis): its cost read from the two curves, int8 against fp32
    analysed = dict(report, average_curves=[rd("edgecodec", 23.0), rd("edgecodec-int8-analysis", 23.0, 1.01)])
    assert "against the fp32 one: **+1.00 %** (`eval --compare-analysis`)" in card.section(analysed, None, "abc")
    assert "int8 analysis" not in text
    charts = card.section(report, None, "abc", curves=[("Kodak, levels", "../docs/results/kodak-rd.png")])
    assert "- RD curves (against JPEG and WebP): [Kodak, levels](../docs/results/kodak-rd.png)." in charts
    assert "RD curves" not in text
    # main() links a report's chart (same name, .png) relative to the card, and only where it exists
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "kodak-rd.json").write_text(json.dumps(report))
    (tmp_path / "results" / "kodak-rd.png").write_bytes(b"\x89PNG")
    (tmp_path / "results" / "val-rd.json").write_text(json.dumps(validation))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "card.md").write_text("# Model card\n")
    card.main(["--card", str(tmp_path / "models" / "card.md"), "--pack", "edgecodec-hp-abc.ecpack",
               "--kodak", str(tmp_path / "results" / "kodak-rd.json"), "--validation", str(tmp_path / "results" / "val-rd.json")])
    written = (tmp_path / "models" / "card.md").read_text()
    assert "[Kodak, levels](../results/kodak-rd.png)." in written and "validation, levels" not in written

    path = tmp_path / "card.md"
    path.write_text("# Model card\n\n- step 1\n")
    card.write(path, text)
    card.write(path, card.section(report, None, "def"))  # a second release replaces the section, keeps the rest
    body = path.read_text()
    assert body.startswith("# Model card\n\n- step 1\n\n## Kodak") and body.count(card.HEADING) == 1
    assert "`def`" in body and "`abc`" not in body and "validation split" not in body
    report["average_curves"] = report["average_curves"][1:]
    with pytest.raises(ValueError, match="no curve of its test codec"):
        card.section(report, None, "x")


@torch.no_grad()
def test_the_detail_probe_starts_as_the_model_and_its_latent_reaches_the_synthesis(shipped_model):
    from training import detailprobe

    model = shipped_model
    x, q = torch.rand(1, 3, 64, 64), torch.tensor([4])
    plain = model(x, q, hard=True)
    detail = detailprobe.Detail(len(model.lambdas), 8)
    out = detailprobe.forward(model, detail, x, q, hard=True)
    assert torch.allclose(out["x_hat"], plain["x_hat"], atol=1e-6)  # zero-initialised injection: the model's function
    assert float(out["d_bits"]) > 0 and float(out["y_bits"]) == pytest.approx(float(plain["y_bits"] + out["d_bits"]))
    torch.nn.init.normal_(detail.inject.weight, std=0.1)
    moved = detailprobe.forward(model, detail, x, q, hard=True)["x_hat"]
    assert not torch.allclose(moved, plain["x_hat"], atol=1e-3)


@torch.no_grad()
def test_a_grown_latent_keeps_the_picture_and_fits_the_decoder_budget(shipped_model):
    from training.model import decoder_kmac_per_pixel, grow_latent, latent_layout, model_for

    model = shipped_model
    grown = grow_latent(model, hidden=40).eval()
    assert (grown.m, grown.groups, grown.group_ch) == (model.m + model.group_ch, model.groups + 1, model.group_ch)
    assert decoder_kmac_per_pixel(grown)["total"] <= 20.0
    x = torch.rand(1, 3, 128, 128)
    for level in (0, 5):
        q = torch.tensor([level])
        torch.manual_seed(3)
        before = model(x, q, hard=True)
        torch.manual_seed(3)
        after = grown(x, q, hard=True)
        assert torch.equal(after["x_hat"], before["x_hat"])  # the new channels enter through zero weights
        assert torch.equal(after["z_bits"], before["z_bits"])
        assert float(after["y_bits"]) > float(before["y_bits"])  # ... but are coded, and cost bits until trained
        grown.group_rate_weight = [1.0] * model.groups + [0.0]
        assert float(grown(x, q, hard=True)["y_bits"]) == pytest.approx(float(before["y_bits"]), rel=1e-5)
        grown.group_rate_weight = None
    again = model_for({"latent": latent_layout(grown)})
    again.load_state_dict(grown.state_dict())  # the recorded layout rebuilds the same shapes


def test_training_grows_the_latent_once_and_resumes_the_grown_model(tmp_path):
    args = ["--patch", "64", "--batch", "2", "--run-dir", str(tmp_path / "run"), "--compact", str(tmp_path / "c.pt"),
            "--log", str(tmp_path / "log.csv"), "--save-every", "1", "--seed", "1", "--grow-latent", "16",
            "--grow-rate-warmup", "4"]
    train.main(["--steps", "1"] + [a for a in args if a not in ("--grow-latent", "16")])
    train.main(["--steps", "2"] + args)
    ck = torch.load(tmp_path / "run" / "last.pt")
    assert ck["latent"] == {"channels": 160, "groups": 5, "context_hidden": [96, 96, 96, 96, 16]}
    assert ck["latent_grown_at"] == 1
    train.main(["--steps", "3"] + args)  # already grown: resumes as it is
    assert torch.load(tmp_path / "run" / "last.pt")["model"]["log_gain"].shape == (6, 160)
    model, step = train.load_model(tmp_path / "c.pt")
    assert (step, model.groups) == (3, 5)
    assert torch.load(tmp_path / "c.pt")["latent_grown_at"] == 1  # a weights-only resume keeps the rate warm-up
    with pytest.raises(ValueError, match="160 latent channels in 5 groups"):
        train.load_weights(EdgeCodecModel(), tmp_path / "c.pt")


def test_the_new_group_lr_multiplier_scales_only_the_new_slices_steps(tmp_path):
    args = ["--patch", "64", "--batch", "2", "--compact", str(tmp_path / "c.pt"), "--log", str(tmp_path / "log.csv"),
            "--save-every", "1", "--seed", "1", "--grow-rate-warmup", "4", "--warmup", "0", "--threads", "1"]
    run = tmp_path / "run"
    train.main(["--steps", "1", "--run-dir", str(run)] + args)
    train.main(["--steps", "2", "--run-dir", str(run), "--grow-latent", "16"] + args)
    start = torch.load(run / "last.pt")["model"]
    ends = {}
    for mult in (1, 4):
        copy = tmp_path / f"run{mult}"
        shutil.copytree(run, copy)
        train.main(["--steps", "3", "--run-dir", str(copy), "--new-group-lr-mult", str(mult)] + args)
        ends[mult] = torch.load(copy / "last.pt")["model"]
    model, _ = train.load_model(tmp_path / "c.pt")
    masks = newest_group_slices(model)
    assert masks["g_s.up1.conv.weight"].shape == (384, 160, 3, 3)
    assert masks["g_s.up1.conv.weight"][:, 128:].all() and not masks["g_s.up1.conv.weight"][:, :128].any()
    assert masks["g_a.6.weight"][128:].all() and not masks["g_a.6.weight"][:128].any()
    assert not any(k.startswith("context.4.") for k in masks)  # the new context model is a module of its own
    assert newest_group_slices(EdgeCodecModel()) == {}
    for name, mask in masks.items():
        d1, d4 = ends[1][name] - start[name], ends[4][name] - start[name]
        assert torch.equal(d4[~mask], d1[~mask]), name
        assert torch.allclose(d4[mask], 4 * d1[mask], atol=1e-6), name
    assert (ends[1]["g_s.up1.conv.weight"] - start["g_s.up1.conv.weight"])[:, 128:].abs().max() > 0


def test_the_last_group_probe_sees_what_the_new_channels_add():
    torch.manual_seed(3)
    grown = grow_latent(EdgeCodecModel(), 16, seed=1)
    crops = [torch.rand(3, 64, 64) for _ in range(2)]
    full, prefix, bpp, bpp_last = aeprobe.last_group(grown, crops, levels=(5,))[5]
    assert 0 < bpp_last < bpp
    with torch.no_grad():
        grown.g_s.up1.conv.weight[:, 128:] = torch.randn_like(grown.g_s.up1.conv.weight[:, 128:])
    after = aeprobe.last_group(grown, crops, levels=(5,))[5]
    assert after[2:] == (bpp, bpp_last)  # the synthesis does not change the bits
    assert after[0] != full  # it reads the new group now


def test_the_dct_basis_is_orthonormal_and_the_enhancement_estimate_behaves():
    basis = aeprobe.dct_basis()
    assert torch.allclose(basis.T @ basis, torch.eye(768, dtype=torch.float64), atol=1e-10)
    flat = torch.full((3, 16, 16), 0.25)  # a flat grey block is one coefficient: the DC of luma
    coefficients = aeprobe.blocks(flat).double() @ basis
    assert (coefficients.abs() > 1e-9).sum() == 1
    torch.manual_seed(0)
    fit = [torch.randn(3, 64, 64) * 0.05 for _ in range(4)]
    held = [torch.randn(3, 64, 64) * 0.05 for _ in range(2)]
    for name in ("klt", "dct"):
        base, layer = aeprobe.enhancement(fit, held, [0.01, 0.1, 10.0], name)
        (b1, p1), (b2, p2), (b3, p3) = layer[0.01], layer[0.1], layer[10.0]
        assert b1 > b2 > b3 >= 0 and p1 > p2 > p3  # finer steps: more bits, a better picture
        assert abs(p3 - base) < 1e-9 and b3 < 0.01  # a step far above the residual codes nothing
    with pytest.raises(ValueError, match="unknown basis"):
        aeprobe.enhancement(fit, held, [0.1], "wavelet")
    _, histogram = aeprobe.enhancement(fit, held, [0.05], "dct")
    _, gaussian = aeprobe.enhancement(fit, held, [0.05], "dct", "gaussian")
    assert gaussian[0.05][1] == histogram[0.05][1]  # the same picture, priced by another model
    assert 0.5 < gaussian[0.05][0] / histogram[0.05][0] < 2  # Gaussian noise: the two price it alike
    with pytest.raises(SystemExit) as done:  # the probe's options parse (no clash with the training ones)
        aeprobe.main(["--help"])
    assert done.value.code == 0


def test_residual_transform_is_orthonormal_and_its_constants_are_the_decoders():
    from training import residual

    r = torch.randn(3, 32, 48, dtype=torch.float64) * 20
    c = residual.forward(r)
    assert c.shape == (6, 3, 256)
    assert torch.allclose(residual.inverse(c, 32, 48), r, atol=1e-9)
    assert abs(float((c ** 2).sum()) - float((r ** 2).sum())) < 1e-6 * float((r ** 2).sum())  # energy preserved
    cos, rgb = residual.integer_constants()
    assert cos[0][0] == 2048 and cos[1][0] == 2882 and rgb == [[4730, 5793, 3344], [4730, 0, -6689], [4730, -5793, 3344]]
    csharp = (REPO / "sdk" / "EdgeCodec" / "Codec" / "Residual" / "ResidualTransform.cs").read_text()
    assert ", ".join(map(str, cos[1])) in csharp and ", ".join(str(v) for row in rgb for v in row) in csharp


def test_the_ladder_keeps_the_settings_on_the_convex_hull_spaced_by_rate():
    from training import residual

    points = [(0.1, 24.0, 0, -1), (0.2, 26.0, 1, -1), (0.21, 25.0, 0, 3),  # dominated: dearer and worse than level 1
              (0.22, 26.1, 0, 2), (0.4, 26.5, 2, -1),  # under the chord from level 1 to 1+r0: switching would beat them
              (0.8, 29.3, 1, 0), (0.85, 29.5, 2, 0)]  # both on the hull; the top is kept, its close neighbour goes
    assert residual.hull(points) == [[0, -1], [1, -1], [2, 0]]
    assert residual.hull(points, tolerance=0.6) == [[0, -1], [1, -1], [2, -1], [2, 0]]
    # An untrained model gives settings of the same rate: the better one stands for them.
    assert residual.hull([(0.1, 20.0, 0, -1), (0.1, 20.5, 0, 3), (0.1, 20.2, 1, -1), (0.3, 21.0, 1, 0)]) == [[0, 3], [1, 0]]
    assert residual.ladder_rates(residual.hull(points), points) == [0.1, 0.2, 0.85]
    assert residual.quantise(torch.tensor([0.74, 0.76, -0.76, 1.74, -1.76]), 1.0).tolist() == [0, 1, -1, 1, -2]


def test_block_classes_give_quiet_blocks_their_own_table_and_price_as_the_coder_does():
    from training import residual

    assert residual.quantize_pmf([3, 1, 0]) == [49151, 16384, 1]  # CdfTableSet.QuantizePmf's rule
    assert residual.quantize_pmf([0, 0]) == [32768, 32768]
    torch.manual_seed(3)
    busy = torch.round(torch.randn(300, 768) * torch.linspace(3, 0.05, 768))
    q = torch.cat([torch.zeros(500, 768), busy])
    lut = residual.value_bits_table()
    rows, weights = residual.fit_classes(q, classes=3, lut=lut)
    assert len(rows) == 3 and all(len(r) == 768 for r in rows) and 65535 - 3 <= sum(weights) <= 65535
    quiet = [k for k, r in enumerate(rows) if all(e == residual.NOT_CODED for e in r)]
    assert len(quiet) == 1  # the zero blocks' class codes nothing
    chosen, bits = residual.choose_classes(q, rows, weights, lut)
    assert (chosen[:500] == quiet[0]).all() and (chosen[500:] != quiet[0]).all()
    assert bits[:500].max() < 1.0  # a zero block costs its class symbol only
    kept = q * torch.tensor(rows)[chosen].ne(residual.NOT_CODED)
    assert (kept != q).sum() <= 0.001 * (q != 0).sum()  # classes drop only their rarest values
    one_rows, one_weights = residual.fit_classes(q, classes=1, lut=lut)
    _, one_bits = residual.choose_classes(q, one_rows, one_weights, lut)
    assert one_weights == [65535] and float(bits.sum()) < 0.95 * float(one_bits.sum())


def test_the_synthesis_probes_architectures_fit_the_budget_and_the_control_is_the_shipped_one():
    """training.synthprobe's candidates stay within the decoder budget beside h_s and the context models, and its
    control is the shipped synthesis, measured the same way as the model card's figure."""
    from training.synthprobe import ARCHS, kmac_per_pixel

    budget = decoder_kmac_per_pixel(EdgeCodecModel())
    assert kmac_per_pixel(ARCHS["control"](128), 128) == pytest.approx(budget["g_s"], abs=1e-3)
    for name, make in ARCHS.items():
        net = make(128)
        assert kmac_per_pixel(net, 128) + budget["h_s"] + budget["context"] <= 20.0, name
        assert net(torch.zeros(1, 128, 2, 3)).shape == (1, 3, 32, 48), name


def test_the_synthesis_probe_caches_the_teachers_latents_and_an_arm_resumes_exactly(tmp_path):
    """The cache holds what the teacher's synthesis receives (its own decode of the cached latents is the model's hard
    rounded reconstruction); an arm trained 4 steps at once ends with the same weights as one stopped after 2 and
    resumed, and its rows carry the teacher's reference."""
    from PIL import Image

    from training import synthprobe

    torch.manual_seed(9)
    model = EdgeCodecModel().eval()
    files = []
    for i in range(2):
        path = tmp_path / f"t{i}.png"
        Image.fromarray((np.random.default_rng(i).random((80, 96, 3)) * 255).astype(np.uint8)).save(path)
        files.append(path)
    val = [torch.rand(3, 64, 64) for _ in range(2)]
    cache = synthprobe.build_cache(model, files, val, crops=5, patch=64, seed=3, chunk=2)
    assert cache["x"].shape == (5, 3, 64, 64) and cache["s"].shape == (5, 128, 4, 4)
    assert cache["val_s"].shape == (len(model.lambdas), 2, 128, 4, 4)
    q = torch.full((2,), 2)
    with torch.no_grad():
        expected = model(torch.stack(val), q, hard=True)["x_hat"]
        decoded = synthprobe.teacher_synthesis(cache)(cache["val_s"][2].float())
    assert torch.allclose(decoded, expected, atol=2e-2)  # the cache stores latents as float16

    once, twice = tmp_path / "once", tmp_path / "twice"
    synthprobe.train(cache, "bneck64", 4, once, tmp_path / "once.csv", batch=2, every=2, seed=1)
    synthprobe.train(cache, "bneck64", 2, twice, tmp_path / "twice.csv", batch=2, every=2, seed=1)
    synthprobe.train(cache, "bneck64", 4, twice, tmp_path / "twice.csv", batch=2, every=2, seed=1)
    a, b = torch.load(once / "last.pt")["net"], torch.load(twice / "last.pt")["net"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = (tmp_path / "once.csv").read_text().splitlines()
    assert rows[1].split(",")[2] == "teacher" and [r.split(",")[1] for r in rows[2:]] == ["2", "4"]


def test_a_warm_arm_starts_from_the_teachers_layers_up_to_quarter_resolution():
    """synthprobe.warm_front copies the shipped synthesis' front (up1, mid, up2, res4) into a candidate wherever the
    layer exists with the same shape, and nothing after it."""
    from training.synthprobe import ARCHS, warm_front

    torch.manual_seed(4)
    teacher = EdgeCodecModel().g_s
    for p in teacher.parameters():
        torch.nn.init.normal_(p)
    control, half, bneck = ARCHS["control"](128), ARCHS["half"](128), ARCHS["bneck64"](128)
    assert sorted(warm_front(control, teacher)) == sorted(
        f"{layer}.{kind}" for layer in ("up1.conv", "mid", "up2.conv", "res4") for kind in ("weight", "bias"))
    assert torch.equal(control.up2.conv.weight, teacher.up2.conv.weight)
    assert not torch.equal(control.up3.conv.weight, teacher.up3.conv.weight)
    assert sorted(warm_front(half, teacher)) == sorted(
        f"{layer}.{kind}" for layer in ("up1", "mid", "up2", "res4") for kind in ("weight", "bias"))
    assert torch.equal(half.res4.weight, teacher.res4.weight)
    assert not any(k.startswith("res4") for k in warm_front(bneck, teacher))  # its 1/4 residual is another layer


def test_the_int8_analysis_quantises_the_inner_convs_and_keeps_the_rest_float():
    """The QDQ rewrite of g_a: every module in QUANTISED gets an int8 weight, an int32 bias and uint8 activations on
    both sides (the pattern ONNX Runtime fuses into QLinearConv); the first conv, the GDNs and the 1/16 layers stay
    float; the graph keeps g_a's input and output."""
    import onnx
    from onnx import numpy_helper

    from training import analysis_int8
    torch.manual_seed(0)
    model = EdgeCodecModel().eval()
    fp32 = export.export_encoder(model)[0]
    crops = [torch.rand(3, 64, 64) for _ in range(2)]
    ranges = analysis_int8.activation_ranges(model, crops)
    assert set(ranges) == set(analysis_int8.QUANTISED)
    assert all(lo <= hi for pair in ranges.values() for lo, hi in pair)
    qdq = analysis_int8.quantise_analysis(model, fp32, ranges)
    g = onnx.load_from_string(qdq).graph
    assert [i.name for i in g.input] == ["image"] and [o.name for o in g.output] == ["y"]
    # The export stores the float weights as fp16 (+ Cast), as in the fp32 graph, and leaves the integer ones alone.
    packed = onnx.load_from_string(export.compact_float_weights(qdq)).graph
    stored = {i.name: numpy_helper.to_array(i) for i in packed.initializer}
    assert not [n for n, a in stored.items() if a.dtype == np.float32 and a.size >= 1024]
    assert {n: a.tobytes() for n, a in stored.items() if a.dtype in (np.int8, np.int32, np.uint8)} == {
        i.name: numpy_helper.to_array(i).tobytes() for i in g.initializer if i.data_type in (2, 3, 6)}
    assert len(export.compact_float_weights(qdq)) < 0.7 * len(qdq)
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    convs = [n for n in g.node if n.op_type == "Conv"]
    quantised = []
    for n in convs:
        x, w = producers.get(n.input[0]), producers.get(n.input[1])
        if w is not None and w.op_type == "DequantizeLinear":
            quantised.append(n.output[0])
            assert inits[w.input[0]].dtype == np.int8 and inits[w.input[1]].shape == (inits[w.input[0]].shape[0],)
            assert inits[producers[n.input[2]].input[0]].dtype == np.int32
            assert x.op_type == "DequantizeLinear" and producers[x.input[0]].op_type == "QuantizeLinear"
            (consumer,) = [c for c in g.node if n.output[0] in c.input]
            assert consumer.op_type == "QuantizeLinear" and inits[consumer.input[2]].dtype == np.uint8
    assert len(quantised) == len(analysis_int8.QUANTISED)
    float_convs = {n.output[0].strip("/").rsplit("/", 1)[0] for n in convs if n.output[0] not in quantised}
    assert {"0", "6", "res16/conv1", "res16/conv2", "1", "3", "5"} <= float_convs  # first conv, 1/16 layers, GDNs
    assert 0 < analysis_int8.int8_kmac_per_pixel(model) < encoder_kmac_per_pixel(model)


def test_the_shipped_pack_encodes_with_the_int8_analysis_of_its_weights(tmp_path):
    """End to end on the real trained weights: the shipped pack plus the int8 analysis of its own checkpoint (what
    the next export writes), encoded with --analysis Int8 through ONNX Runtime. The decoder never sees the analysis,
    so both streams decode; the int8 one costs little (under 3 % bytes, under 0.1 dB) and is a different stream."""
    import hashlib

    from PIL import Image

    from training import analysis_int8
    from training.qat import calibration_crops
    cli = csharp_cli()
    pack = next((REPO / "models").glob("edgecodec-hp-*.ecpack"))
    checkpoint = REPO / "models" / "checkpoints" / f"edgecodec-hp-{pack.stem.split('-')[-1]}.pt"
    model, _ = train.load_model(checkpoint)
    model.eval()
    int8 = analysis_int8.export_analysis_int8(model, export.export_encoder(model)[0], calibration_crops(4))
    with zipfile.ZipFile(pack) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["onnx/analysis.qdq.onnx"] = int8
    manifest = json.loads(entries["manifest.json"])
    manifest["files"]["onnx/analysis.qdq.onnx"] = hashlib.sha256(int8).hexdigest()
    entries["manifest.json"] = json.dumps(manifest).encode()
    hybrid = tmp_path / "with-int8-analysis.ecpack"
    hybrid.write_bytes(export.write_zip(entries))
    _, val_files = data.list_images(data.default_dirs())
    photo = np.asarray(Image.open(val_files[0]).convert("RGB"))[:384, :512]
    Image.fromarray(photo).save(tmp_path / "photo.png")
    results = {}
    for arithmetic in ("Float32", "Int8"):
        ecx, png = tmp_path / f"{arithmetic}.ecx", tmp_path / f"{arithmetic}.png"
        cli("encode", str(tmp_path / "photo.png"), "-o", str(ecx), "-q", "3", "-m", str(hybrid), "--analysis", arithmetic,
            "-t", "1")
        cli("decode", str(ecx), "-o", str(png), "-m", str(hybrid), "-t", "1")
        decoded = np.asarray(Image.open(png).convert("RGB")).astype(np.float64)
        mse = float(((decoded - photo.astype(np.float64)) ** 2).mean())
        results[arithmetic] = (ecx.read_bytes(), 10 * math.log10(255 ** 2 / mse))
    (f_bytes, f_psnr), (q_bytes, q_psnr) = results["Float32"], results["Int8"]
    assert f_bytes != q_bytes
    assert abs(len(q_bytes) / len(f_bytes) - 1) < 0.03 and abs(q_psnr - f_psnr) < 0.1, (len(f_bytes), len(q_bytes), f_psnr, q_psnr)
