"""Score each prompt's K responses: a rating judge, a pairwise judge, or a reward model.

Every scorer answers `score(conversations, responses) -> (scores, details)`: one score per
response (None when it could not be scored, e.g. the judge's output did not parse) and one dict
per prompt for the records' lineage.

- rating: the judge rates each response 0-5 on its aspect (`parse` or `logprob` mode);
- pairwise: every pair of responses is judged in both orders (a win only when both orders
  agree); a response's score is its share of wins over the pairs it was in (ties count half),
  and every verdict is kept;
- reward_model: one scalar per response from a sequence-classification checkpoint
  (`reward_model.py`).

A stage gets its scorer through `build_scorer(config, model)`: `model` is a ready scorer, or a
Generator (or loader) for the judge. Loading a reward model is the caller's work
(`scorer_model`, which flows call).

    >>> from tests.fakes import ScriptedGenerator
    >>> judge = ScriptedGenerator(lambda conv, params, k: "Score: 4")
    >>> scorer = build_scorer(ScorerConfig(judge={"mode": "parse"}), judge)
    >>> scorer.score([[{"role": "user", "content": "q"}]], [["an answer"]])[0]
    [[4.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any, Protocol

from pipelines.judge.config import JudgeConfig
from pipelines.judge.examples import example_of
from pipelines.judge.pairwise import Pair, judge_pairs
from pipelines.judge.rating import rate
from pipelines.models import Generator, ModelConfig, ModelSource, resolve_model
from pipelines.preferences.config import ScorerConfig

Conversation = list[dict[str, str]]


class Scorer(Protocol):
    name: str
    kind: str
    mode: str | None

    def score(self, conversations: list[Conversation], responses: list[list[str]]
              ) -> tuple[list[list[float | None]], list[dict[str, Any]]]: ...


def _example(conversation: Conversation, response: str):
    return example_of({"messages": conversation + [{"role": "assistant", "content": response}]})


class JudgeScorer:
    """A scorer that asks a judge model (`kind` and `score` come from the subclass)."""

    kind: str

    def __init__(self, model: Generator, config: JudgeConfig) -> None:
        self.model, self.config = model, config
        self.name, self.mode = model.name, config.mode


class RatingScorer(JudgeScorer):
    kind = "rating"

    def score(self, conversations, responses):
        examples = [_example(c, r) for c, texts in zip(conversations, responses) for r in texts]
        ratings = iter(rate(examples, self.model, aspect=self.config.aspect, mode=self.config.mode,
                            max_new_tokens=self.config.max_new_tokens))
        scores, details = [], []
        for texts in responses:
            mine = [next(ratings) for _ in texts]
            scores.append([r.score if r.ok else None for r in mine])
            details.append({"errors": [str(r.error) if r.error else None for r in mine]})
        return scores, details


class PairwiseScorer(JudgeScorer):
    kind = "pairwise"

    def score(self, conversations, responses):
        index, pairs = [], []
        for i, (conv, texts) in enumerate(zip(conversations, responses)):
            base = _example(conv, "")
            for a, b in combinations(range(len(texts)), 2):
                index.append((i, a, b))
                pairs.append(Pair(base.instruction, base.input, texts[a], texts[b]))
        judgements = judge_pairs(pairs, self.model, aspect=self.config.aspect, mode=self.config.mode,
                                 max_new_tokens=self.config.max_new_tokens)
        wins = [[0.0] * len(t) for t in responses]
        seen = [[0] * len(t) for t in responses]
        details: list[dict[str, Any]] = [{"pairs": []} for _ in responses]
        for (i, a, b), judgement in zip(index, judgements):
            winner = judgement.winner
            details[i]["pairs"].append({"x": a, "y": b, **judgement.verdicts()})
            if winner is None:
                continue
            seen[i][a] += 1
            seen[i][b] += 1
            points = {"x": (1.0, 0.0), "y": (0.0, 1.0), "tie": (0.5, 0.5)}[winner]
            wins[i][a] += points[0]
            wins[i][b] += points[1]
        scores = [[w / n if n else None for w, n in zip(ws, ns)] for ws, ns in zip(wins, seen)]
        return scores, details


def build_scorer(config: ScorerConfig, model: Scorer | ModelSource | None) -> Scorer:
    """The configured scorer: `model` itself when it is a scorer, else the judge scorer of
    `config.kind` on `model` (a Generator, or a loader for `config.judge.model`)."""
    if hasattr(model, "score"):
        return model
    if config.kind == "reward_model":
        raise ValueError("scorer.kind reward_model: pass model= the reward model scorer "
                         "(pipelines.preferences.scorers.scorer_model loads it)")
    cls = RatingScorer if config.kind == "rating" else PairwiseScorer
    return cls(resolve_model(model, config.judge.model, stage="preferences"), config.judge)


def scorer_model(config: ScorerConfig, loader: Callable[[ModelConfig], Generator]
                 ) -> Scorer | Callable[[ModelConfig], Generator]:
    """What a flow passes as the pairing stage's `model`: the loaded reward model for
    `kind: reward_model`, else `loader` (the judge is built from it)."""
    if config.kind == "reward_model":
        from pipelines.preferences.reward_model import RewardModelScorer

        return RewardModelScorer(config.reward_model)
    return loader
