"""The score histogram a judge run leaves in its run folder (matplotlib, Agg backend, PNG)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipelines.io import atomic_path
from pipelines.judge.config import SCORE_MAX, SCORE_MIN


def plot_score_histogram(scores: Sequence[float], threshold: float, path: str | Path, *,
                         title: str = "judge scores") -> Path:
    """Histogram of `scores` on 0-5 in quarter-point bins, with the threshold marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = [SCORE_MIN + 0.25 * i for i in range(int((SCORE_MAX - SCORE_MIN) / 0.25) + 1)]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    try:
        ax.hist(list(scores), bins=bins, color="#4c72b0", edgecolor="white")
        ax.axvline(threshold, color="#c44e52", linestyle="--", label=f"threshold {threshold:g}")
        ax.set_xlim(SCORE_MIN, SCORE_MAX)
        ax.set_xlabel("score")
        ax.set_ylabel("records")
        ax.set_title(f"{title} (n={len(scores)})")
        ax.legend(loc="upper left")
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return Path(path)
