#!/usr/bin/env python3
"""Reference Bjontegaard deltas for BjontegaardDeltaTests (VCEG-M33, cubic fit, numpy.polyfit/polyint).

BD-rate: fit log10(rate) as a cubic in PSNR for each curve, integrate both over the overlapping PSNR
interval, average the difference, report (10**diff - 1) * 100 percent.
BD-PSNR: fit PSNR as a cubic in log10(rate), integrate over the overlapping log10(rate) interval,
report the average difference in dB.

The piecewise BD-rates (BdInterpolation.Pchip / Linear) are read through scipy's PchipInterpolator and through
numpy's trapezoid of np.interp on a fine grid (Debian: apt-get install python3-scipy).

Run with any python3 that has numpy (and scipy for the piecewise ones):  python3 bd_reference.py
The printed numbers are pasted into BjontegaardDeltaTests.cs.
"""
import numpy as np


def bd_rate(r1, p1, r2, p2):
    l1, l2 = np.log10(r1), np.log10(r2)
    f1, f2 = np.polyfit(p1, l1, 3), np.polyfit(p2, l2, 3)
    lo, hi = max(min(p1), min(p2)), min(max(p1), max(p2))
    i1, i2 = np.polyint(f1), np.polyint(f2)
    a1 = np.polyval(i1, hi) - np.polyval(i1, lo)
    a2 = np.polyval(i2, hi) - np.polyval(i2, lo)
    return (10 ** ((a2 - a1) / (hi - lo)) - 1) * 100


def bd_psnr(r1, p1, r2, p2):
    l1, l2 = np.log10(r1), np.log10(r2)
    f1, f2 = np.polyfit(l1, p1, 3), np.polyfit(l2, p2, 3)
    lo, hi = max(min(l1), min(l2)), min(max(l1), max(l2))
    i1, i2 = np.polyint(f1), np.polyint(f2)
    a1 = np.polyval(i1, hi) - np.polyval(i1, lo)
    a2 = np.polyval(i2, hi) - np.polyval(i2, lo)
    return (a2 - a1) / (hi - lo)


def bd_rate_piecewise(r1, p1, r2, p2, kind, lo=-np.inf, hi=np.inf):
    """BD-rate with log10(rate) read through the points (kind "pchip" or "linear"), over a clipped window."""
    from scipy.interpolate import PchipInterpolator

    def curve(r, p):
        order = np.argsort(p)
        return np.asarray(p, float)[order], np.log10(np.asarray(r, float))[order]

    x1, y1 = curve(r1, p1)
    x2, y2 = curve(r2, p2)
    lo, hi = max(x1[0], x2[0], lo), min(x1[-1], x2[-1], hi)
    if kind == "pchip":
        a1, a2 = PchipInterpolator(x1, y1).integrate(lo, hi), PchipInterpolator(x2, y2).integrate(lo, hi)
    else:
        grid = np.linspace(lo, hi, 2_000_001)
        a1, a2 = np.trapz(np.interp(grid, x1, y1), grid), np.trapz(np.interp(grid, x2, y2), grid)
    return (10 ** ((a2 - a1) / (hi - lo)) - 1) * 100


# A dense ladder with uneven steps (BjontegaardDeltaTests.Ladder), against ANCHOR below.
LADDER_BPP = [0.18, 0.22, 0.31, 0.40, 0.52, 0.70, 0.95, 1.30, 1.75]
LADDER_PSNR = [26.4, 27.6, 28.1, 29.9, 30.4, 32.2, 33.1, 35.3, 36.0]

# Asymmetric case: different point counts, partially overlapping PSNR ranges, non-uniform gains.
ANCHOR_BPP = [0.25, 0.5, 0.9, 1.4, 2.1]
ANCHOR_PSNR = [27.1, 30.2, 32.9, 35.0, 37.3]
TEST_BPP = [0.2, 0.38, 0.7, 1.1, 1.6, 2.4]
TEST_PSNR = [27.8, 30.6, 33.4, 35.6, 37.4, 39.5]

if __name__ == "__main__":
    print(f"asymmetric bd_rate = {bd_rate(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR):.15f}")
    print(f"asymmetric bd_psnr = {bd_psnr(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR):.15f}")
    for kind in ("pchip", "linear"):
        for window in ((-np.inf, np.inf), (28.0, 33.5)):
            value = bd_rate_piecewise(ANCHOR_BPP, ANCHOR_PSNR, LADDER_BPP, LADDER_PSNR, kind, *window)
            print(f"ladder {kind} {window} bd_rate = {value!r}")
