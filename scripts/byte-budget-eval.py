#!/usr/bin/env python3
"""What `edgecodec encode --max-bytes` buys over the highest whole quality level that fits (docs/format.md,
"Fitting a byte budget").

    dotnet build sdk/EdgeCodec.Cli -c Release
    python3 scripts/byte-budget-eval.py ../shared/datasets/wikipedia-photos/04{6,7,8,9}.png

For every image it encodes each quality level whole, then sets budgets at 25 / 50 / 75 % of the way between two
neighbouring levels' sizes, encodes with --max-bytes, decodes everything with the `cpu` backend and compares PSNR-RGB
with the highest whole level that fits (what an encoder that only picks a level would write).
"""
import argparse
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli"


def run(*args: str) -> str:
    return subprocess.run([str(CLI), *args], capture_output=True, text=True, check=True).stdout


def psnr(original: np.ndarray, png: str) -> float:
    decoded = np.asarray(Image.open(png).convert("RGB")).astype(np.float64)
    return float(10 * np.log10(255.0 ** 2 / ((original - decoded) ** 2).mean()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="+")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgecodec-budget-"))
    ecx, png = str(work / "x.ecx"), str(work / "x.png")
    gains, used = [], []
    print("| image | budget (bytes) | chosen | bytes | PSNR (dB) | best whole level that fits | gain (dB) |")
    print("|---|---|---|---|---|---|---|")
    for image in args.images:
        original = np.asarray(Image.open(image).convert("RGB")).astype(np.float64)
        sizes, whole = [], []
        for q in range(6):
            run("encode", image, "-o", ecx, "-q", str(q), "-t", "1")
            sizes.append(os.path.getsize(ecx))
            run("decode", ecx, "-o", png, "-t", "1", "--backend", "cpu")
            whole.append(psnr(original, png))
        for q in range(1, 6):
            for frac in (0.25, 0.5, 0.75):
                budget = int(sizes[q - 1] + frac * (sizes[q] - sizes[q - 1]))
                out = run("encode", image, "-o", ecx, "--max-bytes", str(budget), "-t", "1")
                run("decode", ecx, "-o", png, "-t", "1", "--backend", "cpu")
                p, size = psnr(original, png), os.path.getsize(ecx)
                chosen = ", ".join(part.strip().split(" (")[0] for part in out.split(",")[1:3])
                gains.append(p - whole[q - 1])
                used.append(size / budget)
                print(f"| {Path(image).name} | {budget} | {chosen} | {size} | {p:.2f} | q{q - 1}: {whole[q - 1]:.2f} | "
                      f"{gains[-1]:+.2f} |", flush=True)
    g = np.array(gains)
    better = g > 0.001
    print(f"\n{len(g)} budgets: mean gain {g.mean():+.3f} dB (min {g.min():+.3f}, max {g.max():+.3f}); "
          f"{better.sum()} improved, by {g[better].mean() if better.any() else 0:+.3f} dB on average; "
          f"{100 * np.mean(used):.1f} % of the budget used")


if __name__ == "__main__":
    main()
