"""The two generated corpora of `benchmarks/dedup.py`, and their reference (true) pairs.

"instructions": N instruction-like texts of 20-200 words (an opening such as "Explain how"
followed by words drawn from a 20,000-word synthetic vocabulary), of which a fifth are planted
near-copies of earlier texts with 1-10% of their words edited (substituted, deleted or
inserted); an original may have several copies.

"passages": the shape of real instruction mixtures built from QA and summarization sets.
Passages of 100-600 words, a fifth of them near-copies of an earlier passage (1-10% of words
edited); each passage is rendered through 5-30 of 40 templates, each rendering with its own
question of 4-12 words, so one passage appears in many prompts with different questions:

    "Read the passage below and answer the question.\\n\\n{passage}\\n\\nQuestion: {question}"

Texts are capitalised and end with a full stop, so normalization has work to do.

Reference pairs: every pair whose exact Jaccard over word 5-gram shingles (of the normalized
text, as Python sets of strings) is at least the threshold, computed for every pair inside a
family (texts made from one original text or passage and its copies) and for every pair some
method reported. Texts of different families share at most a template and a short opening, so
no other pair can reach the threshold: this is the whole set, not a sample of it.
"""

from __future__ import annotations

import numpy as np

OPENINGS = ["Write a", "Explain how", "Summarize the", "Describe the", "List three", "Give an",
            "Translate the", "Classify the", "Generate a", "Rewrite the", "What is", "How do",
            "Compose a short", "Create a list of", "Suggest a", "Compare the"]
LEADS = ["Read the passage below and answer the question.", "Answer based on the text.",
         "Use the article to respond.", "Given the following context, reply to the query.",
         "Here is a document.", "Consider this paragraph.", "Passage:", "Context:",
         "Summarize if needed, then answer.", "Read carefully."]
LAYOUTS = ["{lead}\n\n{passage}\n\nQuestion: {question}", "{lead} {question}\n\n{passage}",
           "{passage}\n\n{lead}\nQ: {question}\nA:", "Question: {question}\n{lead}\n{passage}"]
TEMPLATES = [layout.replace("{lead}", lead) for layout in LAYOUTS for lead in LEADS]  # 40


def _vocab(rng: np.random.Generator, size: int = 20_000) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return np.array(["".join(rng.choice(letters, rng.integers(3, 10))) for _ in range(size)])


def _edit(doc: list[str], rng: np.random.Generator, vocab: np.ndarray, floor: int) -> list[str]:
    """A copy with 1-10% of its words substituted, deleted or inserted."""
    doc = list(doc)
    for _ in range(max(1, round(rng.uniform(0.01, 0.10) * len(doc)))):
        op, at = rng.integers(0, 3), int(rng.integers(0, len(doc)))
        if op == 0:
            doc[at] = str(vocab[rng.integers(0, len(vocab))])
        elif op == 1 and len(doc) > floor:
            del doc[at]
        else:
            doc.insert(at, str(vocab[rng.integers(0, len(vocab))]))
    return doc


def instruction_corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(texts, family): family[i] = index of the original text i copies (itself for originals)."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(rng)
    family = np.arange(n)
    words: list[list[str]] = []
    is_copy = np.zeros(n, bool)
    is_copy[rng.choice(np.arange(1, n), n // 5, replace=False)] = True
    for i in range(n):
        if is_copy[i]:
            source = int(rng.integers(0, i))
            while is_copy[source] and rng.random() < 0.5:  # copies of copies now and then
                source = int(family[source])
            family[i] = family[source]
            doc = _edit(words[source], rng, vocab, floor=20)
        else:
            opening = OPENINGS[rng.integers(0, len(OPENINGS))].lower().split()
            doc = opening + list(vocab[rng.integers(0, len(vocab), rng.integers(20, 201) - len(opening))])
        words.append(doc)
    return [" ".join(d).capitalize() + "." for d in words], family


def passage_corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """About n prompts (see the module docstring) and their family (the original passage)."""
    rng = np.random.default_rng(seed)
    vocab = _vocab(rng)
    passages: list[list[str]] = []
    origin: list[int] = []
    texts: list[str] = []
    family: list[int] = []
    while len(texts) < n:
        p = len(passages)
        if p and rng.random() < 0.2:
            source = int(rng.integers(0, p))
            passages.append(_edit(passages[source], rng, vocab, floor=100))
            origin.append(origin[source])
        else:
            passages.append(list(vocab[rng.integers(0, len(vocab), rng.integers(100, 601))]))
            origin.append(p)
        passage = " ".join(passages[-1]).capitalize() + "."
        for t in rng.choice(len(TEMPLATES), int(rng.integers(5, 31)), replace=False):
            question = " ".join(vocab[rng.integers(0, len(vocab), rng.integers(4, 13))])
            texts.append(TEMPLATES[t].format(passage=passage, question=question.capitalize() + "?"))
            family.append(origin[-1])
    return texts[:n], np.array(family[:n])


def shingles(text: str, ngram: int = 5) -> set[str]:
    """Word n-grams of the text as the stage normalizes it (lowercase, no punctuation)."""
    words = "".join(c for c in text.lower() if c.isalnum() or c.isspace()).split()
    if len(words) < ngram:
        return {" ".join(words)}
    return {" ".join(words[i:i + ngram]) for i in range(len(words) - ngram + 1)}


def reference_pairs(texts: list[str], family: np.ndarray, reported: set[tuple[int, int]],
                    threshold: float) -> set[tuple[int, int]]:
    """Every pair at or above the threshold (see the module docstring)."""
    candidates = set(reported)
    members: dict[int, list[int]] = {}
    for i, f in enumerate(family.tolist()):
        members.setdefault(f, []).append(i)
    for group in members.values():
        candidates.update((a, b) for k, a in enumerate(group) for b in group[k + 1:])
    cache: dict[int, set[str]] = {}
    truth = set()
    for a, b in candidates:
        sa = cache.setdefault(a, shingles(texts[a]))
        sb = cache.setdefault(b, shingles(texts[b]))
        if len(sa & sb) / len(sa | sb) >= threshold:
            truth.add((a, b))
    return truth
