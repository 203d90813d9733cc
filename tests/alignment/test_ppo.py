import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForSequenceClassification

from alignment.common import run_trainer
from alignment.config import PPOStageConfig
from alignment.data import load_any
from alignment.ppo import build_ppo_trainer
from pipelines.errors import ConfigError

from .helpers import trainable, unchanged, write_instruction_run, write_preference_run


def _scorer(tiny_model, folder, *, vocab_size=None):
    """A one-label classifier on the tiny model's config, as the reward stage would save it."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(tiny_model, num_labels=1)
    if vocab_size is not None:
        config.vocab_size = vocab_size
    torch.manual_seed(1)
    model = LlamaForSequenceClassification(config)
    model.save_pretrained(folder)
    if vocab_size is None:
        AutoTokenizer.from_pretrained(tiny_model).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def ppo(tiny_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("ppo")
    config = PPOStageConfig(dataset=write_instruction_run(root / "data", n=8),
                            model=str(tiny_model), reward_model=str(_scorer(tiny_model, root / "rm")),
                            out=root / "out", max_steps=2, max_length=64,
                            trainer={"learning_rate": 1e-3, "response_length": 6})
    built = build_ppo_trainer(config, load_any(config.dataset))
    wrapper = built.trainer.model
    before = trainable(wrapper.policy)
    value_before = trainable(wrapper.value_model)
    result = run_trainer(built, stage="ppo", out=config.output_dir())
    return built, before, value_before, result


def test_every_policy_and_value_parameter_changed(ppo):
    built, before, value_before, result = ppo
    assert result.steps == 2
    assert unchanged(before, built.trainer.model.policy) == []
    assert unchanged(value_before, built.trainer.model.value_model) == []


def test_prompts_are_left_padded_chat_prompts(ppo):
    built = ppo[0]
    tokenizer = built.tokenizer
    assert tokenizer.padding_side == "left" and tokenizer.pad_token_id != tokenizer.eos_token_id
    text = tokenizer.decode(built.trainer.train_dataset[0]["input_ids"])
    assert text.endswith("<|im_start|>assistant\n") and "Be brief." in text


def test_saved_policy_reloads_and_generates(ppo):
    result = ppo[3]
    model = AutoModelForCausalLM.from_pretrained(result.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(result.model_dir)
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}],
                                        add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)
    assert model.generate(**ids, max_new_tokens=3, do_sample=False).shape[1] > ids["input_ids"].shape[1]
    assert "objective/scores" in result.metrics


def test_reward_model_with_another_vocabulary_is_a_config_error(tiny_model, tmp_path):
    config = PPOStageConfig(dataset=write_preference_run(tmp_path / "data", n=4),
                            model=str(tiny_model),
                            reward_model=str(_scorer(tiny_model, tmp_path / "rm", vocab_size=512)),
                            out=tmp_path / "out", max_steps=1)
    with pytest.raises(ConfigError, match="reward_model: .* 512 token embeddings"):
        build_ppo_trainer(config, load_any(config.dataset))
