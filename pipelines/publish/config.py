"""The `publish:` section of a pipeline config, and publishing targets.

    publish:
      license: apache-2.0            # required: a Hub license id (or `other` + license_name/link)
      repo: [runs/demo/dataset, hf://datasets/my-org/my-set]   # default: <run folder>/dataset
      pretty_name: My instruction set  # default: the run's name
      description: null              # a paragraph for the card; default: written from the stages
      language: [en]
      task_categories: [text-generation]
      tags: []                       # added to synthetic, instruction-tuning, preference, tuneset
      sft_from: null                 # stages whose kept records form `sft`; default: judge,
                                     # else dedup, else every generator (templating, self_instruct)
      best_of_n: true                # publish preferences/best_of_n/ as the `best_of_n` config
      rejected: true                 # publish every dropped record as the `rejected` config
      test_fraction: 0.1             # share of records (by content id) in the `test` split
      max_shard_size: 500MB          # per Parquet file (in-memory Arrow size, as `datasets` counts)
      message: null                  # commit message; default: "<name> vN"
      private: false                 # Hub: create the repository private
      create_pr: false               # Hub: open a pull request instead of committing to main
      retries: 5                     # Hub: tries per call on transient errors (with backoff)

A target is a local folder (a git repository, created when missing) or `hf://datasets/ORG/NAME`.
Relative local paths in a config file are relative to that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from pipelines.configbase import StageConfig
from pipelines.errors import ConfigError

HUB_PREFIX = "hf://datasets/"
InstructionStage = Literal["templating", "self_instruct", "dedup", "judge"]

HUB_LICENSES = frozenset((
    "apache-2.0", "mit", "openrail", "bigscience-openrail-m", "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0", "bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0",
    "bsd", "bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0",
    "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0",
    "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0", "wtfpl", "ecl-2.0",
    "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1", "eupl-1.2", "agpl-3.0", "gfdl", "gpl",
    "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc", "h-research", "intel-research",
    "lppl-1.3c", "ms-pl", "apple-ascl", "apple-amlr", "mpl-2.0", "odc-by", "odbl", "openrail++",
    "osl-3.0", "postgresql", "ofl-1.1", "ncsa", "unlicense", "zlib", "pddl", "lgpl-lr",
    "deepfloyd-if-license", "llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4",
    "gemma", "unknown", "other",
))
"""License ids the Hub accepts in a card's `license:` (https://huggingface.co/docs/hub/repositories-licenses)."""

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


@dataclass(frozen=True)
class Target:
    """Where a dataset is published: a local git repository or a Hub dataset repository."""

    kind: Literal["local", "hub"]
    path: Path | None = None
    repo_id: str | None = None

    def __str__(self) -> str:
        return f"{HUB_PREFIX}{self.repo_id}" if self.kind == "hub" else str(self.path)


def parse_target(text: str | Path, *, base_dir: str | Path | None = None) -> Target:
    """`hf://datasets/ORG/NAME` -> a Hub target; anything else -> a local folder.

    >>> parse_target("hf://datasets/org/set").repo_id
    'org/set'
    """
    text = str(text)
    if text.startswith("hf://"):
        repo_id = text.removeprefix(HUB_PREFIX).strip("/")
        if not text.startswith(HUB_PREFIX) or not _REPO_ID.match(repo_id) or ".." in repo_id:
            raise ConfigError([f"repo: {text!r} is not a Hub dataset repository; expected "
                               f"{HUB_PREFIX}ORG/NAME"])
        return Target("hub", repo_id=repo_id)
    path = Path(text).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    return Target("local", path=path)


class PublishConfig(StageConfig):
    license: str
    license_name: str | None = None
    license_link: str | None = None
    repo: list[str] = []
    pretty_name: str | None = None
    description: str | None = None
    language: list[str] = ["en"]
    task_categories: list[str] = ["text-generation"]
    tags: list[str] = []
    sft_from: list[InstructionStage] | None = None
    best_of_n: bool = True
    rejected: bool = True
    test_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    max_shard_size: int | str = "500MB"
    message: str | None = None
    private: bool = False
    create_pr: bool = False
    retries: int = Field(5, ge=1, le=20)

    @field_validator("license")
    @classmethod
    def _known_license(cls, value: str) -> str:
        if value not in HUB_LICENSES:
            raise ValueError("not a license id the Hub knows; use one of apache-2.0, mit, "
                             "cc-by-4.0, cc-by-sa-4.0, cc-by-nc-4.0, odc-by, ... or `other` with "
                             "license_name and license_link")
        return value

    @field_validator("sft_from", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("repo", mode="before")
    @classmethod
    def _repo_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("repo")
    @classmethod
    def _resolve_repos(cls, value: list[str], info: ValidationInfo) -> list[str]:
        base = (info.context or {}).get("base_dir")
        resolved = []
        for text in value:
            try:
                resolved.append(str(parse_target(text, base_dir=base)))
            except ConfigError as exc:
                raise ValueError(exc.problems[0].removeprefix("repo: ")) from None
        return resolved

    @field_validator("max_shard_size")
    @classmethod
    def _size(cls, value: int | str) -> int | str:
        shard_bytes(value)
        return value

    @model_validator(mode="after")
    def _other_license(self) -> PublishConfig:
        if self.license == "other" and not (self.license_name and self.license_link):
            raise ValueError("license `other` needs license_name and license_link")
        return self

    def targets(self, default: str | Path | None = None) -> list[Target]:
        """The configured targets, or `default` (a local folder) when none is configured."""
        texts = self.repo or ([str(default)] if default is not None else [])
        return [parse_target(t) for t in texts]


def shard_bytes(size: int | str) -> int:
    """A shard size as bytes: 500MB -> 500_000_000, 1GiB -> 1_073_741_824, 2048 -> 2048."""
    from datasets.utils.py_utils import convert_file_size_to_int

    try:
        value = convert_file_size_to_int(size)
    except ValueError:
        raise ValueError(f"expected a size such as 500MB, 1GB or a number of bytes, got {size!r}") \
            from None
    if value < 1024:
        raise ValueError(f"a shard of {value} bytes is too small; use at least 1KB")
    return value


def load_publish_config(path: str | Path) -> PublishConfig:
    """The `publish:` section of a pipeline config file (or of a run folder's pipeline.yaml).

    A file without the section, or a section without `license`, is a ConfigError: a dataset is
    not published without a license."""
    from pipelines.config import parse_config, read_yaml

    data, problems = read_yaml(path)
    if not problems:
        section = data.get("publish")
        if not isinstance(section, dict):
            problems = ["publish: no `publish:` section; publishing needs at least "
                        "`publish: {license: <Hub license id, e.g. apache-2.0>}`"]
        else:
            config, problems = parse_config(section, PublishConfig, base_dir=Path(path).parent,
                                            prefix="publish")
            if config is not None:
                return config
    raise ConfigError(problems, file=path)
