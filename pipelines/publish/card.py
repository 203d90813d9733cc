"""The dataset card (`README.md`): YAML metadata the Hub and `load_dataset` read, and a body
rendered from `card.md.jinja` (a sandboxed jinja2 template beside this file).

Metadata: pretty_name, license, language, task_categories, size_categories (computed from the
published rows, `rejected` left out), tags, and `configs:` with `data_files` per split, e.g.

    configs:
    - config_name: sft
      data_files:
      - {split: train, path: data/sft/train-*.parquet}
      default: true

`validate_card` checks what the Hub's metadata validation checks for these fields (license id,
language codes, size category, the configs' structure) plus that every `data_files` pattern
matches files in the tree, through `huggingface_hub.DatasetCard`; the Hub's own validation
needs the network and runs when a commit reaches the Hub.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from huggingface_hub import DatasetCard, DatasetCardData
from jinja2.sandbox import SandboxedEnvironment

from pipelines.publish.config import HUB_LICENSES, PublishConfig

TEMPLATE = Path(__file__).with_name("card.md.jinja")
BASE_TAGS = ["synthetic", "instruction-tuning", "preference", "tuneset"]
SIZE_LIMITS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
               (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"),
               (1_000_000_000, "100M<n<1B"))


def size_category(n: int) -> str:
    """The Hub's size category for n records: size_category(999) == "n<1K"."""
    for limit, name in SIZE_LIMITS:
        if n < limit:
            return name
    return "n>1B" if n >= 1_000_000_000 else "unknown"


def card_metadata(config: PublishConfig, pretty_name: str,
                  files: dict[str, dict[str, list[str]]], records: int) -> dict[str, Any]:
    """The card's YAML metadata as a dict. `files` maps config -> split -> files written;
    `records` is the number of published records (without `rejected`)."""
    configs = []
    for index, (name, splits) in enumerate(files.items()):
        entry: dict[str, Any] = {"config_name": name, "data_files": [
            {"split": split, "path": f"data/{name}/{split}-*.parquet"} for split in splits]}
        if index == 0:
            entry["default"] = True
        configs.append(entry)
    tags = BASE_TAGS + [t for t in config.tags if t not in BASE_TAGS]
    meta: dict[str, Any] = {"pretty_name": pretty_name, "license": config.license,
                            "language": list(config.language),
                            "task_categories": list(config.task_categories),
                            "size_categories": [size_category(records)], "tags": tags,
                            "configs": configs}
    if config.license == "other":
        meta["license_name"], meta["license_link"] = config.license_name, config.license_link
    return meta


def metadata_yaml(meta: dict[str, Any]) -> str:
    data = dict(meta)
    configs = data.pop("configs")
    return DatasetCardData(**data, configs=configs).to_yaml()


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    return env.from_string(TEMPLATE.read_text(encoding="utf-8"))


def render_card(meta: dict[str, Any], **context: Any) -> str:
    """The whole README.md: `---` YAML `---` then the rendered body."""
    text = _template().render(metadata=metadata_yaml(meta).strip(), **context)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


@lru_cache(maxsize=1)
def _languages() -> frozenset[str]:
    import datasets

    path = Path(datasets.__file__).parent / "utils" / "resources" / "languages.json"
    return frozenset(json.loads(path.read_text(encoding="utf-8")))


def validate_card(text: str, root: Path | None = None) -> list[str]:
    """Problems with a card's metadata (empty = valid); `root` is the repository tree, to check
    that each config's `data_files` match files."""
    try:
        card = DatasetCard(text)
    except ValueError as exc:
        return [f"metadata: {exc}"]
    data = card.data.to_dict()
    problems = []
    licenses = data.get("license")
    for license_id in licenses if isinstance(licenses, list) else [licenses]:
        if license_id not in HUB_LICENSES:
            problems.append(f"license: {license_id!r} is not a Hub license id")
    if data.get("license") == "other" and not (data.get("license_name") and data.get("license_link")):
        problems.append("license other needs license_name and license_link")
    bad = [code for code in data.get("language") or [] if code not in _languages()]
    if bad:
        problems.append(f"language: unknown codes {bad}")
    sizes = data.get("size_categories") or []
    if not sizes or any(s not in {n for _, n in SIZE_LIMITS} | {"n>1B", "unknown"} for s in sizes):
        problems.append(f"size_categories: {sizes!r} is not a Hub size category")
    if not isinstance(data.get("pretty_name"), str):
        problems.append("pretty_name: missing")
    problems += _check_configs(data.get("configs"), root)
    return problems


def _check_configs(configs: Any, root: Path | None) -> list[str]:
    if not isinstance(configs, list) or not configs:
        return ["configs: missing; load_dataset would not find the data files"]
    problems, names, defaults = [], set(), 0
    for index, entry in enumerate(configs):
        name = entry.get("config_name") if isinstance(entry, dict) else None
        files = entry.get("data_files") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name in names:
            problems.append(f"configs[{index}].config_name: missing or repeated")
        names.add(name)
        defaults += bool(isinstance(entry, dict) and entry.get("default"))
        if not isinstance(files, list) or not files:
            problems.append(f"configs[{index}].data_files: expected a list of {{split, path}}")
            continue
        for item in files:
            if not (isinstance(item, dict) and isinstance(item.get("split"), str)
                    and isinstance(item.get("path"), str)):
                problems.append(f"configs[{index}].data_files: expected {{split, path}}, got {item!r}")
            elif root is not None and not list(root.glob(item["path"])):
                problems.append(f"configs[{index}].data_files: {item['path']} matches no file")
    if defaults > 1:
        problems.append("configs: more than one default config")
    return problems
