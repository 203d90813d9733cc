import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from alignment.common import run_trainer
from alignment.config import DPOStageConfig
from alignment.data import load_preferences
from alignment.dpo import build_dpo_trainer

from .helpers import fell, logged, trainable, unchanged, write_preference_run


@pytest.fixture(scope="module")
def dpo(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("dpo")
    config = DPOStageConfig(dataset=write_preference_run(root / "data", n=8),
                            model=str(tiny_model), out=root / "out", max_steps=6, max_length=48,
                            trainer={"learning_rate": 5e-3, "per_device_train_batch_size": 8,
                                     "beta": 0.5})
    built = build_dpo_trainer(config, load_preferences(config.dataset))
    before = trainable(built.trainer.model)
    ref_before = trainable(built.trainer.ref_model) if built.trainer.ref_model else {}
    result = run_trainer(built, stage="dpo", out=config.output_dir())
    return built, before, ref_before, result


def test_loss_falls_when_overfitting_8_pairs(dpo):
    *_, result = dpo
    losses = logged(result.log_history)
    assert fell(losses) and losses[-1] < 0.69


def test_every_policy_parameter_changed_and_the_reference_did_not(dpo):
    built, before, ref_before, _ = dpo
    assert unchanged(before, built.trainer.model) == []
    assert built.trainer.ref_model is not None, "an explicit reference model (the base checkpoint)"
    ref = dict(built.trainer.ref_model.named_parameters())
    assert all((ref[n].detach() == p).all() for n, p in ref_before.items())


def test_saved_model_reloads_and_generates(dpo):
    *_, result = dpo
    model = AutoModelForCausalLM.from_pretrained(result.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(result.model_dir)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Is 4 even?"}],
                                        add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)
    assert model.generate(**ids, max_new_tokens=3, do_sample=False).shape[1] > ids["input_ids"].shape[1]
