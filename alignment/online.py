"""What GRPO and RLOO share: prompts in, completions sampled online, scored by the reward
stage's model (passed to TRL as the reward function), no value model.

TRL's GRPOTrainer and RLOOTrainer both take `reward_funcs=<a one-label sequence classifier>`
with its own tokenizer (`reward_processing_classes`): completions are decoded and re-tokenized
for the reward model, so unlike PPO it may use another vocabulary. Each prompt is sampled
`num_generations` times (tuneset's CPU default 4, completions of up to 32 tokens); the
batch holds `per_device_train_batch_size` completions, so 4 = one prompt per step.
"""

from __future__ import annotations

from transformers import set_seed

from alignment.args import build_trl_args
from alignment.base_model import load_tokenizer_for, resolve_model
from alignment.common import BuiltTrainer, load_causal_lm, load_scorer
from alignment.config import OnlineStageConfig
from alignment.data import TrainingData, split
from pipelines.errors import InputError


def build_online_trainer(trainer_cls, config: OnlineStageConfig, data: TrainingData) -> BuiltTrainer:
    args = build_trl_args(config, config.checkpoints_dir())
    set_seed(config.seed)
    trust = config.trust_remote_code
    path = resolve_model(config.model)
    reward_path = resolve_model(config.reward_model)
    tokenizer = load_tokenizer_for(path, trust_remote_code=trust, padding_side="left")
    reward_tokenizer = load_tokenizer_for(reward_path, trust_remote_code=trust)

    limit = config.max_length - args.max_completion_length
    prompts = data.dataset.select_columns(["prompt"])
    fits = [len(tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=True,
                                              return_dict=False)) <= limit
            for p in prompts["prompt"]]
    prompts = prompts.select([i for i, ok in enumerate(fits) if ok])
    if len(prompts) == 0:
        raise InputError(f"every prompt is longer than max_length - max_completion_length = "
                         f"{limit} tokens; raise max_length", file=config.dataset, field="prompt")
    train, held = split(prompts, config.eval_fraction, config.seed)

    policy = load_causal_lm(path, tokenizer, trust_remote_code=trust)
    reward = load_scorer(reward_path, reward_tokenizer, trust_remote_code=trust)
    peft_config = config.lora.peft_config("CAUSAL_LM") if config.lora else None
    trainer = trainer_cls(model=policy, reward_funcs=reward, args=args, train_dataset=train,
                          eval_dataset=held, processing_class=tokenizer,
                          reward_processing_classes=reward_tokenizer, peft_config=peft_config)
    rows = {"train": len(train), "eval": len(held) if held is not None else 0,
            "dropped": len(fits) - len(prompts)}
    return BuiltTrainer(trainer, tokenizer, path, rows, evaluate=held is not None,
                        extra={"reward_model": reward_path})
