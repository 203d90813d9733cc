"""What the dedup stage reads: record files or run folders, plus reference sets, checked first.

Inputs are `inputs` (record files or tuneset run folders, a run folder meaning its
`kept/*.parquet`), or in a pipeline run with empty `inputs` the kept records of the stages run
before dedup. Every record must have the compared text (and, under `keep: score:<column>`, the
score); every reference record its `reference_field`. A problem names the file, line and field
before any work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import datasets

from pipelines.dedup.config import DedupConfig
from pipelines.dedup.keep import score_values
from pipelines.dedup.texts import compared_texts
from pipelines.errors import ConfigError
from pipelines.io import read_sources, source_files


def _checker(config: DedupConfig, *, reference: bool = False) -> Callable[[datasets.Dataset], None]:
    def check(dataset: datasets.Dataset) -> None:
        compared_texts(dataset, config.text, config.reference_field if reference else None)
        if not reference and config.keep.policy == "score":
            score_values(dataset, config.keep.column)
    return check


def dedup_sources(config: DedupConfig, upstream: Sequence[str | Path] = ()) -> list[Path]:
    """The record files dedup reads: its `inputs`, or else the upstream run folders' kept files."""
    sources = config.inputs or list(upstream)
    if not sources:
        raise ConfigError(["dedup.inputs: no input; give record files or run folders (in a "
                           "pipeline, an earlier stage's output is used when inputs is empty)"])
    return source_files(sources)


def read_dedup_inputs(config: DedupConfig, sources: Sequence[str | Path]
                      ) -> tuple[datasets.Dataset, list[tuple[str, datasets.Dataset]]]:
    """(the records of `sources`, each reference set as (file name, records)), all checked."""
    records = read_sources(sources, check=_checker(config), allow_empty=config.allow_empty)
    reference = [(Path(p).name, read_sources([p], check=_checker(config, reference=True)))
                 for p in config.reference]
    return records, reference
