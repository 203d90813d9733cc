"""Scripted models whose answers depend only on the conversation (never on call order), so a
pipeline run on Ray workers can be compared with a local run row for row. The test pickles this
module by value to the workers."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pipelines.records import content_id
from tests.fakes import ScriptedGenerator
from tests.pipelines.self_instruct.helpers import NEW_TASKS


def _pick(conv, k: int, items: list[str], count: int) -> list[str]:
    start = int(content_id(conv, k), 16)
    return [items[(start + i * 5) % len(items)] for i in range(count)]


def answer(conv, params, k):
    """Bootstrap asks get three tasks chosen by the prompt's content; classification asks Yes
    or No; instance asks a well-formed example; anything else an answer of k + 1 words."""
    prompt = conv[-1]["content"]
    system = conv[0]["content"] if conv[0]["role"] == "system" else ""
    if prompt.startswith("Below is a numbered list") or prompt.startswith("Your job is to write"):
        tasks = _pick(conv, k, NEW_TASKS, 3)
        return "Sure:\n" + "\n".join(f"{9 + i}. {t}" for i, t in enumerate(tasks))
    task = prompt.removeprefix("Task: ").strip()
    if system.startswith("You decide whether a task"):
        return "Yes" if "positive or negative" in task else "No"
    if system.startswith("For each classification task"):
        return "Label: Positive\nInput: A lovely day.\nLabel: Negative\nInput: A dull film."
    if system.startswith("Come up with examples") or "Example 1" in system:
        return f"Example 1\nInput: input for {task[:12]}\nOutput: output\n"
    return f"answer {content_id(conv)[:4]} " + "word " * k


def scores(conv, prefix, candidates):
    """Log-probs from the conversation's content: some records rate high, some low."""
    level = int(content_id(conv, prefix), 16) % 5
    return {c: -abs(float(c) - level) if c.strip().isdigit() else -3.0 for c in candidates}


class ScriptedModel(ScriptedGenerator):
    def __init__(self, kill_marker: str | None = None) -> None:
        super().__init__(answer, scores=self._scores, name="fake:scripted")
        self.kill_marker = kill_marker

    def _scores(self, conv, prefix, candidates):
        """With `kill_marker`: the first call on any worker kills its own process (SIGKILL),
        once per marker file, as a crashed worker would end."""
        if self.kill_marker is not None and not Path(self.kill_marker).exists():
            Path(self.kill_marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return scores(conv, prefix, candidates)
