"""What the judge stage reads: record files or run folders, checked before any model call.

Every row of every source must give an example (`pipelines.judge.examples.example_of`) and a
`meta` column, if any, must be a struct the judge's lineage can join; a problem names the file
and the line or row (see `pipelines.io.read_sources`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets

from pipelines.io import read_sources
from pipelines.judge.examples import example_of
from pipelines.judge.filter import judged_features


def _check(dataset: datasets.Dataset) -> None:
    judged_features(dataset.features)
    for i, row in enumerate(dataset):
        example_of(row, row_index=i)


def read_judge_inputs(paths: Sequence[str | Path], *, allow_empty: bool = False
                      ) -> datasets.Dataset:
    """The records of every source, checked and concatenated in order."""
    return read_sources(paths, check=_check, allow_empty=allow_empty)
