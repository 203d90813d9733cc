"""The `train:` section: wiring defaults and errors, and a pipeline run that publishes and
trains from the published dataset (tiny random model, two steps)."""

import json
from pathlib import Path

import pytest
import yaml

from alignment.wiring import TrainEntry, wire
from pipelines.config import check_config
from pipelines.io import sha256_file

from ..pipelines.templating.helpers import NLI_ROWS, nli_spec, write_jsonl
from .test_cli import prefect_logs_to_real_stderr  # noqa: F401 - autouse fixture

DATA = ["templating", "dedup", "judge", "preferences"]


def _plans(entries, stages=DATA, published=False):
    plans, problems = wire([TrainEntry(**e) for e in entries], stages, published)
    assert problems == []
    return {p["name"]: p for p in plans}


def test_default_wiring_without_publishing():
    plans = _plans([{"stage": "sft"}, {"stage": "reward"}, {"stage": "dpo"}, {"stage": "ppo"}])
    assert plans["sft"]["data"] == "judge" and plans["reward"]["data"] == "pairs"
    assert plans["dpo"] == {"name": "dpo", "stage": "dpo", "data": "pairs",
                            "refs": {"model": "sft"}, "fields": {}}
    assert plans["ppo"]["refs"] == {"model": "sft", "reward_model": "reward"}


def test_default_wiring_reads_the_published_dataset():
    plans = _plans([{"stage": "sft"}, {"stage": "dpo", "model": "embedded"}], published=True)
    assert plans["sft"]["data"] == "published_sft"
    assert plans["dpo"]["data"] == "published_preferences" and plans["dpo"]["refs"] == {}


def test_overrides_data_names_and_refs():
    plans = _plans([{"stage": "sft", "data": "best_of_n", "name": "warm"},
                    {"stage": "sft", "dataset": "x.jsonl", "model": "warm"}])
    assert plans["warm"]["data"] == "best_of_n"
    assert plans["sft"]["refs"] == {"model": "warm"} and "data" not in plans["sft"]
    assert plans["sft"]["fields"] == {"dataset": "x.jsonl"}


@pytest.mark.parametrize("entries, stages, problem", [
    ([{"stage": "sftt"}], DATA, "train[0].stage: expected one of"),
    ([{"stage": "sft"}, {"stage": "sft"}], DATA, "train[1].name: 'sft' names an earlier entry"),
    ([{"stage": "reward"}], ["templating", "judge"], "train[0].data: the pipeline makes no records"),
    ([{"stage": "sft", "data": "pairs"}], ["judge"], "needs the preferences stage"),
    ([{"stage": "sft", "data": "published_sft"}], DATA, "needs a `publish:` section"),
    ([{"stage": "sft", "out": "x"}], DATA, "train[0].out: set by the pipeline"),
], ids=["stage", "duplicate", "nothing", "missing-stage", "unpublished", "out"])
def test_wiring_problems_name_the_entry(entries, stages, problem):
    _, problems = wire([TrainEntry(**e) for e in entries], stages, False)
    assert any(problem in p for p in problems), problems


def _config(tmp_path: Path, tiny_model, train: list[dict]) -> Path:
    data = write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS)
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({
        "run": {"name": "tiny", "threads": 1},
        "templating": {"tasks": [nli_spec(data.name)]},
        "publish": {"license": "apache-2.0", "test_fraction": 0.0},
        "train": train}))
    return path


def test_check_config_reports_trainer_options(tmp_path, tiny_model):
    path = _config(tmp_path, tiny_model, [{"stage": "sft", "trainer": {"lerning_rate": 1}}])
    _, problems = check_config(path)
    assert any(p.startswith("train[0].trainer.lerning_rate: unknown SFTConfig option")
               for p in problems), problems


@pytest.mark.usefixtures("prefect_harness")
def test_run_publishes_then_trains_on_the_published_split(tmp_path, tiny_model):
    from typer.testing import CliRunner

    from flows.cli import app

    config = _config(tmp_path, tiny_model, [{"stage": "sft", "model": str(tiny_model),
                                             "max_steps": 2, "max_length": 64}])
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    (sft,) = summary["train"]
    assert sft["steps"] == 2 and sft["cached"] is False and sft["out"] == str(out / "train/sft")
    # training read the handoff of the published train split, and nothing else
    handoff = json.loads((out / "handoff/sft/handoff.json").read_text())
    (published,) = (out / "dataset/data/sft").glob("train-*.parquet")
    assert handoff["sources"] == {str(published): sha256_file(published)}
    report = json.loads((out / "train/sft/report.json").read_text())
    jsonl = out / "handoff/sft/sft.jsonl"
    assert report["data"]["files"] == {str(jsonl): sha256_file(jsonl)}
    assert (out / "handoff/sft/axolotl.yaml").exists() and (out / "handoff/sft/openrlhf.txt").exists()
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(out / "train/sft/model") is not None
    again = CliRunner().invoke(app, ["run", str(config), "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "summary.json").read_text())["train"][0]["cached"] is True
    assert f"train sft (sft): 2 steps (cached) -> {out / 'train/sft/model'}" in again.output
