#!/usr/bin/env python3
"""Reference Bjontegaard deltas for BjontegaardDeltaTests (VCEG-M33, cubic fit, numpy.polyfit/polyint).

BD-rate: fit log10(rate) as a cubic in PSNR for each curve, integrate both over the overlapping PSNR
interval, average the difference, report (10**diff - 1) * 100 percent.
BD-PSNR: fit PSNR as a cubic in log10(rate), integrate over the overlapping log10(rate) interval,
report the average difference in dB.

Run with any python3 that has numpy:  python3 bd_reference.py
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


# Asymmetric case: different point counts, partially overlapping PSNR ranges, non-uniform gains.
ANCHOR_BPP = [0.25, 0.5, 0.9, 1.4, 2.1]
ANCHOR_PSNR = [27.1, 30.2, 32.9, 35.0, 37.3]
TEST_BPP = [0.2, 0.38, 0.7, 1.1, 1.6, 2.4]
TEST_PSNR = [27.8, 30.6, 33.4, 35.6, 37.4, 39.5]

if __name__ == "__main__":
    print(f"asymmetric bd_rate = {bd_rate(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR):.15f}")
    print(f"asymmetric bd_psnr = {bd_psnr(ANCHOR_BPP, ANCHOR_PSNR, TEST_BPP, TEST_PSNR):.15f}")
