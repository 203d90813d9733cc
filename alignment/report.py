"""The training report: what was trained on what, how the loss went, and with which versions.

    <out>/report.json        stage, base model, data files with sha256, config and its sha256,
                             rows (train / eval / dropped), final metrics, steps, seconds per
                             step, device, package versions (trl, transformers, torch, peft ...)
    <out>/loss.png           the logged loss per step (PPO: policy and value loss, mean
                             score; GRPO/RLOO: loss and mean reward)
    <out>/log_history.jsonl  every record TRL logged, one JSON object a line

A run folder with `model/` and `report.json` is what `model:` / `reward_model:` accept.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from pathlib import Path
from typing import Any

from alignment.common import TrainResult
from alignment.config import TrainStageConfig
from alignment.data import TrainingData
from alignment.registry import get_stage
from pipelines.io import atomic_path, package_versions, write_json, write_text


def config_sha256(config: TrainStageConfig) -> str:
    return hashlib.sha256(config.model_dump_json().encode()).hexdigest()


def curve_points(log_history: list[dict[str, Any]], key: str) -> list[tuple[int, float]]:
    return [(int(h["step"]), float(h[key])) for h in log_history
            if key in h and "step" in h and isinstance(h[key], (int, float))
            and math.isfinite(h[key])]


def plot_curves(stage: str, log_history: list[dict[str, Any]], path: Path) -> bool:
    """One panel per curve of the stage (`TrainingStage.curves`) that has points; False (and
    no file) when nothing was logged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [(k, curve_points(log_history, k)) for k in get_stage(stage).curves]
    curves = [(k, pts) for k, pts in curves if pts]
    if not curves:
        return False
    fig, axes = plt.subplots(1, len(curves), figsize=(4.5 * len(curves), 3.2), squeeze=False)
    for ax, (key, pts) in zip(axes[0], curves):
        steps, values = zip(*pts)
        ax.plot(steps, values, marker="o" if len(pts) < 30 else None, markersize=3)
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    fig.suptitle(f"tuneset train {stage}")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return True


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_report(result: TrainResult, config: TrainStageConfig, data: TrainingData) -> dict:
    out = result.out
    lines = "".join(json.dumps({k: _jsonable(v) for k, v in h.items()}) + "\n"
                    for h in result.log_history)
    write_text(out / "log_history.jsonl", lines)
    plotted = plot_curves(result.stage, result.log_history, out / "loss.png")
    report = {
        "stage": result.stage,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "base_model": result.base_model,
        "model_dir": str(result.model_dir),
        "adapter_dir": str(result.adapter_dir) if result.adapter_dir else None,
        "data": {"source": str(config.dataset), "kind": data.kind, "files": data.files},
        "config": config.model_dump(mode="json"),
        "config_sha256": config_sha256(config),
        "rows": result.rows,
        "steps": result.steps,
        "seconds": round(result.seconds, 3),
        "seconds_per_step": (round(result.seconds_per_step, 4)
                             if result.seconds_per_step is not None else None),
        "metrics": {k: _jsonable(v) for k, v in result.metrics.items()},
        "loss_curve": "loss.png" if plotted else None,
        "device": _device(),
        "versions": package_versions(),
        **result.extra,
    }
    write_json(out / "report.json", report)
    return report
