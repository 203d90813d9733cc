"""Configuration of the self-instruct stage (both the Self-Instruct and the Alpaca variants).

    self_instruct:
      seeds: demo_data/seed_tasks.jsonl      # self-instruct JSONL, or any file with fields mapped
      mode: self_instruct                    # or alpaca
      target: 40                             # stop after the round that reaches this many tasks
      max_rounds: 5
      requests_per_round: 8
      model: {backend: transformers}         # the embedded model unless named

Defaults follow the papers (ALGORITHMS.md §2): 8 instructions per prompt, 6 of them seeds and 2
machine-made once the pool has them; temperature 0.7, top_p 0.5, presence penalty 2; words
limits 3 < n <= 150; ROUGE-L F1 > 0.7 against the pool rejects; at most 5 instances per task;
Alpaca: 3 demonstrations, 20 tasks per request, temperature 1.0.

Departure: the papers stop bootstrap generation at a blank line because a base model continues
a bare numbered list. Chat models answer in a message and often put a blank line after a short
preamble, so the default has no stop string; items are read from the numbered lines instead.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from pipelines.configbase import RawInput, StageConfig
from pipelines.models import GenerationParams, ModelConfig

SELF_INSTRUCT_BLACKLIST = ["image", "images", "graph", "graphs", "picture", "pictures", "file",
                           "files", "map", "maps", "draw", "plot", "go to"]
ALPACA_EXTRA_BLACKLIST = ["video", "audio", "music", "flowchart", "diagram"]


class SeedFields(StageConfig):
    """Column names in the seed file. A self-instruct file has `instruction` and a list of
    `instances`; any other file gives one instance per row through `input` / `output`."""

    id: str = "id"
    instruction: str = "instruction"
    instances: str = "instances"
    input: str = "input"
    output: str = "output"
    is_classification: str = "is_classification"


class FilterConfig(StageConfig):
    min_words: int = Field(3, ge=0, description="instructions with <= this many words are dropped")
    max_words: int = Field(150, ge=1)
    blacklist: list[str] | None = None
    bad_starts: list[str] = ["Write a program"]
    rouge_threshold: float = Field(0.7, gt=0.0, le=1.0)
    keep_similar: int = Field(10, ge=0, description="most similar pool items kept per task")


class InstanceConfig(StageConfig):
    max_instances: int = Field(5, ge=1)
    fewshot: int = Field(3, ge=0, description="seed examples shown when generating instances")
    params: GenerationParams = GenerationParams(max_new_tokens=300)
    classify_params: GenerationParams = GenerationParams(max_new_tokens=3)
    shard_size: int = Field(32, ge=1, description="accepted tasks per instance-generation shard "
                            "(the unit a parallel task runner spreads, and the resume unit)")


class SelfInstructConfig(StageConfig):
    seeds: RawInput
    """A seed file, or a folder or glob of them that may grow between runs."""
    seed_fields: SeedFields = SeedFields()
    mode: Literal["self_instruct", "alpaca"] = "self_instruct"
    model: ModelConfig = ModelConfig()
    target: int = Field(100, ge=1)
    max_rounds: int = Field(10, ge=1)
    requests_per_round: int = Field(8, ge=1)
    prompt_instructions: int = Field(8, ge=2)
    prompt_machine: int = Field(2, ge=0)
    new_per_request: int = Field(8, ge=1, description="tasks asked for per bootstrap request")
    alpaca_demos: int = Field(3, ge=1)
    alpaca_tasks: int = Field(20, ge=1)
    params: GenerationParams | None = None
    filters: FilterConfig = FilterConfig()
    instances: InstanceConfig = InstanceConfig()
    seed: int = 0

    @model_validator(mode="after")
    def _check(self) -> SelfInstructConfig:
        if self.prompt_machine >= self.prompt_instructions:
            raise ValueError(f"prompt_machine ({self.prompt_machine}) must be less than "
                             f"prompt_instructions ({self.prompt_instructions})")
        return self

    @property
    def generation_params(self) -> GenerationParams:
        if self.params is not None:
            return self.params
        if self.mode == "alpaca":
            return GenerationParams(temperature=1.0, top_p=1.0, max_new_tokens=3072, seed=self.seed)
        return GenerationParams(temperature=0.7, top_p=0.5, presence_penalty=2.0,
                                max_new_tokens=1024, seed=self.seed)

    @property
    def blacklist(self) -> list[str]:
        if self.filters.blacklist is not None:
            return self.filters.blacklist
        extra = ALPACA_EXTRA_BLACKLIST if self.mode == "alpaca" else []
        return SELF_INSTRUCT_BLACKLIST + extra
