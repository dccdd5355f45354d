"""Weights of the QDQ ONNX graphs (the int8 synthesis ``onnx/synthesis.qdq.onnx`` and the int8 analysis
``onnx/analysis.qdq.onnx``): int8, symmetric, one scale per output channel, as ONNX Runtime's ``QLinearConv`` takes
them. (The C# integer engine's weights are another convention: ``export.Builder.conv``.)"""
from __future__ import annotations

import numpy as np


def int8_per_channel(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``w`` (out, in, k, k) as int8 values and their per-output-channel scales (float64; ``qw · scale ≈ w``)."""
    scale = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(1) / 127.0, 1e-12)
    return np.clip(np.round(w / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8), scale
