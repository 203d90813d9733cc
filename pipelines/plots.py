"""PNG plots for run folders and dataset cards (matplotlib, no display needed).

    >>> import tempfile
    >>> path = histogram_png([3, 10, 4], [0.0, 0.5, 0.7, 1.0], f"{tempfile.mkdtemp()}/rouge.png",
    ...                      title="max ROUGE-L to the pool", xlabel="ROUGE-L F1")
    >>> path.read_bytes()[:4]
    b'\x89PNG'
"""

from __future__ import annotations

from pathlib import Path

from pipelines.io import atomic_path


def histogram_png(counts: list[int], edges: list[float], path: str | Path, *, title: str,
                  xlabel: str, ylabel: str = "count", marker: float | None = None,
                  marker_label: str = "") -> Path:
    """Bars of `counts` between consecutive `edges`, optionally with a vertical marker line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    try:
        widths = [b - a for a, b in zip(edges, edges[1:])]
        ax.bar(edges[:-1], counts, width=widths, align="edge", color="#4C72B0", edgecolor="white")
        if marker is not None:
            ax.axvline(marker, color="#C44E52", linestyle="--", label=marker_label or None)
            if marker_label:
                ax.legend(loc="upper left")
        ax.set_xlim(edges[0], edges[-1])
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return Path(path)
