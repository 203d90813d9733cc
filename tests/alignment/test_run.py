import pytest

from alignment.config import PPOStageConfig, RewardStageConfig, SFTStageConfig
from alignment.run import run_training, train, validate_data
from pipelines.errors import InputError

from .helpers import write_instruction_run


def _sft(tiny_model, tmp_path, **trainer):
    return SFTStageConfig(dataset=write_instruction_run(tmp_path / "data", n=4),
                          model=str(tiny_model), out=tmp_path / "out", max_steps=1,
                          max_length=64, trainer=trainer)


def test_a_run_that_saves_no_checkpoint_leaves_no_checkpoints_folder(tiny_model, tmp_path):
    config = _sft(tiny_model, tmp_path)
    run_training(config)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "handoff", "log_history.jsonl", "loss.png", "model", "report.json"]


def test_saved_checkpoints_are_kept(tiny_model, tmp_path):
    result = train(_sft(tiny_model, tmp_path, save_strategy="steps", save_steps=1))
    assert (result.out / "checkpoints/checkpoint-1/trainer_state.json").exists()


def test_the_data_kind_comes_from_the_stage(tmp_path):
    run = write_instruction_run(tmp_path / "data", n=2)
    prompts = validate_data(PPOStageConfig(dataset=run, reward_model=str(run)))
    assert prompts.kind == "instruction" and len(prompts) == 2
    with pytest.raises(InputError, match="missing column"):
        validate_data(RewardStageConfig(dataset=run))
