"""Configuration of the FLAN-style templating stage: task specs and rendering choices.

    templating:
      seed: 0
      options_style: flan2022          # flan2021 (fixed "OPTIONS:" + "- ") or flan2022 (randomised)
      formats: {zero_shot_options: 1, zero_shot_no_options: 1, few_shot_options: 1, few_shot_no_options: 1}
      shots: [1, 2, 5]
      budget: {unit: words, max_prompt: 512}
      mixing: {max_rate: 3000}
      tasks:
        - name: rte
          type: nli
          source: data/rte/train.tsv
          fields: {premise: sentence1, hypothesis: sentence2}
          label_field: label
          labels: {entailment: "yes", not_entailment: "no"}
          positive_label: entailment
          fewshot_source: data/rte/dev.tsv
          cap: 30000
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pipelines.configbase import InputPath, RawInput, StageConfig

TaskType = Literal["nli", "sentiment", "classification", "paraphrase", "extractive_qa",
                   "closed_book_qa", "summarization"]

TASK_FIELDS: dict[str, tuple[str, ...]] = {
    "nli": ("premise", "hypothesis"),
    "sentiment": ("text",),
    "classification": ("text",),
    "paraphrase": ("sentence1", "sentence2"),
    "extractive_qa": ("context", "question", "answer"),
    "closed_book_qa": ("question", "answer"),
    "summarization": ("document", "summary"),
}
LABELLED_TYPES = ("nli", "sentiment", "classification", "paraphrase")
ANSWER_FIELD = {"extractive_qa": "answer", "closed_book_qa": "answer", "summarization": "summary"}
FORMATS = ("zero_shot_options", "zero_shot_no_options", "few_shot_options", "few_shot_no_options")

LabelValue = str | int


class TaskSpec(StageConfig):
    """One raw task file and how to read it.

    `fields` maps the type's canonical fields to the file's columns (identity when omitted).
    `labels` maps raw label values to the text shown as an option: a list maps 0, 1, ... to
    names (GLUE-style integer labels, also given as digit strings in CSV/TSV); a dict maps raw
    values to names. Without `labels`, the raw label values are the names (numeric ids give a
    warning in the log, `stats.json` and the counts table). A label of -1 means
    "no target" and the row is rejected with `template_no_label`.
    """

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: TaskType | None = None
    source: RawInput
    """A record file, or a folder or glob of them that may grow between runs (every file it
    holds at run time, in name order)."""
    format: Literal["jsonl", "json", "csv", "tsv", "parquet", "hf"] | None = None
    fields: dict[str, str] = {}
    label_field: str | None = None
    labels: list[str] | dict[LabelValue, str] | None = None
    positive_label: LabelValue | None = None
    rationale_field: str | None = None
    cot_rate: float = Field(1.0, ge=0.0, le=1.0)
    fewshot_source: InputPath | None = None
    cap: int | None = Field(None, ge=1)
    promptsource: InputPath | None = None
    template_ids: list[str] | None = None
    include_inverted: bool = True

    @model_validator(mode="after")
    def _check(self) -> TaskSpec:
        if self.type is None and self.promptsource is None:
            raise ValueError("give a task `type` (built-in templates) or a `promptsource` "
                             "templates.yaml file, or both")
        if self.type is not None:
            unknown = sorted(set(self.fields) - set(TASK_FIELDS[self.type]))
            if unknown:
                raise ValueError(f"fields {unknown} are not fields of type {self.type!r}; "
                                 f"allowed: {list(TASK_FIELDS[self.type])}")
            if self.type in LABELLED_TYPES and self.label_field is None:
                raise ValueError(f"type {self.type!r} is a classification type: set `label_field`")
        if self.positive_label is not None and self.labels is not None:
            raw = list(range(len(self.labels))) if isinstance(self.labels, list) else list(self.labels)
            if self.positive_label not in raw:
                raise ValueError(f"positive_label {self.positive_label!r} is not one of the "
                                 f"labels' raw values {raw}")
        return self

    def column(self, canonical: str) -> str:
        return self.fields.get(canonical, canonical)


class BudgetConfig(StageConfig):
    """Prompt and target length budget. Few-shot prompts drop exemplars until they fit; a
    zero-shot prompt that does not fit is rejected (`template_over_budget`). With `max_target`,
    an example whose target is longer is rejected (`template_target_over_budget`; an inverted
    template's target is an input field, which may be long). `tokens` counts with `tokenizer`
    (a local folder or GGUF file; the embedded model's tokenizer when omitted)."""

    unit: Literal["words", "tokens"] = "words"
    max_prompt: int = Field(1024, ge=1)
    max_target: int | None = Field(None, ge=1)
    tokenizer: Path | None = None


class MixingConfig(StageConfig):
    """Examples-proportional mixing with a maximum rate (FLAN): task i's share is
    min(n_i, max_rate) / sum_j min(n_j, max_rate). With `total`, task i keeps
    min(n_i, round(share_i * total)) rows; without it, min(n_i, max_rate)."""

    max_rate: int | None = Field(3000, ge=1)
    total: int | None = Field(None, ge=1)


class TemplatingConfig(StageConfig):
    tasks: list[TaskSpec] = Field(min_length=1)
    seed: int = 0
    options_style: Literal["flan2021", "flan2022"] = "flan2022"
    formats: dict[Literal[FORMATS], float] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {f: 1.0 for f in FORMATS})
    shots: list[int] = Field(default_factory=lambda: [1, 2, 5], min_length=1)
    delimiters: list[str] = Field(default_factory=lambda: ["\n", "\n\n"], min_length=1)
    separators: list[str] = Field(default_factory=lambda: ["\n\n", "\n\n\n"], min_length=1)
    fewshot_format: Literal["inline", "chat"] = "inline"
    templates_per_row: int | Literal["all"] = 1
    budget: BudgetConfig = BudgetConfig()
    mixing: MixingConfig = MixingConfig()

    @model_validator(mode="after")
    def _check(self) -> TemplatingConfig:
        names = [t.name for t in self.tasks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"task names must be unique; repeated: {dupes}")
        if any(w < 0 for w in self.formats.values()) or not any(self.formats.values()):
            raise ValueError(f"formats need non-negative weights with at least one > 0, "
                             f"got {self.formats}")
        if any(k < 1 for k in self.shots):
            raise ValueError(f"shots must be >= 1 (zero-shot is a format), got {self.shots}")
        if isinstance(self.templates_per_row, int) and self.templates_per_row < 1:
            raise ValueError(f"templates_per_row must be >= 1 or 'all', got {self.templates_per_row}")
        return self
