"""The counts table the commands print: one row per stage, sized for an 80-column terminal.

               records per stage (folders runs/demo/<stage>/)
    stage           in         out           rejected
    ──────────────────────────────────────────────────
    templating      80 rows    412 examples  5 rows
      no_label                               3
      task_cap                               2

Rejection reasons stand on their own lines without the stage prefix; below the table come each
stage's balance per unit (`pipelines.counts`) and its warnings:

    templating  rows: 80 in = 75 rendered + 5 rejected
    templating  examples: 412 out from 75 rendered rows

Without a `root`, or when a stage's folder is not `<root>/<stage>/`, a folder column shows each
folder relative to `root`. Stage names, reasons and folders never wrap; the count columns wrap
at word boundaries.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from pipelines.counts import count_of


def _reasons(row: dict[str, Any]) -> list[tuple[str, int]]:
    by_reason = row.get("rejected_by_reason") or "-"
    if isinstance(by_reason, dict):
        items = list(by_reason.items())
    elif by_reason == "-":
        items = []
    else:
        items = [(k, int(v)) for k, v in (part.rsplit(": ", 1) for part in by_reason.split(", "))]
    prefix = row["stage"].split("_round_")[0] + "_"
    prefixes = (prefix, "template_") if row["stage"] == "templating" else (prefix,)
    out = []
    for reason, n in items:
        for p in prefixes:
            reason = reason.removeprefix(p)
        out.append((reason, n))
    return out


def _folder(out: str | None, root: Path | None) -> str:
    if not out:
        return "-"
    if root is None:
        return os.path.normpath(out)
    rel = os.path.relpath(os.path.normpath(out), os.path.normpath(root))
    return "./" if rel == "." else rel + "/"


def _count(n: Any, unit: str | None) -> str:
    return count_of(n, unit) if unit else str(n)


def counts_table(rows: Sequence[dict[str, Any]], root: str | Path | None = None) -> Group:
    """The table (and the balance and warning lines) for stage summaries `rows`; folders
    relative to `root` (the command's `--out`). A folder column appears only when some stage's
    folder is not `<root>/<stage>/` (or `root` itself, for a single stage)."""
    folders = [_folder(row.get("out"), root) for row in rows]
    expected = ["./"] if len(rows) == 1 else [f"{row['stage']}/" for row in rows]
    column = root is None or folders != expected
    title = "records per stage"
    if not column:
        where = os.path.normpath(root)
        title += f" (folder {where}/)" if len(rows) == 1 else f" (folders {where}/<stage>/)"
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("stage", no_wrap=True)
    table.add_column("in")
    table.add_column("out")
    table.add_column("rejected")
    if column:
        table.add_column("folder", no_wrap=True)
    notes: list[Text] = []
    for row, folder in zip(rows, folders):
        cells = [row["stage"], _count(row["in"], row.get("in_unit")),
                 _count(row["kept"], row.get("kept_unit")),
                 row.get("rejected_units") or _count(row["rejected"], None)]
        table.add_row(*cells, *([folder] if column else []))
        for reason, n in _reasons(row):
            table.add_row(Text(f"  {reason}", style="dim"), "", "", Text(str(n), style="dim"),
                          *([""] if column else []))
        for line in row.get("balance", []):
            notes.append(Text(f"{row['stage']}  {line}"))
        for warning in row.get("warnings", []):
            notes.append(Text.assemble(("warning: ", "yellow"), f"{row['stage']}: {warning}"))
    return Group(table, *notes)


def print_counts(console: Console, rows: Sequence[dict[str, Any]],
                 root: str | Path | None = None) -> None:
    """Print `counts_table` on `console`."""
    console.print(counts_table(rows, root))
