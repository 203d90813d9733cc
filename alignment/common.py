"""What every training stage shares: loading models, running a TRL trainer, saving the result.

A run folder after training:

    <out>/model/         the trained model, always a plain folder `from_pretrained` reads
                         (with LoRA: the adapter merged into the base weights)
    <out>/adapter/       the LoRA adapter alone (only with `lora:`)
    <out>/checkpoints/   TRL's output_dir, kept only when it holds something (checkpoints,
                         when `trainer.save_strategy` asks for them)
    <out>/report.json, loss.png, log_history.jsonl     see `alignment.report`
    <out>/handoff/       see `alignment.handoff`
"""

from __future__ import annotations

import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignment.base_model import prepare_tokenizer

# subtle: PEFT 0.21 reads `model.is_gradient_checkpointing`, which transformers 5 renamed and
# warns about on every LoRA run; the setting itself is `activation_checkpointing` (alignment.args).
warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated",
                        category=FutureWarning)


@dataclass
class TrainResult:
    stage: str
    out: Path
    model_dir: Path
    adapter_dir: Path | None
    base_model: str
    log_history: list[dict[str, Any]]
    metrics: dict[str, Any]
    rows: dict[str, int]
    seconds: float
    steps: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds_per_step(self) -> float | None:
        return self.seconds / self.steps if self.steps else None


@dataclass
class BuiltTrainer:
    """A TRL trainer ready to train, with what `run_trainer` needs to finish the job."""

    trainer: Any
    tokenizer: Any
    base_model: str
    rows: dict[str, int]
    evaluate: bool
    final_model: Callable[[Any], Any] = lambda trainer: trainer.model
    extra: dict[str, Any] = field(default_factory=dict)
    metric_aliases: dict[str, str] = field(default_factory=dict)  # name -> the metric it copies


def load_causal_lm(path: str, tokenizer, *, trust_remote_code: bool = False):
    """fp32 weights (mixed precision, when on, comes from the trainer's autocast)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                 trust_remote_code=trust_remote_code)
    prepare_tokenizer(tokenizer, model)
    return model


def load_scorer(path: str, tokenizer, *, trust_remote_code: bool = False):
    """A one-label sequence classifier (a reward or value model). From a causal LM folder the
    `score` head is new (seeded by the caller's `set_seed`); from a reward folder it is kept."""
    import torch
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(
        path, num_labels=1, dtype=torch.float32, trust_remote_code=trust_remote_code)
    prepare_tokenizer(tokenizer, model)
    return model


def save_model(model, tokenizer, out: Path) -> tuple[Path, Path | None]:
    """Save `model` to `<out>/model`; a PEFT model also saves its adapter to `<out>/adapter`
    and is merged into its base weights first, so `<out>/model` always loads on its own."""
    from peft import PeftModel

    adapter_dir = None
    if (out / "adapter").is_dir() and not isinstance(model, PeftModel):
        shutil.rmtree(out / "adapter")  # from an earlier LoRA run into the same folder
    if isinstance(model, PeftModel):
        adapter_dir = out / "adapter"
        model.save_pretrained(adapter_dir)
        tokenizer.save_pretrained(adapter_dir)
        model = model.merge_and_unload()
    model_dir = out / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model_dir, adapter_dir


def remove_if_empty(folder: Path) -> None:
    """Delete `folder` when no file lies anywhere under it (empty sub-folders do not count)."""
    if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
        shutil.rmtree(folder)


def run_trainer(built: BuiltTrainer, *, stage: str, out: Path) -> TrainResult:
    """train(), evaluate() on the held-out split when there is one, save, collect metrics.
    TRL's output_dir, made when the trainer was built, is removed again if nothing went in."""
    try:
        return _train_and_save(built, stage=stage, out=out)
    finally:
        remove_if_empty(Path(built.trainer.args.output_dir))


def _train_and_save(built: BuiltTrainer, *, stage: str, out: Path) -> TrainResult:
    trainer = built.trainer
    # a folder with report.json is a finished run (base_model.is_run_folder): not until this
    # run has finished too
    (out / "report.json").unlink(missing_ok=True)
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    history = list(trainer.state.log_history)
    if output is not None:
        metrics: dict[str, Any] = dict(output.metrics)
    else:  # PPOTrainer.train() returns nothing: its last log record holds the final figures
        metrics = dict(history[-1]) if history else {}
    if built.evaluate:
        metrics.update(trainer.evaluate())
    for alias, key in built.metric_aliases.items():
        metrics[alias] = metrics.get(key)
    model_dir, adapter_dir = save_model(built.final_model(trainer), built.tokenizer, out)
    return TrainResult(stage=stage, out=out, model_dir=model_dir, adapter_dir=adapter_dir,
                       base_model=built.base_model, log_history=history,
                       metrics=metrics, rows=built.rows, seconds=seconds,
                       steps=int(trainer.state.global_step), extra=dict(built.extra))
