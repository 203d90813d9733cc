"""The card's plots (`plots/*.png`): the stages' own plots, copied, and four made from the
published rows.

    plots/<stage>-<name>.png          each stage's PNGs (score histogram, cluster sizes, ROUGE-L)
    plots/instruction_length.png      words in the user turns of `sft`
    plots/response_length.png         words in the assistant turns of `sft`
    plots/chosen_vs_rejected_length.png   chosen minus rejected words per preference pair
    plots/score_margin.png            score_chosen minus score_rejected per pair

Lengths are whitespace-separated words, the unit the templating budget uses. A plot with no
data to show is not written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np

from pipelines.plots import histogram_png
from pipelines.publish.layout import ConfigData
from pipelines.publish.run import RunFolder


@dataclass(frozen=True)
class Plot:
    path: str
    title: str


def _words(messages: list[dict] | None, role: str) -> int:
    return sum(len(m["content"].split()) for m in messages or [] if m.get("role") == role)


def _histogram(values: list[float], path: Path, *, title: str, xlabel: str,
               marker: float | None = None, marker_label: str = "") -> bool:
    if not values:
        return False
    array = np.asarray(values, dtype=float)
    low, high = float(array.min()), float(array.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(array, bins=min(30, max(5, len(set(values)))), range=(low, high))
    if marker is not None and not low <= marker <= high:
        marker = None
    histogram_png(counts.tolist(), edges.tolist(), path, title=title, xlabel=xlabel,
                  marker=marker, marker_label=marker_label)
    return True


def _all_rows(config: ConfigData) -> datasets.Dataset:
    parts = list(config.splits.values())
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def write_plots(run: RunFolder, configs: dict[str, ConfigData], root: Path) -> list[Plot]:
    """Write every plot under `root/plots/`; the plots written, in card order."""
    plots: list[Plot] = []
    folder = root / "plots"
    for stage in run.stages.values():
        for source in stage.plots():
            rel = f"plots/{stage.name}-{source.name}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, root / rel)
            plots.append(Plot(rel, f"{stage.name}: {source.stem.replace('_', ' ')}"))
    if "sft" in configs:
        messages = _all_rows(configs["sft"])["messages"]
        for role, name, what in (("user", "instruction_length", "instruction"),
                                 ("assistant", "response_length", "response")):
            values = [_words(m, role) for m in messages]
            title = f"sft: {what} length (words), median {int(np.median(values))}"
            if _histogram(values, folder / f"{name}.png", title=title, xlabel="words"):
                plots.append(Plot(f"plots/{name}.png", title))
    if "preferences" in configs:
        pairs = _all_rows(configs["preferences"])
        diffs = [_words(c, "assistant") - _words(r, "assistant")
                 for c, r in zip(pairs["chosen"], pairs["rejected"])]
        longer = sum(d > 0 for d in diffs) / len(diffs)
        title = f"chosen minus rejected length (words); chosen longer in {longer:.0%}"
        if _histogram(diffs, folder / "chosen_vs_rejected_length.png", title=title,
                      xlabel="words", marker=0.0, marker_label="equal length"):
            plots.append(Plot("plots/chosen_vs_rejected_length.png", title))
        margins = [c - r for c, r in zip(pairs["score_chosen"], pairs["score_rejected"])
                   if c is not None and r is not None]
        title = "score margin (score_chosen minus score_rejected)"
        if _histogram(margins, folder / "score_margin.png", title=title, xlabel="margin"):
            plots.append(Plot("plots/score_margin.png", title))
    return plots
