"""The Self-Instruct filters (ALGORITHMS.md §2), each with its own rejection reason.

Instruction filters, in the paper's order — the first that fires names the reason:

    self_instruct_truncated            the last item of a response cut off by the length limit
    self_instruct_too_short            <= min_words words (default 3)
    self_instruct_too_long             > max_words words (default 150)
    self_instruct_blacklisted_word     contains a blacklisted word (image, file, map, go to, ...)
    self_instruct_write_a_program      starts with "Write a program"
    self_instruct_starts_with_punctuation
    self_instruct_non_ascii_start
    self_instruct_rouge_too_similar    ROUGE-L F1 > 0.7 with a seed or an accepted instruction

The ROUGE-L check needs the pool and runs in the round loop; `check_instruction` covers the rest.

Instance filters, per task: drop a truncated last instance, an instance whose input equals its
output, whose output is empty, or with a field ending in ':'; drop all of a task's instances when
two share an input but disagree on the output; drop exact duplicates; keep at most N.

    >>> check_instruction("Draw a map of Europe.", blacklist=["map"], min_words=3, max_words=150,
    ...                   bad_starts=["Write a program"])
    ('self_instruct_blacklisted_word', "contains 'map'")
"""

from __future__ import annotations

import re
import string

from pipelines.self_instruct.parse import Instance

P = "self_instruct_"


def _contains_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text, flags=re.IGNORECASE) is not None


def check_instruction(text: str, *, blacklist: list[str], min_words: int, max_words: int,
                      bad_starts: list[str]) -> tuple[str, str] | None:
    """(reason, detail) for the first filter the instruction fails, or None if it passes."""
    words = len(text.split())
    if words <= min_words:
        return f"{P}too_short", f"{words} words (needs more than {min_words})"
    if words > max_words:
        return f"{P}too_long", f"{words} words (at most {max_words})"
    hit = next((w for w in blacklist if _contains_word(text, w)), None)
    if hit:
        return f"{P}blacklisted_word", f"contains {hit!r}"
    start = next((s for s in bad_starts if text.lower().startswith(s.lower())), None)
    if start:
        return f"{P}write_a_program", f"starts with {start!r}"
    if text[0] in string.punctuation:
        return f"{P}starts_with_punctuation", f"starts with {text[0]!r}"
    if not text[0].isascii():
        return f"{P}non_ascii_start", f"starts with {text[0]!r}"
    return None


def filter_instances(instances: list[Instance], *, truncated: bool,
                     max_instances: int) -> tuple[list[Instance], list[tuple[Instance, str, str]]]:
    """(kept, dropped as (instance, reason, detail)) following the instance rules above."""
    dropped: list[tuple[Instance, str, str]] = []
    candidates = list(instances)
    if truncated and candidates:
        dropped.append((candidates.pop(), f"{P}instance_truncated", "cut off by the length limit"))
    kept: list[Instance] = []
    for inst in candidates:
        if not inst.output.strip():
            dropped.append((inst, f"{P}instance_empty_output", ""))
        elif inst.input.strip() == inst.output.strip():
            dropped.append((inst, f"{P}instance_input_equals_output", ""))
        elif inst.input.rstrip().endswith(":") or inst.output.rstrip().endswith(":"):
            dropped.append((inst, f"{P}instance_ends_with_colon", "a field ends with ':'"))
        else:
            kept.append(inst)
    outputs: dict[str, set[str]] = {}
    for inst in kept:
        outputs.setdefault(inst.input.strip(), set()).add(inst.output.strip())
    conflicts = {i for i, outs in outputs.items() if len(outs) > 1}
    if conflicts:
        dropped += [(inst, f"{P}instance_conflicting_outputs",
                     "instances share an input but disagree on the output") for inst in kept]
        return [], dropped
    unique: list[Instance] = []
    seen: set[tuple[str, str]] = set()
    for inst in kept:
        key = (inst.input.strip(), inst.output.strip())
        if key in seen:
            dropped.append((inst, f"{P}instance_duplicate", ""))
        elif len(unique) >= max_instances:
            dropped.append((inst, f"{P}instance_over_limit", f"keeps at most {max_instances}"))
        else:
            seen.add(key)
            unique.append(inst)
    return unique, dropped
