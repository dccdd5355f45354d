"""Screen content for the screen-content adapter: real text rendered with real fonts, as screenshots.

    python3 -m training.screens            # -> training/data/images/screen/{train,val}/*.png (git-ignored)

Text: Python standard-library sources (real code) and the licence texts in /usr/share/common-licenses (real
documents), both shipped by Debian. Fonts: DejaVu Sans / Sans Mono from the Debian package fonts-dejavu-core,
fetched with `apt-get download` + `dpkg -x` like every other packaged source (training/fetch_data.py). Four
layouts a device meets: a code editor (light and dark themes, line numbers, keyword/string/comment colours), a
terminal, a document page and a file-manager window. Everything is seeded, so the same packages give the same
pixels. Validation screens come from source files that no training screen uses.
"""
from __future__ import annotations

import argparse
import hashlib
import keyword
import random
import re
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "training" / "data" / "images" / "screen"
FONT_PACKAGE = ("fonts-dejavu-core", "2.37-6")
CODE_DIR = Path("/usr/lib/python3.11")
DOC_DIR = Path("/usr/share/common-licenses")
SIZE = (768, 512)

THEMES = {
    "light": {"bg": (255, 255, 255), "fg": (30, 30, 30), "kw": (0, 0, 200), "str": (163, 21, 21),
              "com": (0, 128, 0), "gutter": (240, 240, 240), "num": (140, 140, 140), "bar": (225, 225, 225)},
    "dark": {"bg": (30, 30, 30), "fg": (212, 212, 212), "kw": (86, 156, 214), "str": (206, 145, 120),
             "com": (106, 153, 85), "gutter": (37, 37, 38), "num": (133, 133, 133), "bar": (51, 51, 51)},
}
TOKEN = re.compile(r"(#.*$)|(\"[^\"]*\"|'[^']*')|([A-Za-z_]\w*)|(\s+)|(.)")


def fetch_fonts(dest: Path) -> dict[str, Path]:
    pkg, version = FONT_PACKAGE
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", f"{pkg}={version}"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        deb = next(Path(tmp).glob(f"{pkg}_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(dest)], check=True)
    root = dest / "usr" / "share" / "fonts" / "truetype" / "dejavu"
    return {"mono": root / "DejaVuSansMono.ttf", "sans": root / "DejaVuSans.ttf", "bold": root / "DejaVuSans-Bold.ttf"}


def stable_order(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").expandtabs(4).splitlines()


def draw_code(draw: ImageDraw.ImageDraw, lines: list[str], font, x0: int, y0: int, w: int, h: int, theme: dict,
              line_h: int, numbers: bool, start: int) -> None:
    gutter = 44 if numbers else 0
    if numbers:
        draw.rectangle([x0, y0, x0 + gutter - 6, y0 + h], fill=theme["gutter"])
    y = y0 + 4
    for i, line in enumerate(lines):
        if y + line_h > y0 + h:
            break
        if numbers:
            draw.text((x0 + 4, y), f"{start + i + 1:>4}", font=font, fill=theme["num"])
        x = x0 + gutter
        for m in TOKEN.finditer(line):
            text = m.group(0)
            if m.group(1):
                colour = theme["com"]
            elif m.group(2):
                colour = theme["str"]
            elif m.group(3) and keyword.iskeyword(text):
                colour = theme["kw"]
            else:
                colour = theme["fg"]
            if not text.isspace():
                draw.text((x, y), text, font=font, fill=colour)
            x += int(draw.textlength(text, font=font))
            if x > x0 + w:
                break
        y += line_h


def editor(rng: random.Random, fonts: dict, code: Path) -> Image.Image:
    theme = THEMES[rng.choice(["light", "dark"])]
    size = rng.choice([12, 13, 14, 15])
    font = ImageFont.truetype(str(fonts["mono"]), size)
    ui = ImageFont.truetype(str(fonts["sans"]), 12)
    im = Image.new("RGB", SIZE, theme["bg"])
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, SIZE[0], 26], fill=theme["bar"])
    d.text((10, 6), f"{code.name} — editor", font=ui, fill=theme["fg"])
    lines = read_lines(code)
    start = rng.randrange(max(1, len(lines) - 40))
    draw_code(d, lines[start:start + 60], font, 0, 28, SIZE[0], SIZE[1] - 50, theme, size + 5, True, start)
    d.rectangle([0, SIZE[1] - 22, SIZE[0], SIZE[1]], fill=theme["kw"])
    d.text((10, SIZE[1] - 18), f"Ln {start + 1}, Col 1   UTF-8   Python", font=ui, fill=(255, 255, 255))
    return im


def terminal(rng: random.Random, fonts: dict, code: Path) -> Image.Image:
    fg = rng.choice([(204, 204, 204), (0, 230, 0), (240, 240, 240)])
    font = ImageFont.truetype(str(fonts["mono"]), rng.choice([12, 13, 14]))
    im = Image.new("RGB", SIZE, (12, 12, 12))
    d = ImageDraw.Draw(im)
    lines = read_lines(code)
    start = rng.randrange(max(1, len(lines) - 40))
    y = 6
    d.text((6, y), f"user@camera:~$ less {code}", font=font, fill=(120, 200, 255))
    y += 18
    for line in lines[start:start + 40]:
        if y > SIZE[1] - 20:
            break
        d.text((6, y), line[:110], font=font, fill=fg)
        y += 17
    return im


