"""Tiny training data in the pipeline's own record format, and parameter snapshots."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from pipelines.io import write_run
from pipelines.records import (
    InstructionMeta,
    InstructionRecord,
    Message,
    PreferenceMeta,
    PreferenceRecord,
    make_instruction,
    make_preference,
    to_dataset,
)

SYSTEM = Message(role="system", content="Be brief.")  # short: spares the template's default
USER = lambda text: Message(role="user", content=text)  # noqa: E731
ASSISTANT = lambda text: Message(role="assistant", content=text)  # noqa: E731


def instruction_records(n: int = 8) -> list[InstructionRecord]:
    meta = InstructionMeta(source="test")
    return [make_instruction(f"What is {i} plus {i}?", "", f"{2 * i}.", meta=meta,
                             messages=[SYSTEM, USER(f"What is {i} plus {i}?"), ASSISTANT(f"{2 * i}.")])
            for i in range(n)]


def preference_records(n: int = 8) -> list[PreferenceRecord]:
    meta = PreferenceMeta(source="test", judge="rule")
    pairs = []
    for i in range(n):
        right, wrong = ("yes", "no") if i % 2 == 0 else ("no", "yes")
        pairs.append(make_preference([SYSTEM, USER(f"Is {i} an even number?")], [ASSISTANT(right)],
                                     [ASSISTANT(wrong)], meta=meta, score_chosen=9.0,
                                     score_rejected=2.0))
    return pairs


def write_instruction_run(folder: Path, n: int = 8) -> Path:
    records = to_dataset(instruction_records(n), InstructionRecord)
    write_run(folder, stage="templating", kept=records, rejected=records.select([]), stats={})
    return folder


def write_preference_run(folder: Path, n: int = 8) -> Path:
    records = to_dataset(preference_records(n), PreferenceRecord)
    write_run(folder, stage="pairs", kept=records, rejected=records.select([]), stats={})
    return folder


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def trainable(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def unchanged(before: dict[str, torch.Tensor], model) -> list[str]:
    after = dict(model.named_parameters())
    return [n for n, p in before.items() if torch.equal(p, after[n].detach().to(p.device))]


def logged(log_history: list[dict], key: str = "loss") -> list[float]:
    return [h[key] for h in log_history if key in h]


def fell(values: list[float], k: int = 2) -> bool:
    """Mean of the last k values below the mean of the first k."""
    return len(values) >= 2 * k and sum(values[-k:]) / k < sum(values[:k]) / k
