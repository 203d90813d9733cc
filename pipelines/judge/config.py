"""Configuration of the judge: which model rates, on what aspect, how the score is read.

    judge:
      inputs: [runs/demo/templating]   # record files or run folders (standalone `tuneset judge`);
                                       # in a pipeline run the judge reads the previous stage
      model: {backend: transformers, model: null}   # any ModelConfig; null = embedded model
      aspect: accuracy                 # accuracy (AlpaGasus) | helpfulness | instruction_following
                                       # | honesty | truthfulness (UltraFeedback)
      mode: parse                      # parse: generate greedily, read the first line (AlpaGasus)
                                       # logprob: expected score from the score-token
                                       # probabilities, no generation (G-Eval)
      threshold: 4.5                   # keep score >= threshold (AlpaGasus)
      max_new_tokens: 64               # parse mode: room for the score line and a short reason
      comparison: pairwise             # pairs (judge-eval, preferences): pairwise both-order
                                       # judging, or rating each answer and comparing scores
      margin: null                     # rating comparison: a win needs a score gap >= margin;
                                       # null = 0.5 in parse mode (scores move in half points),
                                       # 0 in logprob mode (expected scores are continuous)
      seed: 0                          # judge-eval's random baseline
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.configbase import InputPath, StageConfig
from pipelines.models.config import ModelConfig

Aspect = Literal["accuracy", "helpfulness", "instruction_following", "honesty", "truthfulness"]
ScoringMode = Literal["parse", "logprob"]
Comparison = Literal["pairwise", "rating"]

SCORE_MIN, SCORE_MAX = 0, 5
DEFAULT_MARGIN: dict[str, float] = {"parse": 0.5, "logprob": 0.0}
"""Rating comparison's margin per scoring mode when the config leaves it unset: parsed scores
are whole or half points, while expected scores span about one point, where any fixed gap
would turn most pairs into ties."""


class JudgeConfig(StageConfig):
    inputs: list[InputPath] = []
    allow_empty: bool = False  # no input records: an empty run, not an error
    model: ModelConfig = ModelConfig()
    aspect: Aspect = "accuracy"
    mode: ScoringMode = "parse"
    threshold: float = Field(4.5, ge=SCORE_MIN, le=SCORE_MAX)
    max_new_tokens: int = Field(64, ge=1, le=4096)
    comparison: Comparison = "pairwise"
    margin: float | None = Field(None, ge=0, le=SCORE_MAX)
    seed: int = 0

    @property
    def rating_margin(self) -> float:
        """The margin the rating comparison uses: `margin`, or the mode's default."""
        return self.margin if self.margin is not None else DEFAULT_MARGIN[self.mode]
