"""What the preference stages read: prompt records from files or run folders, checked first.

Every record must give a conversation (`pipelines.generate.conversation_of` with the config's
`prompt_field`); a problem names the file, line and field before any model runs. A pipeline run
reads the kept records of the stages before it; run alone, the config's `inputs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets

from pipelines.errors import ConfigError
from pipelines.generate import check_prompts
from pipelines.io import read_sources
from pipelines.preferences.config import PreferenceConfig


def preference_sources(config: PreferenceConfig, upstream: Sequence[str | Path] = ()) -> list:
    """The prompt sources: the upstream run folders in a pipeline, else the config's `inputs`."""
    sources = list(upstream) or list(config.inputs)
    if not sources:
        raise ConfigError(["preferences.inputs: name the prompt records (files or run folders) "
                           "to answer"])
    return sources


def read_prompts(config: PreferenceConfig, sources: Sequence[str | Path]) -> datasets.Dataset:
    """The prompt records of `sources`, each checked to give a conversation."""
    return read_sources(sources, check=check_prompts(config.prompt_field),
                        allow_empty=config.allow_empty)
