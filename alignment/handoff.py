"""Hand a validated dataset to other trainers: LLaMA-Factory, axolotl and OpenRLHF.

    handoff/
      sft.jsonl | pairs.jsonl   the records, one JSON object a line (columns below)
      dataset_info.json         LLaMA-Factory: put this folder as `dataset_dir`, name `tuneset_sft`
                                or `tuneset_pairs` as `dataset`
      axolotl.yaml              a `datasets:` snippet (plus `rl: dpo` for pairs)
      openrlhf.txt              flags for openrlhf.cli.train_sft / train_rm / train_dpo / train_ppo
      handoff.json              files, their columns, rows and sha256; `sources`: the files
                                the records came from, with their sha256

Columns, chosen so one file serves all three (each reads different keys of it):

- instructions: `id`, `messages` (the conversation), `prompt` (messages[:-1], for PPO prompts)
- pairs: `id`, `prompt`, `chosen`, `rejected` (message lists, TRL's and OpenRLHF's shape) and
  `chosen_message`, `rejected_message` (the reply as one message, the shape LLaMA-Factory's
  ranking sharegpt and axolotl's `chat_template.default` read; a reply of several assistant
  messages is joined with blank lines)

axolotl and OpenRLHF get absolute paths (they resolve relative ones against their working
directory); LLaMA-Factory gets a file name relative to `dataset_dir`.

`write_published_handoffs` writes one such folder per config of a published dataset
repository (`sft`, `preferences`, `best_of_n`), from its `train` split:
`<out>/sft/sft.jsonl`, `<out>/preferences/pairs.jsonl`, `<out>/best_of_n/sft.jsonl`.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import datasets
import yaml

from alignment.data import TrainingData, load_any
from pipelines.io import sha256_file, write_json, write_text

SHAREGPT_TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                 "assistant_tag": "assistant", "system_tag": "system"}
ROLE_MAP = {"user": ["user"], "assistant": ["assistant"], "system": ["system"]}


def export_rows(data: TrainingData) -> tuple[str, list[dict[str, Any]]]:
    """(file stem, rows) in the handoff column layout."""
    ds = data.dataset
    if data.kind == "instruction":
        return "sft", [{"id": rid, "messages": p + c, "prompt": p}
                       for rid, p, c in zip(data.ids, ds["prompt"], ds["completion"])]
    join = lambda msgs: {"role": "assistant",  # noqa: E731
                         "content": "\n\n".join(m["content"] for m in msgs)}
    return "pairs", [{"id": rid, "prompt": p, "chosen": c, "rejected": r,
                      "chosen_message": join(c), "rejected_message": join(r)}
                     for rid, p, c, r in zip(data.ids, ds["prompt"], ds["chosen"], ds["rejected"])]


def llamafactory_info(kind: str, file_name: str) -> dict[str, Any]:
    if kind == "instruction":
        return {"tuneset_sft": {"file_name": file_name, "formatting": "sharegpt",
                                "columns": {"messages": "messages"}, "tags": SHAREGPT_TAGS}}
    return {"tuneset_pairs": {"file_name": file_name, "formatting": "sharegpt", "ranking": True,
                              "columns": {"messages": "prompt", "chosen": "chosen_message",
                                          "rejected": "rejected_message"},
                              "tags": SHAREGPT_TAGS}}


def axolotl_snippet(kind: str, path: Path) -> dict[str, Any]:
    common = {"path": str(path), "ds_type": "json", "split": "train",
              "message_property_mappings": {"role": "role", "content": "content"}}
    if kind == "instruction":
        return {"datasets": [{**common, "type": "chat_template", "field_messages": "messages",
                              "roles_to_train": ["assistant"]}]}
    return {"rl": "dpo",
            "datasets": [{**common, "type": "chat_template.default", "field_messages": "prompt",
                          "field_chosen": "chosen_message", "field_rejected": "rejected_message",
                          "roles": ROLE_MAP}]}


def openrlhf_flags(kind: str, path: Path) -> dict[str, list[str]]:
    """Flags per OpenRLHF entry point (model, output and batch flags are the user's)."""
    data = ["--dataset", str(path)]
    if kind == "instruction":
        return {"openrlhf.cli.train_sft": data + ["--input_key", "messages",
                                                  "--apply_chat_template"],
                "openrlhf.cli.train_ppo": ["--prompt_data", str(path), "--input_key", "prompt",
                                           "--apply_chat_template"]}
    pairs = data + ["--prompt_key", "prompt", "--chosen_key", "chosen",
                    "--rejected_key", "rejected", "--apply_chat_template"]
    return {"openrlhf.cli.train_rm": pairs, "openrlhf.cli.train_dpo": pairs,
            "openrlhf.cli.train_ppo": ["--prompt_data", str(path), "--input_key", "prompt",
                                       "--apply_chat_template"]}


def write_handoff(data: TrainingData, folder: str | Path) -> dict[str, Any]:
    """Write the handoff folder for `data`; returns the contents of `handoff.json`."""
    folder = Path(folder).resolve()
    stem, rows = export_rows(data)
    records = folder / f"{stem}.jsonl"
    write_text(records, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    info = llamafactory_info(data.kind, records.name)
    write_json(folder / "dataset_info.json", info)
    write_text(folder / "axolotl.yaml", "# axolotl: merge into your training config\n"
               + yaml.safe_dump(axolotl_snippet(data.kind, records), sort_keys=False))
    flags = openrlhf_flags(data.kind, records)
    write_text(folder / "openrlhf.txt", "".join(
        f"# python -m {entry} --pretrain MODEL --save_path OUT ...\n{shlex.join(args)}\n"
        for entry, args in flags.items()))
    manifest = {"kind": data.kind,
                "files": {records.name: {"rows": len(rows), "columns": list(rows[0]),
                                         "sha256": sha256_file(records)}},
                "sources": dict(data.files),
                "llamafactory": {"dataset_dir": str(folder), "dataset": next(iter(info))},
                "openrlhf": flags}
    write_json(folder / "handoff.json", manifest)
    return manifest


HANDOFF_CONFIGS = ("sft", "preferences", "best_of_n")


def load_split(files: list[Path]) -> TrainingData:
    """The records of several files of one kind (a split in shards), checked, in file order."""
    parts = [load_any(f) for f in files]
    return TrainingData(parts[0].kind, datasets.concatenate_datasets([p.dataset for p in parts]),
                        {k: v for p in parts for k, v in p.files.items()},
                        [i for p in parts for i in p.ids])


def write_published_handoffs(dataset_root: str | Path, out: str | Path,
                             split: str = "train") -> dict[str, dict[str, Any]]:
    """One handoff folder per config of a published dataset repository (see the module
    docstring); {config: handoff.json}. A config without rows in `split` is left out."""
    written = {}
    for config in HANDOFF_CONFIGS:
        files = sorted((Path(dataset_root) / "data" / config).glob(f"{split}-*.parquet"))
        if files:
            folder = Path(out) / config
            written[config] = _current(folder, files) or write_handoff(load_split(files), folder)
    return written


def _current(folder: Path, sources: list[Path]) -> dict[str, Any] | None:
    """The folder's handoff.json when it was written from exactly `sources` and its files are
    intact (then nothing is rewritten: a scheduled run with unchanged data touches no file)."""
    try:
        manifest = json.loads((folder / "handoff.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("sources") != {str(p): sha256_file(p) for p in sources}:
        return None
    intact = all((folder / name).is_file() and sha256_file(folder / name) == info["sha256"]
                 for name, info in manifest.get("files", {}).items())
    return manifest if intact else None
