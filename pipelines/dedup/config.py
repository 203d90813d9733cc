"""Configuration of the dedup stage.

    dedup:
      inputs: [runs/templating]        # record files or tuneset run folders (their kept/*.parquet)
      text: instruction_input          # instruction | instruction_input | conversation
      normalize: {lowercase: true, collapse_whitespace: true, strip_punctuation: true}
      ngram: 5                         # word n-gram shingles
      num_perm: 128
      threshold: 0.8                   # Jaccard; (bands, rows) from datasketch's optimal method
      weights: [0.1, 0.9]              # false-positive / false-negative weights for that choice
      verify: exact                    # none | signature | exact
      keep: first                      # first | longest | score:<column> | {policy: score, column: c}
      reference: [eval/test.jsonl]     # decontamination: drop inputs that match these
      backend: local                   # local | ray (extra `ray`)

In a whole-pipeline config an empty `inputs` means "the kept records of the stage before".
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from pipelines.configbase import InputPath, StageConfig

TEXT_FIELDS = ("instruction", "instruction_input", "conversation")


class NormalizeConfig(StageConfig):
    """How texts are normalized before comparison (exact and near)."""

    lowercase: bool = True
    collapse_whitespace: bool = True
    strip_punctuation: bool = True


class KeepConfig(StageConfig):
    """Which member of a duplicate cluster is kept: the first in input order, the longest
    compared text, or the highest value of a numeric `column` (dotted paths reach into structs,
    e.g. `meta.score`). Ties go to the earliest record; a null score ranks lowest."""

    policy: Literal["first", "longest", "score"] = "first"
    column: str | None = None

    @model_validator(mode="after")
    def _check(self) -> KeepConfig:
        if self.policy == "score" and not self.column:
            raise ValueError("keep policy 'score' needs a `column` (e.g. keep: score:judge_score)")
        if self.policy != "score" and self.column is not None:
            raise ValueError(f"`column` is only used by the 'score' policy, not {self.policy!r}")
        return self


class RayConfig(StageConfig):
    """The Ray backend: `address` of a running cluster (None starts a local one) and how many
    shards the signature work is split into."""

    address: str | None = None
    shards: int = Field(4, ge=1)


class DedupConfig(StageConfig):
    inputs: list[InputPath] = []
    allow_empty: bool = False  # no input records: an empty run, not an error
    text: Literal["instruction", "instruction_input", "conversation"] = "instruction_input"
    normalize: NormalizeConfig = NormalizeConfig()
    ngram: int = Field(5, ge=1)
    num_perm: int = Field(128, ge=2, le=1024)
    seed: int = Field(1, ge=0)
    scheme: Literal["affine32", "affine64", "legacy"] = "affine32"
    threshold: float = Field(0.8, gt=0.0, lt=1.0)
    weights: tuple[float, float] = (0.1, 0.9)
    verify: Literal["none", "signature", "exact"] = "exact"
    keep: KeepConfig = KeepConfig()
    reference: list[InputPath] = []
    reference_field: str | None = None
    largest_clusters: int = Field(10, ge=0)
    backend: Literal["local", "ray"] = "local"
    ray: RayConfig = RayConfig()

    @field_validator("keep", mode="before")
    @classmethod
    def _keep_shorthand(cls, value: Any) -> Any:
        """`keep: longest` and `keep: score:judge_score` are shorthands for the mapping form."""
        if isinstance(value, str):
            policy, _, column = value.partition(":")
            if policy == "score":
                return {"policy": "score", "column": column or None}
            if column:
                raise ValueError(f"only the 'score' policy takes a column, got {value!r}; "
                                 "allowed: first, longest, score:<column>")
            return {"policy": policy}
        return value

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) < 0 or sum(value) <= 0:
            raise ValueError("weights are [false_positive, false_negative], both >= 0 and not "
                             f"both 0, got {list(value)}")
        return value
