"""Files for reviewing a dedup run: a histogram of cluster sizes and the largest clusters.

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
from matplotlib.ticker import MaxNLocator  # noqa: E402

from pipelines.dedup.config import DedupConfig  # noqa: E402
from pipelines.dedup.texts import compared_texts  # noqa: E402
from pipelines.io import atomic_path, write_text  # noqa: E402
from pipelines.stage import StageResult  # noqa: E402

HISTOGRAM = "cluster_sizes.png"
LARGEST = "largest_clusters.jsonl"


def plot_cluster_sizes(sizes: dict[str, int], path: str | Path) -> None:
    """Bar chart: number of clusters per cluster size (clusters of 2 or more records)."""
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    xs = [int(s) for s in sizes]
    ax.bar(xs, list(sizes.values()), color="#4477aa")
    ax.set_xlabel("records in cluster")
    ax.set_ylabel("clusters")
    total = sum(sizes.values())
    ax.set_title(f"dedup: {total} cluster{'s' if total != 1 else ''}" if sizes else
                 "dedup: no duplicates")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
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
