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

    >>> scores, details = RatingScorer(judge_model, judge_config).score([conv], [["4", "5"]])
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Protocol

from pipelines.judge.config import JudgeConfig
from pipelines.judge.examples import example_of
from pipelines.judge.pairwise import Pair, judge_pairs
from pipelines.judge.rating import rate
from pipelines.models import Generator

Conversation = list[dict[str, str]]


class Scorer(Protocol):
    name: str
    kind: str
    mode: str | None

    def score(self, conversations: list[Conversation], responses: list[list[str]]
              ) -> tuple[list[list[float | None]], list[dict[str, Any]]]: ...


def _example(conversation: Conversation, response: str):
    return example_of({"messages": conversation + [{"role": "assistant", "content": response}]})


class RatingScorer:
    kind = "rating"

    def __init__(self, model: Generator, config: JudgeConfig) -> None:
        self.model, self.config = model, config
        self.name, self.mode = model.name, config.mode

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


class PairwiseScorer:
    kind = "pairwise"

    def __init__(self, model: Generator, config: JudgeConfig) -> None:
        self.model, self.config = model, config
        self.name, self.mode = model.name, config.mode

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


def build_scorer(config, model_loader) -> Scorer:
    """The configured scorer; `model_loader(ModelConfig)` builds judge models."""
    if config.kind == "reward_model":
        from pipelines.preferences.reward_model import RewardModelScorer

        return RewardModelScorer(config.reward_model)
    cls = RatingScorer if config.kind == "rating" else PairwiseScorer
    return cls(model_loader(config.judge.model), config.judge)
