"""What `tuneset run` says before each stage: which stage, how much work, and a rough time.

The time is the stage's work (its units, counted from the config and the counts of the stages
before it) times the cost per unit measured on the demo (`DEMO`): the embedded model on the CPU.
It is a guide for the demo's scale and machine, not a promise: the demo was measured on two idle
CPU cores, so a busy machine is slower (several times: see docs/models.md on threads); another
model, machine or thread count changes the cost per unit, and self-instruct stops early once it
has its target.

    >>> stage_line(4, 5, "judge", 96)
    'stage 4/5: judge, 96 records, about 1 min 54 s (1.2 s per record on the demo)'
    >>> stage_line(1, 5, "templating", None)
    'stage 1/5: templating (the demo: 80 rows in under 1 s)'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoCost:
    """One stage of the demo run: its units of work, what a unit is, and the seconds it took."""

    units: int
    unit: str
    seconds: float

    @property
    def per_unit(self) -> float:
        return self.seconds / max(self.units, 1)


DEMO: dict[str, DemoCost] = {
    # `make demo` from a fresh clone (threads: auto) on 2 idle CPU cores (6 min 56 s wall):
    # each stage's seconds from the stage line before it to its own end, model loading included
    "templating": DemoCost(80, "rows", 0.2),
    "self_instruct": DemoCost(8, "bootstrap requests", 145.3),
    "dedup": DemoCost(84, "records", 0.8),
    "judge": DemoCost(83, "records", 98.7),
    "preferences": DemoCost(90, "answers", 157.1),
    "publish": DemoCost(1, "run", 0.5),
}
"""The demo's measured costs per stage."""
STARTUP_SECONDS = 13.0
"""The demo's start before its first stage: imports and Prefect's temporary server."""


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under 1 s"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes < 10 else f"{minutes + (rest >= 30)} min"


def _per(seconds: float) -> str:
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"


def stage_line(index: int, total: int, stage: str, units: int | None) -> str:
    """The line `tuneset run` logs as stage `index` of `total` starts, with `units` of work
    (None: not known before the stage reads its inputs)."""
    demo = DEMO.get(stage)
    head = f"stage {index}/{total}: {stage}"
    if demo is None:
        return head
    if units is None:
        return f"{head} (the demo: {demo.units} {demo.unit} in {_duration(demo.seconds)})"
    unit = demo.unit if units != 1 else demo.unit.removesuffix("s")
    one = demo.unit.removesuffix("s")
    estimate = _duration(units * demo.per_unit)
    estimate = estimate if estimate.startswith("under") else f"about {estimate}"
    return (f"{head}, {units} {unit}, {estimate} "
            f"({_per(demo.per_unit)} per {one} on the demo)")


def demo_total() -> str:
    """The demo's own measured run time: its start and every stage."""
    return _duration(STARTUP_SECONDS + sum(c.seconds for c in DEMO.values()))


def stage_units(stage: str, config: Any, upstream: Sequence[dict[str, Any]]) -> int | None:
    """A stage's units of work before it runs: from its config (self-instruct's bootstrap
    requests, at most rounds x requests) or the kept counts of the stages it reads (`upstream`
    summaries; none read: unknown). Templating counts its rows only once it reads them."""
    if stage == "self_instruct":
        return config.max_rounds * config.requests_per_round
    if stage == "publish":
        return 1
    if stage == "templating" or not upstream:
        return None
    records = sum(int(summary["kept"]) for summary in upstream)
    return records * config.k if stage == "preferences" else records
