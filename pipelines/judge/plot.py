"""The score histogram a judge run leaves in its run folder (PNG, via `pipelines.plots`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pipelines.judge.config import SCORE_MAX, SCORE_MIN
from pipelines.plots import histogram_png


def plot_score_histogram(scores: Sequence[float], threshold: float, path: str | Path, *,
                         title: str = "judge scores") -> Path:
    """Histogram of `scores` on 0-5 in quarter-point bins, with the threshold marked."""
    edges = [SCORE_MIN + 0.25 * i for i in range(int((SCORE_MAX - SCORE_MIN) / 0.25) + 1)]
    counts, _ = np.histogram(list(scores), bins=edges)
    return histogram_png(counts.tolist(), edges, path, title=f"{title} (n={len(scores)})",
                         xlabel="score", ylabel="records", marker=threshold,
                         marker_label=f"threshold {threshold:g}")
