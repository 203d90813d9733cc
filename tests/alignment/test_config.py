from pathlib import Path

import pytest

from alignment.args import build_trl_args, check_trainer_options
from alignment.config import DPOStageConfig, PPOStageConfig, RewardStageConfig, SFTStageConfig
from alignment.registry import STAGES
from alignment.run import load_train_config
from pipelines.errors import ConfigError

from .helpers import write_instruction_run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dataset(tmp_path):
    return write_instruction_run(tmp_path / "run", n=2)


def test_cpu_defaults(dataset, tmp_path):
    args = build_trl_args(SFTStageConfig(dataset=dataset, max_steps=3), tmp_path / "o")
    assert (args.use_cpu, args.bf16, args.fp16, args.gradient_checkpointing) == (True, False, False, False)
    assert args.activation_checkpointing is False
    assert args.report_to in ([], ["none"], "none") and args.dataloader_num_workers == 0
    assert args.max_steps == 3 and args.completion_only_loss is True and args.max_length == 512


def test_trainer_options_pass_through(dataset, tmp_path):
    config = DPOStageConfig(dataset=dataset, trainer={"beta": 0.3, "learning_rate": 1e-5})
    args = build_trl_args(config, tmp_path / "o")
    assert (args.beta, args.learning_rate) == (0.3, 1e-5)


def test_misspelt_trainer_option_names_field_and_fix(dataset):
    problems = check_trainer_options(SFTStageConfig(dataset=dataset, trainer={"lerning_rate": 1}))
    assert problems == ["trainer.lerning_rate: unknown SFTConfig option; did you mean "
                        "'learning_rate'? (got 1)"]


def test_mistyped_trainer_option(dataset):
    problems = check_trainer_options(RewardStageConfig(dataset=dataset, trainer={"bf16": "yes"}))
    assert problems == ["trainer.bf16: expected bool | None, got 'yes'"]


def test_trl_own_validation_becomes_a_config_error(dataset):
    problems = check_trainer_options(SFTStageConfig(dataset=dataset,
                                                    trainer={"lr_scheduler_type": "bogus"}))
    assert len(problems) == 1 and problems[0].startswith("trainer: SFTConfig refused")
    assert "bogus" in problems[0]


def test_fields_tuneset_owns_are_refused_in_trainer(dataset):
    problems = check_trainer_options(SFTStageConfig(dataset=dataset, trainer={"seed": 1,
                                                                              "output_dir": "x"}))
    assert "trainer.seed: set by the top-level `seed` field" in problems[0]
    assert "trainer.output_dir: set by the top-level `out` field" in problems[1]


def test_ppo_max_steps_sets_total_episodes(dataset, tmp_path):
    config = PPOStageConfig(dataset=dataset, reward_model=str(dataset), max_steps=5,
                            trainer={"per_device_train_batch_size": 2,
                                     "gradient_accumulation_steps": 3})
    args = build_trl_args(config, tmp_path / "o")
    assert args.total_episodes == 30 and args.stop_token == "eos"


def test_missing_model_folder_is_a_field_error(dataset, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"dataset: {dataset}\nmodel: ./no-such-model\nout: o\n")
    with pytest.raises(ConfigError) as err:
        load_train_config(path, "sft")
    assert "model: no such model folder" in str(err.value)


def test_unknown_field_lists_the_allowed_ones(dataset, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"dataset: {dataset}\nout: o\nlora: {{rank: 8}}\n")
    with pytest.raises(ConfigError) as err:
        load_train_config(path, "sft")
    assert "lora.rank: unknown field; allowed: r, alpha, dropout, target_modules" in str(err.value)


def test_out_comes_from_the_file_or_the_override(dataset, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(f"dataset: {dataset}\n")
    with pytest.raises(ConfigError, match="out: required field is missing"):
        load_train_config(path, "sft")
    config = load_train_config(path, "sft", out=tmp_path / "elsewhere")
    assert config.output_dir() == tmp_path / "elsewhere"


def test_section_of_a_larger_file_and_relative_paths(dataset, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("dpo:\n  dataset: run\n  out: trained\n  trainer: {beta: 0.2}\n")
    config = load_train_config(path, "dpo")
    assert config.dataset == dataset and config.out == tmp_path / "trained"


@pytest.mark.parametrize("stage", ["sft", "reward", "dpo", "ppo", "grpo"])
def test_example_configs_parse(stage):
    from pipelines.config import read_yaml

    data, problems = read_yaml(REPO / f"configs/train_{stage}.yaml")
    assert not problems and {"dataset", "out", "trainer"} <= set(data)
    config_cls = STAGES[stage].config
    unknown = set(data) - set(config_cls.model_fields)
    assert not unknown


def test_gradient_checkpointing_option_still_counts_without_a_warning(dataset, tmp_path):
    import warnings

    config = SFTStageConfig(dataset=dataset, trainer={"gradient_checkpointing": True})
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        args = build_trl_args(config, tmp_path / "o")
    assert args.gradient_checkpointing is True and args.activation_checkpointing is True


@pytest.mark.parametrize("stage", ["reward", "dpo"])
def test_example_configs_on_literal_pairs_load_completely(stage):
    config = load_train_config(REPO / f"configs/train_{stage}.yaml", stage)
    assert config.dataset == REPO / "configs/train_data/pairs.jsonl"
    assert config.model == "embedded"


def test_literal_pairs_are_valid_preference_records():
    from alignment.data import load_preferences
    from pipelines.records import PreferenceRecord

    path = REPO / "configs/train_data/pairs.jsonl"
    assert len(load_preferences(path)) == 24
    for line in path.read_text().splitlines():
        PreferenceRecord.model_validate_json(line)
