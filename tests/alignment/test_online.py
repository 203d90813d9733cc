import pytest
from transformers import AutoModelForCausalLM

from alignment.common import run_trainer
from alignment.config import GRPOStageConfig, RLOOStageConfig
from alignment.data import load_any
from alignment.grpo import build_grpo_trainer
from alignment.rloo import build_rloo_trainer

from .helpers import trainable, unchanged, write_preference_run
from .test_ppo import _scorer


@pytest.mark.parametrize(("config_cls", "build"), [(GRPOStageConfig, build_grpo_trainer),
                                                   (RLOOStageConfig, build_rloo_trainer)],
                         ids=["grpo", "rloo"])
def test_online_stage_trains_every_parameter_with_the_reward_model(tiny_model, tmp_path,
                                                                   config_cls, build):
    config = config_cls(dataset=write_preference_run(tmp_path / "data", n=4),
                        model=str(tiny_model), reward_model=str(_scorer(tiny_model, tmp_path / "rm")),
                        out=tmp_path / "out", max_steps=2, max_length=64,
                        trainer={"learning_rate": 1e-3, "max_completion_length": 6})
    built = build(config, load_any(config.dataset))
    before = trainable(built.trainer.model)
    result = run_trainer(built, stage=config.stage, out=config.output_dir())
    assert unchanged(before, built.trainer.model) == []
    assert result.steps == 2 and "reward" in result.log_history[0]
    model = AutoModelForCausalLM.from_pretrained(result.model_dir)
    ids = built.tokenizer("Hi", return_tensors="pt")
    assert model.generate(**ids, max_new_tokens=2, do_sample=False).shape[1] == ids["input_ids"].shape[1] + 2
