import json

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from alignment.common import run_trainer
from alignment.config import RewardStageConfig
from alignment.data import load_preferences
from alignment.reward import build_reward_trainer
from alignment.run import run_training

from .helpers import fell, logged, trainable, unchanged, write_preference_run


@pytest.fixture(scope="module")
def overfit(tiny_model, tmp_path_factory):
    """8 pairs, no held-out split, a high learning rate: the loss must fall."""
    root = tmp_path_factory.mktemp("reward")
    config = RewardStageConfig(dataset=write_preference_run(root / "data", n=8),
                               model=str(tiny_model), out=root / "out", eval_fraction=0,
                               max_steps=16, max_length=64,
                               trainer={"learning_rate": 3e-3, "per_device_train_batch_size": 8})
    built = build_reward_trainer(config, load_preferences(config.dataset))
    before = trainable(built.trainer.model)
    result = run_trainer(built, stage="reward", out=config.output_dir())
    return built, before, result, config


def test_loss_falls_when_overfitting_8_pairs(overfit):
    result = overfit[2]
    assert fell(logged(result.log_history))


def test_every_parameter_changed_including_the_score_head(overfit):
    built, before = overfit[:2]
    assert "score.weight" in before
    assert unchanged(before, built.trainer.model) == []


def test_saved_reward_model_reloads_and_prefers_chosen(overfit):
    _, _, result, config = overfit
    model = AutoModelForSequenceClassification.from_pretrained(result.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(result.model_dir)
    assert model.config.num_labels == 1 and model.config.pad_token_id == tokenizer.pad_token_id

    def score(messages):
        ids = tokenizer.apply_chat_template(messages, return_tensors="pt", return_dict=True)
        with torch.no_grad():
            return model(**ids).logits[0, 0].item()

    pairs = load_preferences(config.dataset).dataset
    wins = [score(p["prompt"] + p["chosen"]) > score(p["prompt"] + p["rejected"]) for p in pairs]
    assert sum(wins) / len(wins) >= 0.75


def test_run_reports_held_out_pairwise_accuracy(tiny_model, tmp_path):
    config = RewardStageConfig(dataset=write_preference_run(tmp_path / "data", n=10),
                               model=str(tiny_model), out=tmp_path / "out", eval_fraction=0.2,
                               max_steps=2, max_length=64)
    summary = run_training(config)
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report == summary["report"]
    assert report["rows"] == {"train": 8, "eval": 2, "dropped": 0}
    assert report["metrics"]["pairwise_accuracy"] in (0.0, 0.5, 1.0)
    assert report["metrics"]["pairwise_accuracy"] == report["metrics"]["eval_accuracy"]