def document(rng: random.Random, fonts: dict, doc: Path) -> Image.Image:
    size = rng.choice([13, 14, 16])
    font = ImageFont.truetype(str(fonts["sans"]), size)
    bold = ImageFont.truetype(str(fonts["bold"]), size + 6)
    im = Image.new("RGB", SIZE, (250, 250, 247))
    d = ImageDraw.Draw(im)
    d.text((40, 24), doc.name.replace("-", " "), font=bold, fill=(20, 20, 60))
    words = " ".join(read_lines(doc)).split()
    start = rng.randrange(max(1, len(words) - 600))
    y, line = 64, ""
    for word in words[start:start + 900]:
        trial = f"{line} {word}".strip()
        if d.textlength(trial, font=font) > SIZE[0] - 80:
            d.text((40, y), line, font=font, fill=(25, 25, 25))
            y += size + 7
            line = word
            if y > SIZE[1] - 30:
                break
        else:
            line = trial
    return im


def file_manager(rng: random.Random, fonts: dict, folder_files: list[Path]) -> Image.Image:
    ui = ImageFont.truetype(str(fonts["sans"]), 13)
    bold = ImageFont.truetype(str(fonts["bold"]), 13)
    accent = rng.choice([(53, 132, 228), (230, 97, 0), (38, 162, 105)])
    im = Image.new("RGB", SIZE, (246, 245, 244))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, SIZE[0], 34], fill=(222, 221, 218))
    d.text((12, 10), "Files — /usr/lib/python3.11", font=bold, fill=(40, 40, 40))
    for i, label in enumerate(["Back", "Forward", "Search"]):
        d.rounded_rectangle([SIZE[0] - 230 + i * 74, 6, SIZE[0] - 166 + i * 74, 28], 5, fill=(250, 250, 250), outline=(190, 190, 190))
        d.text((SIZE[0] - 222 + i * 74, 10), label, font=ui, fill=(40, 40, 40))
    d.rectangle([0, 35, 150, SIZE[1]], fill=(235, 234, 232))
    for i, place in enumerate(["Home", "Documents", "Downloads", "Pictures", "Trash"]):
        d.text((16, 50 + i * 26), place, font=ui, fill=(50, 50, 50))
    d.text((170, 44), "Name", font=bold, fill=(60, 60, 60))
    d.text((520, 44), "Size", font=bold, fill=(60, 60, 60))
    d.text((620, 44), "Lines", font=bold, fill=(60, 60, 60))
    sel = rng.randrange(len(folder_files))
    for i, f in enumerate(folder_files):
        y = 68 + i * 24
        if y > SIZE[1] - 24:
            break
        if i == sel:
            d.rectangle([152, y - 3, SIZE[0], y + 19], fill=accent)
        colour = (255, 255, 255) if i == sel else (30, 30, 30)
        d.rectangle([170, y + 2, 182, y + 14], fill=(120, 160, 220) if i != sel else (255, 255, 255))
        d.text((190, y), f.name, font=ui, fill=colour)
        d.text((520, y), f"{f.stat().st_size / 1024:.1f} kB", font=ui, fill=colour)
        d.text((620, y), str(len(read_lines(f))), font=ui, fill=colour)
    return im


def render(out: Path, fonts: dict, train_count: int, val_count: int) -> None:
    code = stable_order(sorted(CODE_DIR.glob("*.py")))
    docs = stable_order([p for p in sorted(DOC_DIR.iterdir()) if p.is_file()])
    # Disjoint sources: validation screens use the last files of each stable order.
    splits = {"val": (code[-val_count * 2:], docs[-val_count:]), "train": (code[:-val_count * 2], docs[:-val_count])}
    counts = {"train": train_count, "val": val_count}
    for split, (code_files, doc_files) in splits.items():
        rng = random.Random(f"edgecodec-screens-{split}")
        target = out / split
        target.mkdir(parents=True, exist_ok=True)
        for i in range(counts[split]):
            kind = ["editor", "terminal", "document", "files"][i % 4]
            if kind == "editor":
                im = editor(rng, fonts, code_files[i % len(code_files)])
            elif kind == "terminal":
                im = terminal(rng, fonts, code_files[(i * 7 + 3) % len(code_files)])
            elif kind == "document":
                im = document(rng, fonts, doc_files[i % len(doc_files)])
            else:
                k = rng.randrange(max(1, len(code_files) - 20))
                im = file_manager(rng, fonts, code_files[k:k + 20])
            im.save(target / f"{kind}-{i:02d}.png", optimize=False)
        print(f"{split}: {counts[split]} screens in {target}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--train", type=int, default=32)
    ap.add_argument("--val", type=int, default=8)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        fonts = fetch_fonts(Path(tmp))
        render(args.out, fonts, args.train, args.val)


if __name__ == "__main__":
    main()
