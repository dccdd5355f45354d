"""Fetch the Debian-packaged training images listed in training/DATA.md, reproducibly.

    python3 -m training.fetch_data            # -> training/data/images/<domain>/*.png (git-ignored)

Each package is fetched with `apt-get download` (exact version pinned below) and unpacked with
`dpkg -x`; only the files named here are used. JPEG sources are downscaled at least 2x with an
area filter so their compression artefacts do not become the training target.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "training" / "data" / "images"
TARGET_LONG_SIDE = 1600

# package -> (version, directory inside the package, {domain: [file names]})
SOURCES: dict[str, tuple[str, str, dict[str, list[str]]]] = {
    "lomiri-wallpapers-16.04": ("20.04.0-2", "usr/share/backgrounds", {
        "photos": ["Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Picture_0B_by_freespace.jpg",
                   "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
                   "analogpattern_by_Peter_Nerlich.jpg", "free_by_Peter_Nerlich.jpg",
                   "friends_by_Aitzol_Berasategi.jpg", "life_by_Aitzol_Berasategi.jpg",
                   "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
                   "sunset_by_Aitzol_Berasategi.jpg"],
        "illustrations": ["greentock_by_Peter_Nerlich.jpg", "umang_by_Abhishek_Mudgal.jpg"],
    }),
    "lomiri-wallpapers-20.04": ("20.04.0-2", "usr/share/backgrounds", {
        "photos": ["Infinite-Sea_by_Aury88.jpg", "Kleiber_by_Lukas_Baubkus.jpg"],
        "illustrations": ["Fossa_by_Jasper_Roks.jpg", "Painting-Colors_by__herobrine7gamer.jpg"],
    }),
    "mate-backgrounds": ("1.26.0-1", "usr/share/backgrounds/mate/nature", {
        "photos": ["Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg",
                   "LadyBird.jpg", "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg"],
    }),
    "ukui-wallpapers": ("20.04.3-1.1", "usr/share/backgrounds", {
        "illustrations": ["calla.png", "city.png", "desert.png", "firstgeneration.jpg", "fluent-color.png",
                          "goldfish.png", "rhythm.jpg", "rollpaper.png", "string.jpg", "the-mouse.jpg",
                          "2004default.jpg"],
    }),
    # Plasma ships each wallpaper as <Name>/contents/images/<size>; only the photographs are used (the largest size).
    "plasma-workspace-wallpapers": ("4:5.27.5-2", "usr/share/wallpapers", {
        "photos": [f"{n}/contents/images/2560x1600.jpg" for n in (
            "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey",
            "OneStandsOut", "Path", "summer_1am")] + ["Volna/contents/images/5120x2880.jpg"],
    }),
    "python3-skimage": ("0.19.3-8", "usr/lib/python3/dist-packages/skimage/data", {
        "photos": ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg",
                   "hubble_deep_field.jpg"],
    }),
}


# Held out of adapter training, for the per-domain evaluation (docs/adapters.md). Photos need no split here: the base
# model's validation photos are the last shared ones (training/data.py).
VALIDATION = {"illustrations": {"Painting-Colors_by__herobrine7gamer", "desert", "rhythm", "the-mouse"}}


def destination(out: Path, domain: str, pkg: str, name: str) -> Path:
    # A nested name (Plasma's <Name>/contents/images/<size>.jpg) is named after its top folder.
    stem = Path(name).parts[0] if len(Path(name).parts) > 1 else Path(name).stem
    if domain in VALIDATION:
        return out / domain / ("val" if stem in VALIDATION[domain] else "train") / f"{pkg}__{stem}.png"
    return out / domain / f"{pkg}__{stem}.png"


def convert(src: Path, dst: Path) -> tuple[int, int]:
    with Image.open(src) as im:
        im = im.convert("RGB")
        w, h = im.size
        factor = max(w, h) / TARGET_LONG_SIDE
        if src.suffix.lower() in (".jpg", ".jpeg"):
            factor = max(factor, 2.0)
        if factor > 1.0:
            im = im.resize((max(1, round(w / factor)), max(1, round(h / factor))), Image.BOX)
        dst.parent.mkdir(parents=True, exist_ok=True)
        im.save(dst, optimize=False)
        return im.size


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--domains", nargs="*", default=None, help="only these domains (default: all)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        for pkg, (version, folder, domains) in SOURCES.items():
            wanted = {d: f for d, f in domains.items() if args.domains is None or d in args.domains}
            if not wanted:
                continue
            subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=tmpdir, check=True,
                           stdout=subprocess.DEVNULL)
            deb = next(tmpdir.glob(f"{pkg}_*.deb"))
            root = tmpdir / pkg
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
            for domain, names in wanted.items():
                for name in names:
                    dst = destination(args.out, domain, pkg, name)
                    if dst.exists():
                        continue
                    size = convert(root / folder / name, dst)
                    print(f"{domain}: {dst.name} {size[0]}x{size[1]}")


if __name__ == "__main__":
    main()
