"""PPO: TRL 1.12's `trl.experimental.ppo.PPOTrainer` (removed from later TRL releases).

Wiring, as TRL's PPO expects it:

- policy: `model` (usually the SFT result), a causal LM; with `lora:` only an adapter trains;
- reference policy: `ref_model`, else `model` loaded again and frozen (with LoRA and no
  `ref_model`: the policy with its adapter disabled);
- reward model: `reward_model`, the reward stage's output (a one-label sequence classifier);
- value model: `value_model`, else initialised from the reward model (TRL's recipe), trained
  together with the policy;
- train set: the prompts, chat template applied with the assistant header, tokenized, padded
  on the left. Prompts longer than `max_length - response_length` tokens are dropped (counted).

All four models must share the policy's tokenizer: the reward and value models read the
policy's token ids. A reward model with another vocabulary is a config error.

A "step" is one PPO batch (rollout + `num_ppo_epochs` of updates); `max_steps` sets TRL's
`total_episodes` to max_steps x per_device_train_batch_size x gradient_accumulation_steps.
"""

from __future__ import annotations

import warnings

import datasets
from transformers import AutoTokenizer, set_seed

from alignment.args import build_trl_args, trl_config_class
from alignment.base_model import load_tokenizer_for, resolve_model
from alignment.common import BuiltTrainer, load_causal_lm, load_scorer
from alignment.config import PPOStageConfig
from alignment.data import TrainingData, split
from pipelines.errors import ConfigError, InputError
from pipelines.models.chat_tokens import chat_token_ids

# subtle: TRL logs the variance of the PPO ratio over (ppo epochs x minibatches x accumulation);
# with tuneset's CPU default of one of each it is a variance of one number (logged as NaN).
warnings.filterwarnings("ignore", message=r"var\(\): degrees of freedom", category=UserWarning)


def tokenize_prompts(data: TrainingData, tokenizer, max_prompt: int) -> tuple[datasets.Dataset, int]:
    """(`input_ids` of each prompt that fits in `max_prompt` tokens, how many did not).

    Only the chat template's markers become special tokens: a special-token string inside a
    prompt (`<|im_start|>` in user data) is tokenized as plain text (`chat_token_ids`)."""
    kept, dropped = [], 0
    for prompt in data.dataset["prompt"]:
        ids = chat_token_ids(tokenizer, prompt)
        if len(ids) <= max_prompt:
            kept.append(list(ids))
        else:
            dropped += 1
    return datasets.Dataset.from_dict({"input_ids": kept}), dropped


def _check_vocab(name: str, path: str, tokenizer, model) -> None:
    size = model.get_input_embeddings().num_embeddings
    if size < len(tokenizer):
        raise ConfigError([f"{name}: {path} has {size} token embeddings but the policy's "
                           f"tokenizer has {len(tokenizer)} tokens; PPO needs one tokenizer for "
                           "policy, reward and value models (train the reward model from the "
                           "same base)"])
    try:
        other = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError):
        return  # a model folder without a tokenizer: the size check is all we can do
    if other.get_vocab() != tokenizer.get_vocab():
        raise ConfigError([f"{name}: the tokenizer saved with {path} differs from the policy's; "
                           "PPO needs one tokenizer for policy, reward and value models"])


def ppo_trainer_class() -> type:
    """trl.experimental.ppo.PPOTrainer (importing its PPOConfig through the registry first
    silences TRL's experimental-API warning: tuneset pins TRL 1.12 for exactly this trainer)."""
    trl_config_class("ppo")
    from trl.experimental.ppo import PPOTrainer

    return PPOTrainer


def build_ppo_trainer(config: PPOStageConfig, data: TrainingData) -> BuiltTrainer:
    args = build_trl_args(config, config.checkpoints_dir())
    set_seed(config.seed)
    trust = config.trust_remote_code
    path = resolve_model(config.model)
    reward_path = resolve_model(config.reward_model)
    value_path = resolve_model(config.value_model) if config.value_model else reward_path
    args.sft_model_path, args.reward_model_path = path, reward_path
    tokenizer = load_tokenizer_for(path, trust_remote_code=trust, padding_side="left")

    prompts, too_long = tokenize_prompts(data, tokenizer, config.max_length - args.response_length)
    if len(prompts) == 0:
        raise InputError(f"every prompt is longer than max_length - response_length = "
                         f"{config.max_length - args.response_length} tokens; raise max_length",
                         file=config.dataset, field="prompt")
    train, held = split(prompts, config.eval_fraction, config.seed)

    policy = load_causal_lm(path, tokenizer, trust_remote_code=trust)
    ref_path = resolve_model(config.ref_model) if config.ref_model else path
    ref = None
    if config.lora is None or config.ref_model is not None:
        ref = load_causal_lm(ref_path, tokenizer, trust_remote_code=trust)
    reward = load_scorer(reward_path, tokenizer, trust_remote_code=trust)
    value = load_scorer(value_path, tokenizer, trust_remote_code=trust)
    _check_vocab("reward_model", reward_path, tokenizer, reward)
    if value_path != reward_path:
        _check_vocab("value_model", value_path, tokenizer, value)
    peft_config = config.lora.peft_config("CAUSAL_LM") if config.lora else None
    # subtle: PPOTrainer always builds an eval dataloader; without a held-out split it samples
    # from the train prompts (only used when num_sample_generations > 0).
    trainer = ppo_trainer_class()(args=args, processing_class=tokenizer, model=policy, ref_model=ref,
                         reward_model=reward, value_model=value, train_dataset=train,
                         eval_dataset=held if held is not None else train,
                         peft_config=peft_config)
    rows = {"train": len(train), "eval": len(held) if held is not None else 0,
            "dropped": too_long}
    return BuiltTrainer(
        trainer, tokenizer, path, rows, evaluate=False,
        final_model=lambda t: t.accelerator.unwrap_model(t.model).policy,
        extra={"reward_model": reward_path, "value_model": value_path,
               "ref_model": ref_path if ref is not None else "base (adapter off)"})
