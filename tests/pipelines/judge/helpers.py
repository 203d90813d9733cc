"""Shared literal data and small fakes for the judge tests."""

from __future__ import annotations

import math
import re
from pathlib import Path

from pipelines.io import read_records

YES = "Yes, the premise entails the hypothesis."
NO = "No, the premise does not entail the hypothesis."


def instruction_rows(*outputs: str) -> list[dict]:
    return [{"instruction": f"Question {i}: name a colour.", "input": "", "output": out}
            for i, out in enumerate(outputs)]


def score_logprobs(probabilities: list[float]):
    """A `scores` function for ScriptedGenerator: log p of "0".."5" (any space in front)."""
    def scores(conversation, prefix, candidates):
        return {c: math.log(probabilities[int(c.strip())]) if probabilities[int(c.strip())] else
                -math.inf for c in candidates}
    return scores


def shown_first(prompt: str) -> str:
    """The text of response A in a pairwise prompt."""
    match = re.search(r"<<<RESPONSE A (\w+)>>>\n(.*?)\n<<<END RESPONSE A \1>>>", prompt, re.S)
    assert match, prompt
    return match.group(2)


def rte_preferences(shared_data: Path, count: int = 16) -> list[dict]:
    """A labelled preference set from GLUE RTE dev: chosen = the right yes/no answer, rejected =
    the wrong one; half entailment, half not (the "no" answer is the longer one)."""
    rows = read_records(shared_data / "glue_rte" / "dev.tsv").to_list()
    picked = ([r for r in rows if r["label"] == "entailment"][:count // 2]
              + [r for r in rows if r["label"] == "not_entailment"][:count - count // 2])
    out = []
    for r in picked:
        prompt = (f"Premise: {r['sentence1']}\nHypothesis: {r['sentence2']}\n"
                  "Does the premise entail the hypothesis? Answer yes or no.")
        chosen, rejected = (YES, NO) if r["label"] == "entailment" else (NO, YES)
        out.append({"prompt": [{"role": "user", "content": prompt}],
                    "chosen": [{"role": "assistant", "content": chosen}],
                    "rejected": [{"role": "assistant", "content": rejected}]})
    return out
