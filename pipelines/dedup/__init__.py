"""Exact and MinHash near-duplicate removal, and decontamination against reference sets
(see `stage`)."""

from pipelines.dedup.config import DedupConfig, KeepConfig, NormalizeConfig, RayConfig
from pipelines.dedup.stage import dedup_records

__all__ = ["DedupConfig", "KeepConfig", "NormalizeConfig", "RayConfig", "dedup_records"]
