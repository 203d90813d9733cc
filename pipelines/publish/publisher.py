"""Publish a run folder to its targets: local git repositories first, then Hub repositories.

    >>> import tempfile
    >>> from pipelines.publish.config import parse_target
    >>> from tests.pipelines.publish.helpers import make_run
    >>> run = make_run(Path(tempfile.mkdtemp()) / "run")  # a small complete run folder
    >>> config = PublishConfig(license="apache-2.0")
    >>> report = publish_run(run, config, targets=[parse_target(str(run / "dataset"))])
    >>> report["new_version"], report["version"], report["targets"][0]["status"]
    (True, 'v1', 'published')

Order of work, so that nothing reaches a target before the whole version exists:

1. read and verify the run folder, build the configs, compute the fingerprint;
2. read the history of the first target (a local repository's HEAD, or the Hub's main);
   if its last version has the same fingerprint, that target is "unchanged";
3. build the version in a temporary folder (data, plots, lineage, versions, card);
4. local targets: refuse uncommitted edits (unless `force`), make the commit object;
5. Hub targets: one commit, then the tag;
6. local targets: move the branch, tag, check out.

A failure in 3-5 leaves every local repository as it was (a folder created for it is removed
again); the error names the target. The report says per target whether a version was made, so
a scheduler can tell "new version" from "unchanged" without parsing output.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from pipelines.errors import InputError, TunesetError
from pipelines.publish.build import Prepared, build_tree, prepare
from pipelines.publish.config import PublishConfig, Target
from pipelines.publish.history import next_version, read_history
from pipelines.publish.hub import HubRepo, hub_token
from pipelines.publish.layout import read_ids
from pipelines.publish.run import read_run
from pipelines.publish.versions import GitRepo, remove_created


def _latest(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    return history[-1] if history else None


class _Local:
    def __init__(self, target: Target, force: bool) -> None:
        self.target, self.repo, self.force = target, GitRepo(target.path), force
        self.repo.check_usable()
        self.existed = self.repo.is_repo()
        self.created = not target.path.exists()
        self.initialized = False
        self.commit: str | None = None
        self.old: str | None = None

    def history(self, scratch: Path) -> tuple[list[dict[str, Any]], set[str], Path | None]:
        if not self.existed:
            return [], set(), None
        prev = scratch / "prev"
        prev.mkdir()
        self.repo.export_head(prev)
        return read_history(prev), {t["name"] for t in self.repo.tags()}, prev

    def check_clean(self) -> None:
        if not self.existed or self.force:
            return
        dirty = self.repo.dirty_files()
        if dirty:
            shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
            raise InputError(f"uncommitted changes in the dataset repository: {shown}; commit or "
                             "discard them, or publish with --force to overwrite them",
                             file=self.target.path)

    def stage(self, tree: Path, message: str) -> bool:
        """Make the commit object; False when the tree equals HEAD's (nothing to commit)."""
        if not self.existed:
            self.repo.init()
            self.existed = self.initialized = True
        self.repo.ensure_identity()
        self.old = self.repo.head()
        self.commit, changed = self.repo.commit_tree(tree, message)
        return changed

    def undo(self) -> None:
        """Remove what this publish created: the folder, or the repository in an empty one."""
        if self.created:
            remove_created(self.target.path, True)
        elif self.initialized:
            remove_created(self.target.path / ".git", True)


def _hub(target: Target, config: PublishConfig, backoff: float) -> HubRepo:
    return HubRepo(target.repo_id, token=hub_token(), retries=config.retries, backoff=backoff)


def _hub_history(hub: HubRepo, scratch: Path) -> tuple[list[dict[str, Any]], set[str], str | None]:
    state = hub.state()
    if not state.exists or state.head is None:
        return [], {t["name"] for t in state.tags}, None
    found = hub.read_file(state.head, "versions.json", scratch / "hub-versions")
    history = read_history(found.parent) if found else []
    return history, {t["name"] for t in state.tags}, state.head


def publish_run(run_dir: str | Path, config: PublishConfig, *, targets: list[Target],
                pipeline_text: str | None = None, version: str | None = None,
                message: str | None = None, force: bool = False,
                backoff: float = 1.0) -> dict[str, Any]:
    """Publish `run_dir` to `targets` (locals first, then the Hub). Returns
    {"run", "version", "new_version", "fingerprint", "targets": [{"target", "status"
    ("published" | "unchanged"), "version", "commit", "diff", "rows", "pr_url"}]}."""
    if not targets:
        raise InputError("no target: name a folder or hf://datasets/ORG/NAME with --repo")
    run = read_run(run_dir)
    text = pipeline_text if pipeline_text is not None else run.config_text
    if text is None:
        raise InputError("no pipeline.yaml in the run folder; pass the pipeline config with "
                         "--config", file=run.path)
    prepared = prepare(run, config, text)
    ordered = [t for t in targets if t.kind == "local"] + [t for t in targets if t.kind == "hub"]
    with tempfile.TemporaryDirectory(prefix="tuneset-publish-") as tmp:
        return _publish(prepared, ordered, Path(tmp), version=version, message=message,
                        force=force, backoff=backoff)


