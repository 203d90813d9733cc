"""Adding a training stage is one registry entry: config loading, TRL arguments, the Prefect
flow and the `tuneset train` command all follow from it."""

import json
from typing import ClassVar

import pytest
import yaml
from typer.testing import CliRunner

from alignment.args import build_trl_args
from alignment.config import SFTStageConfig, TrainStageConfig
from alignment.registry import STAGES, TrainingStage, get_stage, register, unregister
from alignment.run import load_train_config, train_config
from pipelines.errors import ConfigError

from .helpers import write_instruction_run

runner = CliRunner()


class EchoStageConfig(TrainStageConfig):
    """A throw-away stage: SFT under another name, with a field of its own."""

    stage: ClassVar[str] = "echo"
    note: str = ""


def build_echo_trainer(config: EchoStageConfig, data):
    from alignment.sft import build_sft_trainer

    return build_sft_trainer(config, data)


ECHO = dict(trl_config=("trl", "SFTConfig"), builder=(__name__, "build_echo_trainer"),
            data="instructions", help="Echo: SFT under another name.",
            defaults={"completion_only_loss": True, "lr_scheduler_type": "constant"})


@pytest.fixture
def echo():
    stage = register(TrainingStage("echo", EchoStageConfig, **ECHO))
    yield stage
    unregister("echo")


def _config_file(path, **fields):
    path.write_text(yaml.safe_dump({k: str(v) for k, v in fields.items()}))
    return path


def test_a_registered_stage_loads_from_a_file_or_a_mapping(echo, tmp_path):
    write_instruction_run(tmp_path / "data", n=2)
    config = load_train_config(_config_file(tmp_path / "echo.yaml", dataset="data", out="o",
                                            note="hi"), "echo")
    assert isinstance(config, EchoStageConfig) and config.note == "hi"
    assert config.dataset == tmp_path / "data" and config.out == tmp_path / "o"
    section = train_config({"dataset": "data", "out": "o", "note": "hi"}, "echo",
                           base_dir=tmp_path)
    assert section == config


def test_a_mapping_section_names_its_problems_with_the_prefix(echo, tmp_path):
    write_instruction_run(tmp_path / "data", n=2)
    with pytest.raises(ConfigError) as err:
        train_config({"dataset": "data", "out": "o", "nte": 1}, "echo", base_dir=tmp_path,
                     prefix="train[0]")
    assert "train[0].nte: unknown field" in str(err.value) and "note" in str(err.value)
    with pytest.raises(ConfigError, match=r"train\[0\]\.trainer\.lerning_rate: unknown SFTConfig"):
        train_config({"dataset": "data", "out": "o", "trainer": {"lerning_rate": 1}}, "echo",
                     base_dir=tmp_path, prefix="train[0]")


def test_a_registered_stage_gets_its_trl_config_with_its_defaults(echo, tmp_path):
    config = EchoStageConfig(dataset=write_instruction_run(tmp_path / "data", n=2), max_steps=2,
                             max_length=64)
    args = build_trl_args(config, tmp_path / "o")
    assert type(args).__name__ == "SFTConfig"
    assert args.lr_scheduler_type == "constant" and args.completion_only_loss is True
    assert (args.max_steps, args.max_length) == (2, 64)


@pytest.mark.usefixtures("prefect_harness")
def test_a_registered_stage_trains_through_its_generated_command_and_flow(echo, tiny_model,
                                                                          tmp_path):
    from flows.cli import app
    from flows.training import training_flow

    listing = runner.invoke(app, ["train", "--help"], terminal_width=200)
    assert "echo" in listing.output and "Echo: SFT under another name." in listing.output
    usage = runner.invoke(app, ["train", "echo", "--help"], terminal_width=200)
    assert usage.exit_code == 0 and "CONFIG" in usage.output.upper() and "--out" in usage.output
    flow = training_flow("echo")
    assert flow.name == "tuneset-train-echo" and flow.description == echo.help

    write_instruction_run(tmp_path / "data", n=4)
    config = _config_file(tmp_path / "echo.yaml", dataset="data", model=tiny_model,
                          max_steps=1, max_length=64)
    result = runner.invoke(app, ["train", "echo", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["stage"] == "echo" and report["steps"] == 1
    assert report["config"]["note"] == "" and (tmp_path / "out/model/config.json").exists()


def test_an_unregistered_stage_is_gone_everywhere(tmp_path):
    from flows.cli import app

    register(TrainingStage("echo", EchoStageConfig, **ECHO))
    unregister("echo")
    assert "echo" not in runner.invoke(app, ["train", "--help"]).output
    with pytest.raises(ConfigError, match="stage: expected one of"):
        get_stage("echo")
    with pytest.raises(AttributeError):
        import flows.training

        flows.training.echo_flow  # noqa: B018


def test_an_entry_must_agree_with_its_config_class():
    with pytest.raises(ValueError, match="SFTStageConfig.stage is 'sft', expected 'other'"):
        TrainingStage("other", SFTStageConfig, **ECHO)
    with pytest.raises(ValueError, match="data: expected one of"):
        TrainingStage("echo", EchoStageConfig, **{**ECHO, "data": "pairs"})


def test_a_name_is_registered_once(echo):
    with pytest.raises(ValueError, match="'echo' is registered already"):
        register(TrainingStage("echo", EchoStageConfig, **ECHO))


@pytest.mark.parametrize("name", ["sft", "reward", "dpo", "ppo", "grpo", "rloo"])
def test_every_built_in_stage_imports_its_trl_config_and_builder(name):
    import importlib

    stage = STAGES[name]
    assert stage.trl_config_class().__name__ == stage.trl_config[1]
    module, function = stage.builder
    assert callable(getattr(importlib.import_module(module), function))
