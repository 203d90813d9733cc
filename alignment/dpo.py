"""DPO: TRL's DPOTrainer on preference pairs against a frozen reference model.

The reference is `ref_model` when the config names one, else the base checkpoint (`model`)
loaded a second time. With LoRA and no `ref_model`, no second copy is loaded: TRL computes the
reference log-probs with the adapter disabled, which is the base checkpoint.
"""

from __future__ import annotations

from trl import DPOTrainer

from alignment.base_model import resolve_model
from alignment.common import BuiltTrainer, load_causal_lm
from alignment.config import DPOStageConfig
from alignment.data import TrainingData
from alignment.offline import offline_setup


def build_dpo_trainer(config: DPOStageConfig, data: TrainingData) -> BuiltTrainer:
    setup = offline_setup(config, data)
    trust = config.trust_remote_code
    model = load_causal_lm(setup.path, setup.tokenizer, trust_remote_code=trust)
    ref_path = resolve_model(config.ref_model) if config.ref_model else setup.path
    ref = None
    if config.lora is None or config.ref_model is not None:
        ref = load_causal_lm(ref_path, setup.tokenizer, trust_remote_code=trust)
    peft_config = config.lora.peft_config("CAUSAL_LM") if config.lora else None
    trainer = DPOTrainer(model=model, ref_model=ref, peft_config=peft_config,
                         **setup.trainer_kwargs())
    return setup.built(trainer,
                       extra={"ref_model": ref_path if ref is not None else "base (adapter off)"})
