#!/usr/bin/env python3
"""Reference MS-SSIM for MetricsTests: a float64 numpy port of pytorch_msssim.ms_ssim (v1.0),
the implementation CompressAI's evaluation uses.

Same algorithm step by step: 11-tap Gaussian (sigma 1.5, normalised), 'valid' separable filtering,
K1=0.01, K2=0.03, data range 255, relu on cs and on the final ssim, 5 scales with weights
[0.0448, 0.2856, 0.3001, 0.2363, 0.1333], avg_pool2d(kernel 2, padding = size % 2,
count_include_pad=True) between scales, per channel, then the mean over channels.

Run with any python3 that has numpy:  python3 msssim_reference.py
The printed numbers are pasted into MetricsTests.cs.
"""
import numpy as np

WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def gauss(size=11, sigma=1.5):
    coords = np.arange(size, dtype=np.float64) - size // 2
    g = np.exp(-(coords ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def filt(x, g):
    n = len(g)
    h, w = x.shape
    t = sum(g[k] * x[:, k:w - n + 1 + k] for k in range(n))
    return sum(g[k] * t[k:h - n + 1 + k, :] for k in range(n))


def ssim(x, y, g, data_range=255.0):
    c1 = (0.01 * data_range) ** 2
    c2 = (0.03 * data_range) ** 2
    mu1, mu2 = filt(x, g), filt(y, g)
    s11 = filt(x * x, g) - mu1 * mu1
    s22 = filt(y * y, g) - mu2 * mu2
    s12 = filt(x * y, g) - mu1 * mu2
    cs_map = (2 * s12 + c2) / (s11 + s22 + c2)
    ssim_map = ((2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1)) * cs_map
    return ssim_map.mean(), cs_map.mean()


def avg_pool(x):
    ph, pw = x.shape[0] % 2, x.shape[1] % 2
    x = np.pad(x, ((ph, ph), (pw, pw)))
    h, w = x.shape
    oh, ow = (h - 2) // 2 + 1, (w - 2) // 2 + 1
    x = x[:2 * oh, :2 * ow]
    return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4.0


def ms_ssim_channel(x, y):
    g = gauss()
    mcs = []
    for level in range(len(WEIGHTS)):
        s, cs = ssim(x, y, g)
        if level < len(WEIGHTS) - 1:
            mcs.append(max(cs, 0.0))
            x, y = avg_pool(x), avg_pool(y)
    vals = np.array(mcs + [max(s, 0.0)])
    return float(np.prod(vals ** WEIGHTS))


def ms_ssim(a, b):
    """a, b: (H, W, 3) arrays in [0, 255]."""
    return float(np.mean([ms_ssim_channel(a[:, :, c].astype(np.float64), b[:, :, c].astype(np.float64))
                          for c in range(3)]))


def constructed_pair(width=181, height=167):
    """The pair MetricsTests builds: a smooth-plus-texture image and a deterministically perturbed copy."""
    y, x = np.mgrid[0:height, 0:width]
    a = np.zeros((height, width, 3), dtype=np.int64)
    b = np.zeros((height, width, 3), dtype=np.int64)
    for c in range(3):
        a[:, :, c] = (x * (c + 1) + y * 2 + ((x * y) % 23) * 3 + c * 40) % 256
        noise = ((x * 31 + y * 17 + c * 7) % 29) - 14
        b[:, :, c] = np.clip(a[:, :, c] + noise, 0, 255)
    return a, b


if __name__ == "__main__":
    a, b = constructed_pair()
    print(f"constructed 181x167 ms_ssim = {ms_ssim(a, b):.15f}")
    print(f"identical ms_ssim = {ms_ssim(a, a):.15f}")
