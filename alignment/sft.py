"""SFT: TRL's SFTTrainer on instruction records, loss on the assistant reply only.

How the prompt is masked: SmolLM2's chat template (like most) has no `{% generation %}`
markers, so TRL's `assistant_only_loss` cannot find the assistant tokens, and TRL 1.12 has no
patched training template for it. Records go to the trainer as conversational prompt/completion
pairs instead (`alignment.data`), and `completion_only_loss=True` sets the label of every
prompt token, chat-template scaffolding included, to -100:

    <|im_start|>system ... <|im_start|>user\\nWhat is 2+2?<|im_end|>\\n<|im_start|>assistant\\n   -> -100
    4<|im_end|>\\n                                                                       -> trained

Not here: packing (off: it would mix examples across the mask), loss on earlier assistant turns.
"""

from __future__ import annotations

from trl import SFTTrainer

from alignment.common import BuiltTrainer, load_causal_lm
from alignment.config import SFTStageConfig
from alignment.data import TrainingData
from alignment.offline import offline_setup


def build_sft_trainer(config: SFTStageConfig, data: TrainingData) -> BuiltTrainer:
    """The SFTTrainer for `config` on already validated `data`."""
    setup = offline_setup(config, data)
    model = load_causal_lm(setup.path, setup.tokenizer, trust_remote_code=config.trust_remote_code)
    peft_config = config.lora.peft_config("CAUSAL_LM") if config.lora else None
    trainer = SFTTrainer(model=model, peft_config=peft_config, **setup.trainer_kwargs())
    return setup.built(trainer)
