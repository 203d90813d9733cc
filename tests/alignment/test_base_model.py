import json

import pytest
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from alignment.base_model import prepare_tokenizer, resolve_model


def test_run_folder_resolves_to_its_model(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "report.json").write_text("{}")
    assert resolve_model(tmp_path) == str(tmp_path / "model")
    assert resolve_model(tmp_path / "model") == str(tmp_path / "model")
    assert resolve_model("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_pad_token_differs_from_eos(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert (tokenizer.pad_token, tokenizer.eos_token) == ("<|endoftext|>", "<|im_end|>")


def test_a_tokenizer_without_a_spare_token_gets_a_new_pad_and_the_model_grows(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.add_special_tokens({"unk_token": tokenizer.eos_token})
    vocab = tokenizer.get_vocab()
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=8, intermediate_size=16,
                         num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1)
    model = LlamaForCausalLM(config)
    prepare_tokenizer(tokenizer, model)
    if "<|endoftext|>" in vocab:  # the embedded vocab has a spare special token: it is used
        assert tokenizer.pad_token == "<|endoftext|>"
    assert tokenizer.pad_token_id != tokenizer.eos_token_id
    assert model.config.pad_token_id == tokenizer.pad_token_id
    assert model.get_input_embeddings().num_embeddings >= len(tokenizer)


@pytest.mark.slow
def test_embedded_model_is_dequantized_once_and_trains_one_sft_step(tmp_path):
    """The real SmolLM2-135M-Instruct: GGUF -> plain folder (cached), then one SFT step."""
    from alignment.config import SFTStageConfig
    from alignment.run import run_training
    from pipelines.embedded import embedded_model_dir as embedded_model_folder

    from .helpers import write_instruction_run

    folder = embedded_model_folder()
    assert (folder / "model.safetensors").exists()
    assert json.loads((folder / "config.json").read_text())["model_type"] == "llama"
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    assert embedded_model_folder() == folder  # reused, not rebuilt
    config = SFTStageConfig(dataset=write_instruction_run(tmp_path / "data", n=2),
                            out=tmp_path / "out", max_steps=1, max_length=128,
                            trainer={"per_device_train_batch_size": 2})
    report = run_training(config)["report"]
    assert report["steps"] == 1 and report["base_model"] == str(folder)
    assert 0 < report["metrics"]["train_loss"] < 20