def _publish(prepared: Prepared, targets: list[Target], scratch: Path, *, version: str | None,
             message: str | None, force: bool, backoff: float) -> dict[str, Any]:
    locals_ = [_Local(t, force) for t in targets if t.kind == "local"]
    hubs = [(t, _hub(t, prepared.config, backoff)) for t in targets if t.kind == "hub"]
    for local in locals_:
        local.check_clean()
    if locals_:
        history, tags, prev = locals_[0].history(scratch)
        hub_head = None
    else:
        history, tags, hub_head = _hub_history(hubs[0][1], scratch)
        prev = scratch / "prev"
        if hub_head is not None and history:
            hubs[0][1].download(hub_head, prev)
    latest = _latest(history)
    tree = scratch / "tree"
    if latest is not None and latest.get("fingerprint") == prepared.fingerprint:
        name, entry, fresh = latest["version"], latest, False
        tree.mkdir()
        if locals_:
            locals_[0].repo.export_head(tree, paths=None)
        elif len(hubs) > 1:
            hubs[0][1].download(hub_head, tree, everything=True)
    else:
        name = next_version(history, tags, version)
        tree.mkdir()
        entry = build_tree(prepared, tree, history=history,
                           previous_ids=read_ids(prev) if prev is not None and prev.exists() else {},
                           version=name, message=message, targets=targets)
        fresh = True
    try:
        results = _apply(prepared, tree, name, entry, fresh, locals_, hubs)
    except BaseException:
        for local in locals_:
            local.undo()
        raise
    return {"run": prepared.run.name, "version": name, "fingerprint": prepared.fingerprint,
            "new_version": any(r["status"] == "published" for r in results), "targets": results}


def _result(target: Target, status: str, entry: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"target": str(target), "status": status, "version": entry["version"],
            "rows": entry.get("rows", {}), "diff": entry.get("diff", {}), **extra}


def _apply(prepared: Prepared, tree: Path, name: str, entry: dict[str, Any], fresh: bool,
           locals_: list[_Local], hubs: list[tuple[Target, HubRepo]]) -> list[dict[str, Any]]:
    """Stage local commits, push to the Hub, then move local branches."""
    staged: list[_Local] = []
    results: dict[str, dict[str, Any]] = {}
    for local in locals_:
        if not fresh and local is locals_[0]:
            results[str(local.target)] = _result(local.target, "unchanged", entry,
                                                 commit=local.repo.head())
            continue
        if local.stage(tree, entry["message"]):
            if name in {t["name"] for t in local.repo.tags()}:
                raise TunesetError(f"{local.target}: the repository already has a tag {name} for "
                                   "other content; publish with --version NAME to choose a new "
                                   "version name")
            staged.append(local)
        else:
            results[str(local.target)] = _result(local.target, "unchanged", entry,
                                                 commit=local.old)
    for target, hub in hubs:
        results[str(target)] = _push(hub, target, tree, name, entry, prepared.config)
    for local in staged:
        local.repo.advance(local.commit, local.old, name, entry["message"])
        results[str(local.target)] = _result(local.target, "published", entry,
                                             commit=local.commit)
    order = [str(t.target) for t in locals_] + [str(t) for t, _ in hubs]
    return [results[key] for key in order]


def _push(hub: HubRepo, target: Target, tree: Path, name: str, entry: dict[str, Any],
          config: PublishConfig) -> dict[str, Any]:
    state = hub.state()
    if state.head is not None:
        with tempfile.TemporaryDirectory(prefix="tuneset-hub-") as tmp:
            found = hub.read_file(state.head, "versions.json", Path(tmp))
            remote = _latest(read_history(found.parent)) if found else None
        if remote is not None and remote.get("fingerprint") == entry["fingerprint"]:
            if remote["version"] not in {t["name"] for t in state.tags}:
                hub.tag(remote["version"], state.head, remote.get("message") or remote["version"])
            return _result(target, "unchanged", remote, commit=state.head)
    if name in {t["name"] for t in state.tags}:
        raise TunesetError(f"{target}: the Hub repository already has a tag {name} for other "
                           "content; publish with --version NAME to choose a new version name")
    commit, pr_url = hub.push(tree, message=entry["message"],
                              description=f"Published by tuneset from run `{entry.get('run')}`.",
                              private=config.private, create_pr=config.create_pr,
                              parent=state.head)
    hub.tag(name, commit, entry["message"])
    return _result(target, "published", entry, commit=commit, pr_url=pr_url)


def list_versions(target: Target) -> list[dict[str, Any]]:
    """Every version a target holds (oldest first): version, created, rows, diff, message, plus
    the commit its tag points at."""
    with tempfile.TemporaryDirectory(prefix="tuneset-list-") as tmp:
        if target.kind == "local":
            repo = GitRepo(target.path)
            if not repo.is_repo():
                raise InputError("not a dataset repository (no git repository here)",
                                 file=target.path)
            repo.export_head(Path(tmp), paths=("versions.json",))
            history, tags = read_history(Path(tmp)), {t["name"]: t["commit"] for t in repo.tags()}
        else:
            hub = HubRepo(target.repo_id, token=hub_token())
            history, _, head = _hub_history(hub, Path(tmp))
            tags = {t["name"]: t["commit"] for t in hub.state().tags}
    return [{**entry, "commit": tags.get(entry["version"])} for entry in history]

