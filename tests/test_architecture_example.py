"""The worked example in docs/architecture.md ("Adding a stage") runs as written.

Its code blocks (each starts with a `# <path>` line) are written under a temporary folder that
is added to the `pipelines` and `flows` packages' paths, then the stage and its flow run.
"""

import importlib
import json
import re
import sys

import datasets
import pytest

import flows
import pipelines
from pipelines.io import load_run, verify_run
from tests.conftest import REPO

BLOCK = re.compile(r"```python\n# ((?:pipelines|flows)/\S+\.py)\n(.*?)```", re.S)


@pytest.fixture
def example(tmp_path):
    blocks = BLOCK.findall((REPO / "docs/architecture.md").read_text(encoding="utf-8"))
    assert len(blocks) == 4, [path for path, _ in blocks]
    for path, code in blocks:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code, encoding="utf-8")
    pipelines.__path__.append(str(tmp_path / "pipelines"))
    flows.__path__.append(str(tmp_path / "flows"))
    try:
        yield importlib.import_module("pipelines.answer_length"), \
            importlib.import_module("flows.answer_length")
    finally:
        pipelines.__path__.remove(str(tmp_path / "pipelines"))
        flows.__path__.remove(str(tmp_path / "flows"))
        for name in [n for n in sys.modules if n.endswith("answer_length") or ".answer_length." in n]:
            del sys.modules[name]


RECORDS = [{"instruction": "Name a colour.", "output": "Blue."},
           {"instruction": "Describe the sea.", "output": "Wide, deep and grey under rain."},
           {"instruction": "Say nothing.", "output": ""}]


def test_the_example_stage_keeps_the_contract(example):
    stage, _ = example
    records = datasets.Dataset.from_list(RECORDS)
    result = stage.filter_answer_length(records, stage.AnswerLengthConfig(min_words=1, max_words=3))
    assert result.kept["output"] == ["Blue."]
    assert list(result.rejected["reason"]) == ["answer_length_too_long", "answer_length_too_short"]
    assert result.rejected.column_names == ["instruction", "output", "stage", "reason", "detail"]
    assert len(result.kept) + len(result.rejected) == len(records)
    assert result.stats == {"stage": "answer_length", "rows_in": 3, "kept": 1, "rejected": {
        "answer_length_too_long": 1, "answer_length_too_short": 1}}


@pytest.mark.usefixtures("prefect_harness")
def test_the_example_flow_writes_a_cached_run_folder(example, tmp_path, write_lines):
    stage, flow = example
    source = write_lines("records.jsonl", [json.dumps(r) for r in RECORDS])
    out = str(tmp_path / "run")
    config = stage.AnswerLengthConfig(max_words=3)
    summary = flow.answer_length_flow(config, [str(source)], out)
    assert verify_run(out) and summary["cached"] is False and summary["rows"]["kept"] == 1
    assert load_run(out)["output"] == ["Blue."]
    assert flow.answer_length_flow(config, [str(source)], out)["cached"] is True
