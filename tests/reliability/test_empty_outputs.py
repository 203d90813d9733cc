"""Every output the project writes opens with pyarrow and `datasets`, also with zero rows."""

from __future__ import annotations

import datasets
import pyarrow.parquet as pq
import pytest

from pipelines.io import load_run, verify_run, write_run

FEATURES = datasets.Features({"id": datasets.Value("string"),
                              "messages": [{"role": datasets.Value("string"),
                                            "content": datasets.Value("string")}]})


def _rows(n: int) -> datasets.Dataset:
    return datasets.Dataset.from_dict(
        {"id": [str(i) for i in range(n)],
         "messages": [[{"role": "user", "content": f"q{i}"}] for i in range(n)]}, features=FEATURES)


@pytest.fixture
def run(tmp_path):
    """A run folder whose kept, rejected and extra (`best_of_n`) outputs have no rows."""
    write_run(tmp_path / "run", stage="demo", kept=_rows(0), rejected=_rows(0), stats={},
              extra_datasets={"best_of_n": _rows(0)}, jsonl=True)
    return tmp_path / "run"


@pytest.mark.parametrize("part", ["kept", "rejected", "best_of_n"])
def test_zero_row_outputs_open_with_pyarrow_and_datasets(run, part):
    assert verify_run(run)
    path = run / part / "part-00000.parquet"
    table = pq.read_table(path)
    assert table.num_rows == 0 and table.column_names == ["id", "messages"]
    streamed = datasets.load_dataset("parquet", data_files=str(run / part / "*.parquet"),
                                     split="train", streaming=True)
    assert list(streamed) == [] and streamed.features == FEATURES
    loaded = load_run(run, part)
    assert len(loaded) == 0 and loaded.features == FEATURES
    assert (run / part / "part-00000.jsonl").read_text() == ""


def test_rows_still_round_trip(tmp_path):
    write_run(tmp_path / "run", stage="demo", kept=_rows(3), rejected=_rows(0), stats={})
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "run/kept/*.parquet"),
                                   split="train")
    assert loaded["id"] == ["0", "1", "2"] and loaded.features == FEATURES
