"""Configuration of the preference stage: who answers, who scores, how pairs are chosen.

    preferences:
      inputs: [runs/demo/judge]        # prompt records: files or run folders (standalone);
                                       # in a pipeline run, the previous stages' kept records
      samplers:                        # K = the sum of n (default: 4 samples, embedded model)
        - {model: {backend: transformers}, params: {temperature: 0.8, top_p: 0.95, max_new_tokens: 256}, n: 4}
      scorer:
        kind: rating                   # rating (judge, per response) | pairwise (judge, both
                                       # orders, every pair) | reward_model (a checkpoint)
        judge: {aspect: helpfulness, mode: logprob}   # any judge settings; model: embedded
        reward_model: null             # kind reward_model: a checkpoint or training run folder
      policy: best_vs_random           # best_vs_random | best_vs_worst | all_pairs_with_margin
      margin: 0.0                      # a pair needs a score gap >= margin (and > 0)
      max_length_ratio: null           # drop pairs whose longer answer has > ratio x the words
      balance_length: false            # drop pairs until chosen is longer half the time
      best_of_n: true                  # also write the top response per prompt as SFT records
      shard_size: 32                   # prompts per sampling shard (the resume unit)
      seed: 0
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipelines.configbase import InputPath, StageConfig
from pipelines.judge.config import JudgeConfig
from pipelines.models import GenerationParams, ModelConfig
from pipelines.preferences.selection import Policy


class SamplerConfig(StageConfig):
    model: ModelConfig = ModelConfig()
    params: GenerationParams = GenerationParams(temperature=0.8, top_p=0.95, max_new_tokens=256)
    n: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _check(self) -> SamplerConfig:
        if self.n > 1 and self.params.strategy == "greedy":
            raise ValueError(f"n={self.n} greedy samples would be identical: set params.temperature > 0")
        return self


class ScorerConfig(StageConfig):
    kind: Literal["rating", "pairwise", "reward_model"] = "rating"
    judge: JudgeConfig = JudgeConfig(aspect="helpfulness", mode="logprob")
    reward_model: InputPath | None = None

    @model_validator(mode="after")
    def _check(self) -> ScorerConfig:
        if self.kind == "reward_model" and self.reward_model is None:
            raise ValueError("kind reward_model needs `reward_model` (a checkpoint or run folder)")
        return self

    @property
    def label(self) -> str:
        if self.kind == "reward_model":
            return f"reward_model:{self.reward_model}"
        return f"{self.kind}:{self.judge.model.label}"


class PreferenceConfig(StageConfig):
    inputs: list[InputPath] = []
    allow_empty: bool = False  # no input records: an empty run, not an error
    prompt_field: str | None = None
    samplers: list[SamplerConfig] = Field(default_factory=lambda: [SamplerConfig()], min_length=1)
    scorer: ScorerConfig = ScorerConfig()
    policy: Policy = "best_vs_random"
    margin: float = Field(0.0, ge=0.0)
    max_length_ratio: float | None = Field(None, ge=1.0)
    balance_length: bool = False
    best_of_n: bool = True
    shard_size: int = Field(32, ge=1)
    seed: int = 0

    @property
    def k(self) -> int:
        return sum(s.n for s in self.samplers)
