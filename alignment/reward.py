"""Reward model: TRL's RewardTrainer on preference pairs, a one-label sequence-classification
head on the base model, pairwise accuracy measured on a held-out split.

The model is `AutoModelForSequenceClassification(num_labels=1)` loaded from the base causal LM
folder (the `score` head is new, seeded by `seed`); its pad id is set so the head reads the
last real token. The loss is TRL's Bradley-Terry `-log sigmoid(r_chosen - r_rejected)`.
`pairwise_accuracy` in the report is the share of held-out pairs with r_chosen > r_rejected
(TRL's `eval_accuracy`); with `eval_fraction: 0` there is no held-out split and no accuracy.

Not here: margins from `score_chosen - score_rejected` (TRL supports a `margin` column).
"""

from __future__ import annotations

from transformers import set_seed
from trl import RewardTrainer

from alignment.args import build_trl_args
from alignment.base_model import load_tokenizer_for, resolve_model
from alignment.common import BuiltTrainer, load_scorer
from alignment.config import RewardStageConfig
from alignment.data import TrainingData, split


def build_reward_trainer(config: RewardStageConfig, data: TrainingData) -> BuiltTrainer:
    args = build_trl_args(config, config.checkpoints_dir())
    train, held = split(data.dataset, config.eval_fraction, config.seed)
    set_seed(config.seed)
    path = resolve_model(config.model)
    tokenizer = load_tokenizer_for(path, trust_remote_code=config.trust_remote_code)
    model = load_scorer(path, tokenizer, trust_remote_code=config.trust_remote_code)
    peft_config = config.lora.peft_config("SEQ_CLS") if config.lora else None
    trainer = RewardTrainer(model=model, args=args, train_dataset=train, eval_dataset=held,
                            processing_class=tokenizer, peft_config=peft_config)
    rows = {"train": len(trainer.train_dataset), "eval": len(held) if held is not None else 0,
            "dropped": len(train) - len(trainer.train_dataset)}
    return BuiltTrainer(trainer, tokenizer, path, rows, evaluate=held is not None,
                        metric_aliases={"pairwise_accuracy": "eval_accuracy"})
