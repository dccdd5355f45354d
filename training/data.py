"""Training data: real photographs listed in training/DATA.md, preloaded as uint8 tensors.

Random crops with a random area-downscale (0.5x..1x) so the model sees several scales of the
few hundred images we have. Kodak is never read here.
"""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "datasets"
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}

# The last photos of the shared set (sorted by name) are held out for validation.
VALIDATION_COUNT = 4


def default_dirs() -> list[Path]:
    dirs = [SHARED / "wikipedia-photos"]
    extra = REPO / "training" / "data" / "images" / "photos"
    if extra.is_dir():
        dirs.append(extra)
    return dirs


def list_images(dirs: list[Path]) -> tuple[list[Path], list[Path]]:
    """Returns (train, validation) files. Validation = the last VALIDATION_COUNT shared photos."""
    train: list[Path] = []
    val: list[Path] = []
    for d in dirs:
        if "kodak" in str(d).lower():
            raise ValueError("Kodak is evaluation-only and must never feed training")
        files = sorted(p for p in d.rglob("*") if p.suffix.lower() in EXTENSIONS)
        if d.name == "wikipedia-photos":
            val.extend(files[-VALIDATION_COUNT:])
            files = files[:-VALIDATION_COUNT]
        train.extend(files)
    return train, val


def load_rgb(path: Path, min_side: int = 0) -> torch.Tensor:
    with Image.open(path) as im:
        im = im.convert("RGB")
        arr = np.asarray(im, dtype=np.uint8)
    t = torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous()
    if min_side and min(t.shape[1:]) < min_side:
        raise ValueError(f"{path} is smaller than {min_side}px")
    return t


def center_crops(files: list[Path], size: int = 256) -> list[torch.Tensor]:
    """Float [0,1] centre crops of at most ``size`` px, sides multiples of 64 (the validation crops of train.py)."""
    crops = []
    for f in files:
        t = load_rgb(f).float() / 255.0
        s = min(size, t.shape[1] // 64 * 64, t.shape[2] // 64 * 64)
        y0, x0 = (t.shape[1] - s) // 2, (t.shape[2] - s) // 2
        crops.append(t[:, y0:y0 + s, x0:x0 + s])
    return crops


class CropSampler:
    def __init__(self, files: list[Path], patch: int, seed: int = 0):
        self.patch = patch
        self.images = []
        for f in files:
            t = load_rgb(f)
            if min(t.shape[1:]) >= patch:
                self.images.append(t)
        if not self.images:
            raise ValueError("no training image is at least one patch large")
        self.rng = random.Random(seed)

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, size: int) -> torch.Tensor:
        out = torch.empty(size, 3, self.patch, self.patch)
        for i in range(size):
            img = self.images[self.rng.randrange(len(self.images))]
            h, w = img.shape[1:]
            max_scale = min(2.0, h / self.patch, w / self.patch)
            scale = 1.0 if max_scale <= 1.0 else self.rng.uniform(1.0, max_scale)
            side = int(self.patch * scale)
            y = self.rng.randrange(h - side + 1)
            x = self.rng.randrange(w - side + 1)
            crop = img[:, y:y + side, x:x + side].float().unsqueeze(0) / 255.0
            if side != self.patch:
                crop = F.interpolate(crop, size=(self.patch, self.patch), mode="area")
            if self.rng.random() < 0.5:
                crop = crop.flip(3)
            out[i] = crop[0]
        return out


def add_probe_arguments(ap, lr: float, every: int) -> None:
    """The options that the probes training on the training crops share (``training.ceiling``, ``training.aeprobe``):
    learning rate, validation interval, batch, patch, validation crop size, seed and threads."""
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--every", type=int, default=every, help="validate the probe every this many steps")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--patch", type=int, default=192)
    ap.add_argument("--size", type=int, default=512, help="side of the validation centre crops")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)


def probe_setup(args) -> tuple[list[Path], list[torch.Tensor]]:
    """Applies a probe's --threads and --seed; returns (training files, validation centre crops of --size)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    train_files, val_files = list_images(default_dirs())
    return train_files, center_crops(val_files, args.size)
