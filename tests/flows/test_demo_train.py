"""configs/demo_train.yaml end to end on the embedded model: templating -> judge ->
preferences -> publish -> sft -> reward -> dpo, a few steps each. Every checkpoint loads, and
each training stage read the published dataset's train split (through its handoff folder)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipelines.io import sha256_file

from .test_cli import prefect_logs_to_real_stderr  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_demo_train_config_from_raw_files_to_checkpoints(tmp_path):
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", str(REPO / "configs/demo_train.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert [s["stage"] for s in summary["stages"]] == ["templating", "judge", "preferences"]
    assert summary["publish"]["new_version"] and summary["publish"]["version"] == "v1"
    assert [(t["name"], t["steps"]) for t in summary["train"]] == [("sft", 3), ("reward", 3),
                                                                   ("dpo", 3)]
    reads = {"sft": "sft", "reward": "preferences", "dpo": "preferences"}
    for name, config in reads.items():
        handoff = json.loads((out / "handoff" / config / "handoff.json").read_text())
        published = sorted((out / "dataset/data" / config).glob("train-*.parquet"))
        assert handoff["sources"] == {str(p): sha256_file(p) for p in published}
        (records,) = handoff["files"]
        report = json.loads((out / "train" / name / "report.json").read_text())
        jsonl = out / "handoff" / config / records
        assert report["data"]["files"] == {str(jsonl): sha256_file(jsonl)}
    dpo = json.loads((out / "train/dpo/report.json").read_text())
    assert dpo["base_model"] == str(out / "train/sft/model")   # dpo starts from the sft model
    assert AutoModelForCausalLM.from_pretrained(out / "train/sft/model").num_parameters() > 1e8
    reward = AutoModelForSequenceClassification.from_pretrained(out / "train/reward/model")
    assert reward.config.num_labels == 1
    assert AutoModelForCausalLM.from_pretrained(out / "train/dpo/model") is not None
