import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from pipelines.io import sha256_file

from ..alignment.helpers import write_instruction_run, write_jsonl, write_preference_run

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("prefect_harness")


def _config(path: Path, **fields) -> Path:
    path.write_text(yaml.safe_dump({k: str(v) if isinstance(v, Path) else v
                                    for k, v in fields.items()}))
    return path


def test_train_sft_command_writes_model_report_and_handoff(tiny_model, tmp_path):
    data = write_instruction_run(tmp_path / "data", n=6)
    config = _config(tmp_path / "sft.yaml", dataset="data", model=tiny_model, max_steps=3,
                     max_length=64, eval_fraction=0.2, trainer={"learning_rate": 1e-3})
    result = runner.invoke(app, ["train", "sft", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["stage"] == "sft" and report["steps"] == 3
    assert report["rows"] == {"train": 5, "eval": 1, "dropped": 0}
    assert "eval_loss" in report["metrics"] and report["seconds_per_step"] > 0
    parquet = str(data / "kept/part-00000.parquet")
    assert report["data"]["files"] == {parquet: sha256_file(parquet)}
    assert len(report["config_sha256"]) == 64 and report["config"]["max_steps"] == 3
    assert report["versions"]["trl"].startswith("1.12.")
    assert {"transformers", "torch", "peft"} <= set(report["versions"])
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "model/config.json").exists() and (out / "handoff/dataset_info.json").exists()
    assert "train_loss" in result.output and "handoff" in result.output


def test_reward_then_ppo_chain_through_run_folders(tiny_model, tmp_path):
    """The reward stage's run folder is PPO's reward model; the flow wires all four models."""
    pairs = write_preference_run(tmp_path / "pairs", n=4)
    reward = _config(tmp_path / "reward.yaml", dataset=pairs, model=tiny_model, out="rm",
                     max_steps=1, max_length=64, eval_fraction=0.25)
    assert runner.invoke(app, ["train", "reward", str(reward)]).exit_code == 0
    ppo = _config(tmp_path / "ppo.yaml", dataset=pairs, model=tiny_model, reward_model="rm",
                  out="policy", max_steps=1, max_length=64, trainer={"response_length": 4})
    result = runner.invoke(app, ["train", "ppo", str(ppo)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "policy/report.json").read_text())
    assert report["reward_model"] == str(tmp_path / "rm/model")
    assert report["value_model"] == report["reward_model"] and report["steps"] == 1


def test_bad_records_exit_2_naming_row_and_field(tiny_model, tmp_path):
    write_jsonl(tmp_path / "d.jsonl", [{"prompt": [{"role": "user", "content": "q"}],
                                        "chosen": [{"role": "user", "content": "a"}],
                                        "rejected": [{"role": "assistant", "content": "b"}]}])
    config = _config(tmp_path / "dpo.yaml", dataset="d.jsonl", model=tiny_model, out="out")
    result = runner.invoke(app, ["train", "dpo", str(config)])
    assert result.exit_code == 2
    assert "d.jsonl, line 1, field 'chosen[0].role'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_bad_trainer_option_exits_2_before_prefect_starts(tiny_model, tmp_path):
    write_instruction_run(tmp_path / "data", n=2)
    config = _config(tmp_path / "sft.yaml", dataset="data", model=tiny_model, out="out",
                     trainer={"learning_rat": 0.1})
    result = runner.invoke(app, ["train", "sft", str(config)])
    assert result.exit_code == 2
    assert "trainer.learning_rat: unknown SFTConfig option; did you mean 'learning_rate'?" in result.output


def test_handoff_command_needs_no_training(tmp_path):
    pairs = write_preference_run(tmp_path / "pairs", n=2)
    result = runner.invoke(app, ["handoff", str(pairs), "--out", str(tmp_path / "h")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "h/dataset_info.json").read_text())["tuneset_pairs"]["ranking"]


def test_flow_raises_the_input_error_without_retrying(tiny_model, tmp_path, monkeypatch):
    import alignment.run
    from alignment.config import SFTStageConfig
    from flows.training import sft_flow
    from pipelines.errors import InputError

    calls = []
    real = alignment.run.validate_data
    monkeypatch.setattr(alignment.run, "validate_data", lambda c: calls.append(1) or real(c))
    path = write_jsonl(tmp_path / "d.jsonl", [{"messages": [{"role": "user", "content": "q"}]}])
    config = SFTStageConfig(dataset=path, model=str(tiny_model), out=tmp_path / "out")
    with pytest.raises(InputError, match="no assistant turn"):
        sft_flow(config)
    assert calls == [1]
