from types import SimpleNamespace

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from alignment.common import run_trainer
from alignment.config import SFTStageConfig
from alignment.data import load_instructions
from alignment.run import train
from alignment.sft import build_sft_trainer
from pipelines.errors import InputError

from .helpers import fell, logged, trainable, unchanged, write_instruction_run, write_jsonl


def _train(tiny_model, root, **overrides):
    config = SFTStageConfig(**{"dataset": write_instruction_run(root / "data"),
                               "model": str(tiny_model), "out": root / "out", "max_steps": 6,
                               "max_length": 64, "trainer": {"learning_rate": 5e-3}, **overrides})
    built = build_sft_trainer(config, load_instructions(config.dataset))
    before = trainable(built.trainer.model)
    result = run_trainer(built, stage="sft", out=config.output_dir())
    return SimpleNamespace(config=config, built=built, before=before, result=result)


@pytest.fixture(scope="module")
def sft(tiny_model, tmp_path_factory):
    return _train(tiny_model, tmp_path_factory.mktemp("sft"))


def test_prompt_tokens_are_masked_in_the_collated_batch(sft):
    trainer, tokenizer = sft.built.trainer, sft.built.tokenizer
    rows = [trainer.train_dataset[i] for i in range(3)]
    batch = trainer.data_collator(rows)
    data = load_instructions(sft.config.dataset).dataset
    for i, labels in enumerate(batch["labels"].tolist()):
        prompt = tokenizer.apply_chat_template(data[i]["prompt"], add_generation_prompt=True,
                                               tokenize=True, return_dict=False)
        trained = [j for j, label in enumerate(labels) if label != -100]
        assert trained[0] == len(prompt), "every prompt token, and only those, is masked"
        text = tokenizer.decode([labels[j] for j in trained])
        assert text.startswith(data[i]["completion"][0]["content"] + "<|im_end|>")


def test_every_parameter_changed_and_loss_fell(sft):
    assert unchanged(sft.before, sft.built.trainer.model) == []
    assert len(sft.before) > 10
    assert fell(logged(sft.result.log_history))


def test_saved_model_reloads_and_generates(sft):
    model = AutoModelForCausalLM.from_pretrained(sft.result.model_dir)
    tokenizer = AutoTokenizer.from_pretrained(sft.result.model_dir)
    assert tokenizer.pad_token != tokenizer.eos_token
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "What is 1 plus 1?"}],
                                        add_generation_prompt=True, return_tensors="pt",
                                        return_dict=True)
    out = model.generate(**ids, max_new_tokens=4, do_sample=False)
    assert out.shape[1] > ids["input_ids"].shape[1]
    trained = dict(sft.built.trainer.model.named_parameters())
    for name, param in model.named_parameters():
        assert torch.equal(param, trained[name].detach().cpu()), name


def test_lora_trains_every_lora_parameter_and_saves_adapter_and_merged_model(tiny_model, tmp_path):
    run = _train(tiny_model, tmp_path, max_steps=3,
                 lora={"r": 4, "alpha": 8, "dropout": 0.0})
    from safetensors.torch import load_file

    assert run.before and all("lora_" in name for name in run.before)
    saved = load_file(run.result.adapter_dir / "adapter_model.safetensors")
    saved = {name.replace(".weight", ".default.weight"): t for name, t in saved.items()}
    assert sorted(saved) == sorted(run.before)
    assert [n for n, p in run.before.items() if torch.equal(p, saved[n])] == []
    merged = AutoModelForCausalLM.from_pretrained(run.result.model_dir)
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_bad_records_stop_before_any_model_loads(tiny_model, tmp_path, monkeypatch):
    import alignment.sft

    def never(*args, **kwargs):
        raise AssertionError("a model was loaded before the data was checked")

    monkeypatch.setattr(alignment.sft, "load_causal_lm", never)
    monkeypatch.setattr(alignment.sft, "SFTTrainer", never)
    path = write_jsonl(tmp_path / "d.jsonl", [{"messages": [{"role": "user", "content": "hi"}]}])
    config = SFTStageConfig(dataset=path, model=str(tiny_model), out=tmp_path / "out")
    with pytest.raises(InputError, match="line 1, field 'messages': no assistant turn"):
        train(config)
    assert not (tmp_path / "out").exists()
