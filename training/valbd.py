"""BD-rate between two validation rows of the training log (the ``val`` column: ``bpp:psnr`` per quality level).

    python3 -m training.valbd 49000 50000          # rate of step 50,000 against step 49,000 at equal PSNR
    python3 -m training.valbd 58500 59000 --test-log /tmp/arm.csv   # an A/B arm's own log against the main one

Same method as the C# ``BjontegaardDelta`` (cubic fit of log10 rate over PSNR, averaged over the PSNR range both
curves share), on estimated rates of the four 256² validation crops; it is how docs/training.md compares steps.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

LOG = Path(__file__).resolve().parent / "logs" / "train.csv"


def text(rows: list[tuple[float, float]]) -> str:
    """[(bpp, psnr)] -> the log's ``bpp:psnr;...`` (what ``curve`` reads back)."""
    return ";".join(f"{b:.4f}:{p:.2f}" for b, p in rows)


def curve(val: str) -> list[tuple[float, float]]:
    """``bpp:psnr;...`` -> [(bpp, psnr)]."""
    return [(float(a), float(b)) for a, b in (p.split(":") for p in val.split(";") if p)]


def bd_rate(anchor: list[tuple[float, float]], test: list[tuple[float, float]],
            window: tuple[float, float] = (-np.inf, np.inf)) -> float:
    """Percent rate change of ``test`` against ``anchor`` at equal PSNR: each curve's log-rate a least-squares cubic of
    PSNR over all its points (VCEG-M33), integrated over the PSNR range the curves share, clipped to ``window`` (dB),
    as ``edgecodec bd --window`` does."""
    if min(len(anchor), len(test)) < 4:
        raise ValueError("BD-rate needs at least 4 points per curve")
    (ra, pa), (rt, pt) = (np.array(c, dtype=np.float64).T for c in (anchor, test))
    lo, hi = max(pa.min(), pt.min(), window[0]), min(pa.max(), pt.max(), window[1])
    if not hi > lo:
        raise ValueError("the curves do not overlap in PSNR" + ("" if window == (-np.inf, np.inf) else " within the window"))
    fa, ft = np.polyfit(pa, np.log10(ra), 3), np.polyfit(pt, np.log10(rt), 3)
    ia, it = np.polyint(fa), np.polyint(ft)
    mean = ((np.polyval(it, hi) - np.polyval(it, lo)) - (np.polyval(ia, hi) - np.polyval(ia, lo))) / (hi - lo)
    return (10 ** mean - 1) * 100


def validation_rows(log: Path = LOG) -> dict[int, str]:
    """Step -> val column, for the rows that have one (the last row of a step wins, as after a resume)."""
    with log.open() as f:
        return {int(r["step"]): r["val"] for r in csv.DictReader(f) if r.get("val")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("anchor", type=int, help="step of the reference row")
    ap.add_argument("test", type=int, nargs="+", help="steps to compare against it")
    ap.add_argument("--log", type=Path, default=LOG)
    ap.add_argument("--test-log", type=Path, default=None,
                    help="read the test steps from this log (e.g. a training run with its own --log) instead of --log")
    ap.add_argument("--skip-test-levels", type=int, default=0,
                    help="leave out the first N points of each test row: rows of a run that added N levels below the "
                         "anchor's (train --lambdas) then compare level by level, as their rows did before")
    args = ap.parse_args(argv)
    rows = validation_rows(args.log)
    test_log = args.test_log or args.log
    test_rows = validation_rows(test_log) if args.test_log else rows
    if args.anchor not in rows:
        raise SystemExit(f"no validation row at step {args.anchor} in {args.log}")
    for step in args.test:
        if step not in test_rows:
            raise SystemExit(f"no validation row at step {step} in {test_log}")
    for step in args.test:
        test = curve(test_rows[step])[args.skip_test_levels:]
        print(f"{step} vs {args.anchor}: {bd_rate(curve(rows[args.anchor]), test):+.2f} % BD-rate")


if __name__ == "__main__":
    main()
