"""Preference pairs, UltraFeedback-style, as two stages:

- `sampling.sample_responses`: prompt records -> K candidates per prompt (the samples);
- `pairing.pair_responses`: samples -> scored chosen/rejected pairs, plus best-of-n records in
  `extra["best_of_n"]`.

`scorers` holds the rating, pairwise and reward-model scorers, `selection` the pair policies,
`length` the length controls, `inputs` the prompt reader.
"""

from pipelines.preferences.config import PreferenceConfig, SamplerConfig, ScorerConfig
from pipelines.preferences.inputs import preference_sources, read_prompts
from pipelines.preferences.pairing import pair_responses
from pipelines.preferences.sampling import SAMPLE_FEATURES, sample_responses
from pipelines.preferences.scorers import build_scorer, scorer_model

__all__ = ["SAMPLE_FEATURES", "PreferenceConfig", "SamplerConfig", "ScorerConfig",
           "build_scorer", "pair_responses", "preference_sources", "read_prompts",
           "sample_responses", "scorer_model"]
