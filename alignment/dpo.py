"""DPO: TRL's DPOTrainer on preference pairs against a frozen reference model.

The reference is `ref_model` when the config names one, else the base checkpoint (`model`)
loaded a second time. With LoRA and no `ref_model`, no second copy is loaded: TRL computes the
reference log-probs with the adapter disabled, which is the base checkpoint.
"""

from __future__ import annotations

from transformers import set_seed
from trl import DPOTrainer

from alignment.args import build_trl_args
from alignment.base_model import load_tokenizer_for, resolve_model
from alignment.common import BuiltTrainer, load_causal_lm
from alignment.config import DPOStageConfig
from alignment.data import TrainingData, split


def build_dpo_trainer(config: DPOStageConfig, data: TrainingData) -> BuiltTrainer:
    args = build_trl_args(config, config.checkpoints_dir())
    train, held = split(data.dataset, config.eval_fraction, config.seed)
    set_seed(config.seed)
    path = resolve_model(config.model)
    trust = config.trust_remote_code
    tokenizer = load_tokenizer_for(path, trust_remote_code=trust)
    model = load_causal_lm(path, tokenizer, trust_remote_code=trust)
    ref_path = resolve_model(config.ref_model) if config.ref_model else path
    ref = None
    if config.lora is None or config.ref_model is not None:
        ref = load_causal_lm(ref_path, tokenizer, trust_remote_code=trust)
    peft_config = config.lora.peft_config("CAUSAL_LM") if config.lora else None
    trainer = DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=train,
                         eval_dataset=held, processing_class=tokenizer, peft_config=peft_config)
    rows = {"train": len(trainer.train_dataset), "eval": len(held) if held is not None else 0,
            "dropped": len(train) - len(trainer.train_dataset)}
    return BuiltTrainer(trainer, tokenizer, path, rows, evaluate=held is not None,
                        extra={"ref_model": ref_path if ref is not None else "base (adapter off)"})
