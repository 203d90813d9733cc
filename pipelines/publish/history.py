"""A dataset repository's version history: `versions.json`, version names, differences.

    {"versions": [{"version": "v1", "created": "2026-01-05T10:00:00Z", "message": "...",
                   "fingerprint": "<sha256>", "run": "demo", "tuneset": "0.1.0",
                   "rows": {"sft": {"train": 70, "test": 8}, ...},
                   "diff": {"sft": {"added": 78, "removed": 0}, ...}}, ...]}

The fingerprint covers what a reader of the dataset gets: every config's rows (canonical JSON,
in order), the resolved pipeline config and the card's metadata and description. Lineage (run
ids, timings) is left out, so re-running a cached pipeline publishes nothing new. A version's
difference to the one before counts records added and removed per config by content id.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pipelines.errors import InputError

VERSIONS_FILE = "versions.json"
_VERSION = re.compile(r"^v(\d+)$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def read_history(root: Path | None) -> list[dict[str, Any]]:
    """The versions recorded in `root/versions.json` (none when there is no such file)."""
    if root is None or not (root / VERSIONS_FILE).exists():
        return []
    path = root / VERSIONS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc}); the dataset repository's history is damaged",
                         file=path) from None
    versions = data.get("versions") if isinstance(data, dict) else None
    if not isinstance(versions, list):
        raise InputError("expected {\"versions\": [...]}", file=path)
    return versions


def fingerprint(data: dict[str, str], pipeline_text: str, card: dict[str, Any]) -> str:
    """sha256 over the data digests (per config/split), the pipeline config and card metadata."""
    payload = json.dumps({"data": data, "pipeline": pipeline_text, "card": card},
                         sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def next_version(history: list[dict[str, Any]], taken: set[str], requested: str | None) -> str:
    """`requested`, or v<N+1> after the highest vN in the history and tags.

    >>> next_version([{"version": "v1"}, {"version": "v2"}], {"v1", "v2"}, None)
    'v3'
    """
    used = {str(v.get("version")) for v in history} | set(taken)
    if requested is not None:
        if not _TAG.match(requested):
            raise InputError(f"--version {requested!r}: expected a tag name such as v3 or 2024-06 "
                             "(letters, digits, '.', '_', '-')")
        if requested in used:
            raise InputError(f"--version {requested}: that version already exists; versions are "
                             "immutable, pick a new name")
        return requested
    numbers = [int(m.group(1)) for m in map(_VERSION.match, used) if m]
    return f"v{max(numbers, default=0) + 1}"


def diff(old: dict[str, Counter], new: dict[str, Counter]) -> dict[str, dict[str, int]]:
    """Records added and removed per config, by content id (a repeated id counts each time).

    >>> diff({"sft": Counter("ab")}, {"sft": Counter("bc"), "rejected": Counter("xx")})
    {'rejected': {'added': 2, 'removed': 0}, 'sft': {'added': 1, 'removed': 1}}
    """
    empty: Counter = Counter()
    return {name: {"added": sum((new.get(name, empty) - old.get(name, empty)).values()),
                   "removed": sum((old.get(name, empty) - new.get(name, empty)).values())}
            for name in sorted(set(old) | set(new))}


def new_entry(version: str, *, message: str, fp: str, run: str, tuneset: str | None,
              rows: dict[str, dict[str, int]], changes: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {"version": version, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "message": message, "fingerprint": fp, "run": run, "tuneset": tuneset,
            "rows": rows, "diff": changes}


def total_rows(entry: dict[str, Any], config: str) -> int | None:
    splits = entry.get("rows", {}).get(config)
    return sum(splits.values()) if isinstance(splits, dict) else None
