"""Build one version of the dataset repository in a folder: data shards, plots, pipeline.yaml,
lineage.json, versions.json and the card, in that order (the card describes the rest).

`prepare` reads the run into configs and computes the version's fingerprint (no history
needed), so a publish that would change nothing stops before writing anything; `build_tree`
writes the folder for a given history. The folder is a temporary one: targets receive it only
when it is complete and its card validates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.errors import TunesetError
from pipelines.io import write_json, write_text
from pipelines.publish import describe
from pipelines.publish.card import card_metadata, render_card, validate_card
from pipelines.publish.config import PublishConfig, Target, shard_bytes
from pipelines.publish.history import (
    VERSIONS_FILE,
    diff,
    fingerprint,
    new_entry,
    total_rows,
)
from pipelines.publish.layout import (
    ConfigData,
    build_configs,
    current_ids,
    data_digest,
    write_configs,
)
from pipelines.publish.lineage import build_lineage, source_revision
from pipelines.publish.plots import write_plots
from pipelines.publish.run import RunFolder


@dataclass
class Prepared:
    """A run read into configs, with the fingerprint of what a reader would get."""

    run: RunFolder
    config: PublishConfig
    configs: dict[str, ConfigData]
    pipeline_text: str
    pretty_name: str
    description: str
    meta: dict[str, Any]
    fingerprint: str

    @property
    def rows(self) -> dict[str, dict[str, int]]:
        return {name: c.rows for name, c in self.configs.items()}


def prepare(run: RunFolder, config: PublishConfig, pipeline_text: str) -> Prepared:
    configs = build_configs(run, sft_from=config.sft_from, best_of_n=config.best_of_n,
                            rejected=config.rejected, test_fraction=config.test_fraction)
    if not configs:
        raise TunesetError(f"{run.path}: the run has no records to publish (every stage's kept "
                           "and rejected outputs are empty)")
    pretty_name = config.pretty_name or run.name
    description = config.description or describe.description(run, pretty_name, list(configs))
    files = {name: {split: [] for split in c.splits} for name, c in configs.items()}
    records = sum(sum(c.rows.values()) for n, c in configs.items() if n != "rejected")
    meta = card_metadata(config, pretty_name, files, records)
    digests = {f"{name}/{split}": data_digest(ds) for name, c in configs.items()
               for split, ds in c.splits.items()}
    fp = fingerprint(digests, pipeline_text, {**meta, "description": description})
    return Prepared(run, config, configs, pipeline_text, pretty_name, description, meta, fp)


def default_message(prepared: Prepared, version: str, changes: dict[str, dict[str, int]]) -> str:
    parts = [f"{name} +{d['added']} -{d['removed']}" for name, d in changes.items()
             if d["added"] or d["removed"]]
    return f"{prepared.pretty_name} {version}" + (f": {', '.join(parts)}" if parts else "")


def versions_table(history: list[dict[str, Any]]) -> str:
    columns = sorted({c for entry in history for c in entry.get("rows", {})},
                     key=lambda c: ("sft", "preferences", "best_of_n", "rejected").index(c)
                     if c in ("sft", "preferences", "best_of_n", "rejected") else 9)
    rows = []
    for entry in reversed(history):
        cells = []
        for name in columns:
            total, change = total_rows(entry, name), entry.get("diff", {}).get(name)
            text = "-" if total is None else str(total)
            if change:
                text += f" (+{change['added']} / -{change['removed']})"
            cells.append(text)
        rows.append([entry["version"], str(entry.get("created", ""))[:10], *cells,
                     entry.get("message", "")])
    return describe.md_table(["version", "date", *columns, "message"], rows)


def build_tree(prepared: Prepared, root: Path, *, history: list[dict[str, Any]],
               previous_ids: dict[str, Counter], version: str, message: str | None,
               targets: list[Target]) -> dict[str, Any]:
    """Write the version into `root`; the new versions.json entry."""
    run, config = prepared.run, prepared.config
    files = write_configs(prepared.configs, root, shard_bytes(config.max_shard_size))
    plots = write_plots(run, prepared.configs, root)
    write_text(root / "pipeline.yaml", prepared.pipeline_text)
    lineage = build_lineage(run, {name: {"source": c.source, "rows": c.rows, "files": files[name]}
                                  for name, c in prepared.configs.items()})
    write_json(root / "lineage.json", lineage)
    changes = diff(previous_ids, current_ids(prepared.configs))
    message = message or config.message or default_message(prepared, version, changes)
    entry = new_entry(version, message=message, fp=prepared.fingerprint, run=run.name,
                      tuneset=lineage["tuneset"].get("version"), rows=prepared.rows,
                      changes=changes)
    full_history = [*history, entry]
    write_json(root / VERSIONS_FILE, {"versions": full_history})
    target = describe.load_target(targets)
    models, judges, decoding = describe.models_table(lineage)
    text = render_card(
        prepared.meta, pretty_name=prepared.pretty_name, description=prepared.description,
        version=version, configs_table=_configs_table(prepared.configs),
        test_share=f"{config.test_fraction:.0%}", load_args=describe.load_args(target),
        load_hint=describe.load_hint(target, version),
        configs=[{"name": name, "about": describe.CONFIG_ABOUT[name],
                  "sample": describe.sample_block(_first_row(c))}
                 for name, c in prepared.configs.items()],
        stages_table=describe.stages_table(run),
        stages=[{"name": s.name, "about": describe.stage_about(s)} for s in run.stages.values()],
        rejected_note=("Every dropped record is in the `rejected` config, with its stage, reason "
                       "and whole original row." if "rejected" in prepared.configs else
                       "Dropped records are not published in this version (`publish.rejected`)."),
        models_table=models, judges=judges, decoding=decoding, plots=plots,
        reproduce=describe.reproduce(target, version, run.name, source_revision()),
        versions_table=versions_table(full_history),
        limitations=describe.limitations(run, lineage),
        judge_evals=describe.judge_eval_tables(run),
        license_text=_license_text(config), references=describe.references(run))
    problems = validate_card(text, root)
    if problems:
        raise TunesetError("the dataset card does not validate: " + "; ".join(problems))
    write_text(root / "README.md", text)
    return entry


def _first_row(config: ConfigData) -> dict[str, Any]:
    split = config.splits.get("train") or next(iter(config.splits.values()))
    return split[0]


def _configs_table(configs: dict[str, ConfigData]) -> str:
    rows = [[f"`{name}`", sum(c.rows.values()),
             ", ".join(f"{s}: {n}" for s, n in c.rows.items()), describe.CONFIG_FORMAT[name],
             f"`{c.source}`"] for name, c in configs.items()]
    return describe.md_table(["config", "rows", "splits", "format", "from"], rows)


def _license_text(config: PublishConfig) -> str:
    if config.license == "other":
        return f"{config.license_name}: <{config.license_link}>"
    return (f"`{config.license}` (the `license` field above). The models that generated the text "
            "may carry their own terms; see [Models](#models).")
