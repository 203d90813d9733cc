"""Files for reviewing a dedup run: a histogram of cluster sizes and the largest clusters.

The histogram has one bar per logarithmic size bin (2, 3, 4-7, 8-15, ...) on a logarithmic
count axis, each labelled with its count, so 3,000 clusters of 2 and one cluster of 392 are
both readable.

    write_cluster_report(result, config, "runs/x/dedup")
    -> ["cluster_sizes.png", "largest_clusters.jsonl"]

`largest_clusters.jsonl` has one line per cluster, largest first (ties: lower cluster id), with
the kept record and every dropped member and their compared texts:

    {"cluster_id": 0, "size": 3, "kept": {"id": "a", "text": "..."},
     "members": [{"id": "b", "reason": "dedup_exact", "text": "..."}, ...]}

Everything is derived from the stage's result (rejected rows carry `cluster_id` and
`duplicate_of`), so the report can be rebuilt from a run folder. Decontamination clusters are
left out: their kept member is a reference record, not part of the output.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pipelines.dedup.config import DedupConfig  # noqa: E402
from pipelines.dedup.texts import compared_texts  # noqa: E402
from pipelines.io import atomic_path, write_text  # noqa: E402
from pipelines.stage import StageResult  # noqa: E402

HISTOGRAM = "cluster_sizes.png"
LARGEST = "largest_clusters.jsonl"
BAR_COLOR = "#4477aa"


def size_bins(sizes: dict[str, int]) -> list[tuple[str, int]]:
    """(label, clusters) per logarithmic size bin, from 2 up to the bin of the largest size:
    2 and 3 alone, then powers of two (4-7, 8-15, ...); empty bins in between are kept so the
    axis reads as a scale.

    >>> size_bins({"2": 3000, "3": 600, "9": 2, "392": 1})
    [('2', 3000), ('3', 600), ('4-7', 0), ('8-15', 2), ('16-31', 0), ('32-63', 0), \
('64-127', 0), ('128-255', 0), ('256-511', 1)]
    """
    counts = {int(s): c for s, c in sizes.items() if c}
    if not counts:
        return []
    bins, low = [("2", 2, 2), ("3", 3, 3)], 4
    while low <= max(counts):
        bins.append((f"{low}-{2 * low - 1}", low, 2 * low - 1))
        low *= 2
    found = [(label, sum(c for s, c in counts.items() if lo <= s <= hi)) for label, lo, hi in bins]
    last = max(i for i, (_, c) in enumerate(found) if c)
    return found[:last + 1]


def cluster_size_figure(sizes: dict[str, int]) -> Figure:
    """One bar per size bin (`size_bins`) on a logarithmic count axis, each non-empty bar
    labelled with its count: a bin with one cluster stays visible beside one with thousands."""
    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=100)
    bins = size_bins(sizes)
    total = sum(sizes.values())
    ax.set_title(f"dedup: {total:,} cluster{'s' if total != 1 else ''}" if bins else
                 "dedup: no duplicates")
    ax.set_xlabel("records in cluster")
    ax.set_ylabel("clusters (log scale)")
    if bins:
        labels, counts = zip(*bins)
        positions = range(len(bins))
        # subtle: bars start at 0.5 on the log axis, so a count of 1 has a visible height
        bars = ax.bar(positions, [c - 0.5 if c else 0 for c in counts], bottom=0.5,
                      color=BAR_COLOR, width=0.8)
        ax.set_yscale("log")
        ax.set_ylim(0.5, max(counts) * 4)
        ax.set_xticks(list(positions), labels, rotation=30 if len(bins) > 8 else 0)
        for bar, count in zip(bars, counts):
            if count:
                ax.annotate(f"{count:,}", (bar.get_x() + bar.get_width() / 2, count),
                            xytext=(0, 2), textcoords="offset points", ha="center",
                            va="bottom", fontsize=8)
    fig.tight_layout()
    return fig


def plot_cluster_sizes(sizes: dict[str, int], path: str | Path) -> None:
    """Write `cluster_size_figure(sizes)` as a PNG to `path`."""
    fig = cluster_size_figure(sizes)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def largest_clusters(result: StageResult, config: DedupConfig, limit: int) -> list[dict]:
    reasons = result.rejected["reason"] if len(result.rejected) else []
    rejected = result.rejected.select([i for i, r in enumerate(reasons) if r != "dedup_contaminated"])
    if not len(rejected) or limit == 0:
        return []
    texts = compared_texts(rejected, config.text).to_pylist()
    members: dict[int, list[dict]] = defaultdict(list)
    kept_of: dict[int, str] = {}
    ids = list(rejected["id"]) if "id" in rejected.column_names else [None] * len(rejected)
    for row, (cid, kept_id, reason) in enumerate(zip(rejected["cluster_id"], rejected["duplicate_of"],
                                                     rejected["reason"])):
        members[cid].append({"id": ids[row], "reason": reason, "text": texts[row]})
        kept_of[cid] = kept_id
    top = sorted(members, key=lambda c: (-len(members[c]), c))[:limit]
    wanted = {kept_of[c] for c in top}
    kept_text: dict[str, str] = {}
    if "id" in result.kept.column_names:
        hits = result.kept.select([i for i, v in enumerate(result.kept["id"]) if v in wanted])
        kept_text = dict(zip(hits["id"], compared_texts(hits, config.text).to_pylist()))
    return [{"cluster_id": c, "size": len(members[c]) + 1,
             "kept": {"id": kept_of[c], "text": kept_text.get(kept_of[c])},
             "members": members[c]} for c in top]


def write_cluster_report(result: StageResult, config: DedupConfig, out: str | Path) -> list[str]:
    """Write the histogram and the largest clusters into `out`; return their relative names."""
    out = Path(out)
    plot_cluster_sizes(result.stats.get("cluster_sizes", {}), out / HISTOGRAM)
    lines = [json.dumps(c, ensure_ascii=False) for c in
             largest_clusters(result, config, config.largest_clusters)]
    write_text(out / LARGEST, "".join(line + "\n" for line in lines))
    return [HISTOGRAM, LARGEST]
