"""Read a pipeline run folder for publishing: every stage's run folder, verified against its
manifest, plus the run's resolved config, summary and any judge evaluation reports.

    <run>/pipeline.yaml        the resolved config `tuneset run` wrote (license, metadata)
    <run>/summary.json         counts per stage
    <run>/<stage>/             templating, self_instruct, dedup, judge, preferences
    <run>/**/judge_eval.json   reports of `tuneset judge-eval --out <run>/...` (optional)

A stage the config names (or, without a config, any stage folder present) must be complete: a
manifest whose every file has the recorded sha256. Anything else is an InputError naming the
stage and the file. Stage configs are read from the manifests, so a run folder moved to another
machine (its input files gone) still publishes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets
import pyarrow.parquet as pq
import yaml

from pipelines.errors import InputError
from pipelines.io import load_run, read_manifest, sha256_file

STAGES = ("templating", "self_instruct", "dedup", "judge", "preferences")
GENERATORS = ("templating", "self_instruct")
RUN_CONFIG = "pipeline.yaml"
JUDGE_EVAL = "judge_eval.json"


@dataclass
class StageRun:
    """One stage's verified run folder."""

    name: str
    folder: Path
    manifest: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    """This stage's row of the run's summary.json (records in, kept, rejected)."""

    @cached_property
    def stats(self) -> dict[str, Any]:
        return json.loads((self.folder / "stats.json").read_text(encoding="utf-8"))

    def records(self, part: str = "kept") -> datasets.Dataset | None:
        """The `kept`, `rejected` (or another output's) records; None when the run has none."""
        if part not in self.manifest.get("rows", {}):
            return None
        files = sorted(rel for rel in self.manifest["files"]
                       if rel.startswith(f"{part}/") and rel.endswith(".parquet"))
        if not files:
            return load_run(self.folder, part)
        # the manifest's sha256 is the dataset's fingerprint: no re-hashing of the table
        parts = [datasets.Dataset(pq.read_table(self.folder / rel),
                                  fingerprint=self.manifest["files"][rel]["sha256"][:16])
                 for rel in files]
        return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)

    @property
    def rows(self) -> dict[str, int]:
        return dict(self.manifest.get("rows", {}))

    @property
    def records_in(self) -> int:
        """Records that entered the stage (generators: the candidates they made)."""
        for recorded in ((self.manifest.get("run") or {}).get("records_in"),
                         self.summary.get("in")):
            if isinstance(recorded, int):
                return recorded
        for key in ("rows_in", "prompts", "candidates"):
            if isinstance(self.stats.get(key), int):
                return self.stats[key]
        return self.rows.get("kept", 0) + self.rows.get("rejected", 0)

    @property
    def seconds(self) -> float | None:
        value = self.stats.get("seconds")
        if isinstance(value, dict):
            value = value.get("total")
        if value is None and isinstance(self.stats.get("per_round"), list):
            value = sum(r.get("seconds") or 0 for r in self.stats["per_round"])
        return round(float(value), 3) if isinstance(value, (int, float)) else None

    @property
    def code(self) -> str | None:
        """The digest of the code the stage ran: from its manifest, or (a stage that merges
        resumable parts, like self-instruct's rounds) from the first part's manifest."""
        code = (self.manifest.get("run") or {}).get("code")
        for part in sorted(self.folder.glob("*/*/manifest.json")) if code is None else ():
            code = (read_manifest(part.parent) or {}).get("run", {}).get("code")
            if code:
                break
        return code

    def plots(self) -> list[Path]:
        return sorted(self.folder / rel for rel in self.manifest["files"] if rel.endswith(".png")
                      and "/" not in rel)


@dataclass
class RunFolder:
    """A verified pipeline run folder."""

    path: Path
    stages: dict[str, StageRun]
    config: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    judge_evals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str((self.config.get("run") or {}).get("name") or self.path.resolve().name)


def verify_stage(name: str, folder: Path) -> StageRun:
    """The stage's run folder if it is complete; InputError naming the stage and file if not."""
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        raise InputError(f"stage {name}: no run folder; the stage did not run or the run folder "
                         "is incomplete (re-run `tuneset run`)", file=folder)
    manifest = read_manifest(folder)
    if manifest is None and manifest_path.is_file():
        raise InputError(f"stage {name}: manifest.json is damaged (not a JSON manifest); re-run "
                         "`tuneset run` to recompute the stage", file=manifest_path)
    if manifest is None:
        raise InputError(f"stage {name}: no manifest.json, so the stage did not finish; re-run "
                         "`tuneset run`", file=manifest_path)
    for rel, info in manifest.get("files", {}).items():
        path = folder / rel
        if not path.is_file():
            raise InputError(f"stage {name}: {rel} is listed in manifest.json but missing; the run "
                             "folder is damaged (re-run `tuneset run`)", file=path)
        if sha256_file(path) != info.get("sha256"):
            raise InputError(f"stage {name}: {rel} does not match the sha256 in manifest.json; the "
                             "run folder is damaged (re-run `tuneset run`)", file=path)
    return StageRun(name, folder, manifest)


def read_run(path: str | Path) -> RunFolder:
    """Verify and read a run folder written by `tuneset run --out PATH`."""
    path = Path(path)
    if not path.is_dir():
        raise InputError("no such run folder", file=path)
    config: dict[str, Any] = {}
    text = None
    if (path / RUN_CONFIG).exists():
        text = (path / RUN_CONFIG).read_text(encoding="utf-8")
        try:
            config = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"malformed YAML: {exc}", file=path / RUN_CONFIG) from None
    configured = [s for s in STAGES if config.get(s) is not None]
    names = configured or [s for s in STAGES if (path / s).is_dir()]
    if not names:
        raise InputError(f"no stage run folders ({', '.join(STAGES)}); is this the --out folder "
                         "of `tuneset run`?", file=path)
    stages = {name: verify_stage(name, path / name) for name in names}
    for row in read_summary(path):
        if isinstance(row, dict) and row.get("stage") in stages:
            stages[row["stage"]].summary = row
    return RunFolder(path, stages, config, text, judge_evals=read_judge_evals(path))


def read_summary(path: Path) -> list[dict[str, Any]]:
    """The stage rows of `<run>/summary.json` (none when it is missing or unreadable)."""
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    return summary.get("stages", []) if isinstance(summary, dict) else []


def read_judge_evals(path: Path) -> list[dict[str, Any]]:
    """Judge evaluation reports saved inside the run folder (`tuneset judge-eval --out`)."""
    reports = []
    for file in sorted(path.rglob(JUDGE_EVAL)):
        try:
            report = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"judge evaluation report is not valid JSON ({exc})", file=file) from None
        if isinstance(report, dict) and "judge_metrics" in report:
            reports.append({**report, "path": str(file.relative_to(path))})
    return reports


def sft_sources(run: RunFolder, chosen: list[str] | None) -> list[StageRun]:
    """The stages whose kept records form the `sft` config: `chosen`, or the last instruction
    filter stage that ran (judge, else dedup), or every generator that ran."""
    if chosen:
        missing = [s for s in chosen if s not in run.stages]
        if missing:
            raise InputError(f"publish.sft_from names {', '.join(missing)}, which did not run "
                             f"(stages: {', '.join(run.stages)})", file=run.path)
        return [run.stages[s] for s in chosen]
    for name in ("judge", "dedup"):
        if name in run.stages:
            return [run.stages[name]]
    return [run.stages[s] for s in GENERATORS if s in run.stages]
