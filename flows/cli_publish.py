"""`tuneset publish`: a run folder becomes a versioned dataset repository (flows/publish.py).

    tuneset publish RUN_DIR [--repo TARGET ...] [--version V] [--message M] [--force]
                            [--private] [--create-pr] [--config PIPELINE_YAML]
    tuneset publish --list TARGET

Registered on the `tuneset` app by flows/cli.py; the shared helpers (`_run`, `_fail`, the
consoles) are imported from there when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def print_publish(report: dict[str, Any]) -> None:
    """One line per target: published vN (changes) or unchanged."""
    from flows.cli import console

    for result in report["targets"]:
        changes = ", ".join(f"{name} +{d['added']} -{d['removed']}"
                            for name, d in result.get("diff", {}).items())
        if result["status"] == "published":
            line = f"{result['target']}: published {result['version']}" + \
                (f" ({changes})" if changes else "")
        else:
            line = f"{result['target']}: unchanged (latest: {result['version']})"
        console.print(line, soft_wrap=True, highlight=False)
        if result.get("pr_url"):
            console.print(f"  pull request: {result['pr_url']}", soft_wrap=True)


def publish(
    run_dir: Annotated[Path | None, typer.Argument(help="the --out folder of `tuneset run`")] = None,
    repo: Annotated[list[str] | None, typer.Option(
        "--repo", help="target: a local folder (a git repository) or hf://datasets/ORG/NAME; "
                       "repeatable (local first, then the Hub); default: the config's "
                       "publish.repo, else RUN_DIR/dataset")] = None,
    version: Annotated[str | None, typer.Option(help="version tag (default: v1, v2, ...)")] = None,
    message: Annotated[str | None, typer.Option(help="commit message")] = None,
    force: Annotated[bool, typer.Option(help="overwrite uncommitted edits in a local "
                                             "target")] = False,
    private: Annotated[bool, typer.Option(help="Hub: create the repository private")] = False,
    create_pr: Annotated[bool, typer.Option(help="Hub: open a pull request instead of "
                                                 "committing to main")] = False,
    config: Annotated[Path | None, typer.Option(
        help="pipeline config whose `publish:` section to use (default: RUN_DIR/pipeline.yaml)")
    ] = None,
    list_target: Annotated[str | None, typer.Option(
        "--list", help="list the versions of TARGET and exit")] = None,
) -> None:
    """Publish a run folder as a versioned dataset repository (card, lineage, plots)."""
    from flows.cli import _fail, _run
    from pipelines.publish import parse_target

    if list_target is not None:
        _list_versions(_run(lambda: parse_target(list_target)))
        return
    if run_dir is None:
        _fail("name the run folder to publish (or use --list TARGET)")
    publish_config, pipeline_text = _run(lambda: _publish_config(run_dir, config))
    if private or create_pr:
        publish_config = publish_config.model_copy(update={
            "private": private or publish_config.private,
            "create_pr": create_pr or publish_config.create_pr})
    targets = _run(lambda: [str(parse_target(t)) for t in repo] if repo else
                   [str(t) for t in publish_config.targets(default=run_dir / "dataset")])
    from flows.publish import publish_flow

    report = _run(lambda: publish_flow(str(run_dir), publish_config, targets,
                                       pipeline_text=pipeline_text, version=version,
                                       message=message, force=force))
    print_publish(report)


def _publish_config(run_dir: Path, config: Path | None):
    """The publish section (from --config, else RUN_DIR/pipeline.yaml) and, when the run folder
    has no pipeline.yaml, the resolved --config to publish as the dataset's pipeline.yaml."""
    from pipelines.config import load_config, resolved_yaml
    from pipelines.errors import ConfigError, InputError
    from pipelines.publish.config import load_publish_config

    if not run_dir.is_dir():
        raise InputError("no such run folder", file=run_dir)
    own = run_dir / "pipeline.yaml"
    if config is None and not own.exists():
        raise ConfigError([f"publish: {run_dir} has no pipeline.yaml (runs before tuneset wrote "
                           "it); pass the pipeline config with --config"])
    loaded = load_publish_config(config or own)
    return loaded, (None if own.exists() else resolved_yaml(load_config(config)))


def _list_versions(target) -> None:
    from rich.table import Table

    from flows.cli import _run, console
    from pipelines.publish import list_versions

    versions = _run(lambda: list_versions(target))
    if not versions:
        console.print(f"{target}: no versions yet", soft_wrap=True)
        return
    table = Table(title=f"versions of {target}")
    for col in ("version", "date", "commit", "records", "change", "message"):
        table.add_column(col, overflow="fold")
    for entry in reversed(versions):
        rows = ", ".join(f"{name} {sum(splits.values())}" for name, splits in entry["rows"].items())
        change = ", ".join(f"{name} +{d['added']} -{d['removed']}"
                           for name, d in entry.get("diff", {}).items())
        table.add_row(entry["version"], str(entry.get("created", ""))[:19],
                      (entry.get("commit") or "-")[:12], rows, change or "-",
                      entry.get("message", ""))
    console.print(table)
