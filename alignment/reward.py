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

from trl import RewardTrainer

from alignment.common import BuiltTrainer, load_scorer
from alignment.config import RewardStageConfig
from alignment.data import TrainingData
from alignment.offline import offline_setup


def build_reward_trainer(config: RewardStageConfig, data: TrainingData) -> BuiltTrainer:
    setup = offline_setup(config, data)
    model = load_scorer(setup.path, setup.tokenizer, trust_remote_code=config.trust_remote_code)
    peft_config = config.lora.peft_config("SEQ_CLS") if config.lora else None
    trainer = RewardTrainer(model=model, peft_config=peft_config, **setup.trainer_kwargs())
    return setup.built(trainer, metric_aliases={"pairwise_accuracy": "eval_accuracy"})
