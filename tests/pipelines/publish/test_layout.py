"""Configs, splits and shards of a published dataset, from small literal run folders."""

import json
from collections import Counter

import datasets
import pytest

from pipelines.errors import InputError
from pipelines.publish.config import PublishConfig, parse_target, shard_bytes
from pipelines.publish.history import diff, next_version
from pipelines.publish.layout import build_configs, split_of, write_configs
from pipelines.publish.run import read_run

from .helpers import instruction, make_run


def configs_of(run_dir, **options):
    settings = {"sft_from": None, "best_of_n": True, "rejected": True, "test_fraction": 0.25,
                **options}
    return build_configs(read_run(run_dir), **settings)


def test_split_is_a_stable_hash_of_the_content_id():
    keys = [instruction(i).id for i in range(2000)]
    first = [split_of(k, 0.1) for k in keys]
    assert first == [split_of(k, 0.1) for k in keys]
    assert 0.08 < first.count("test") / len(keys) < 0.12
    assert {split_of(k, 0.0) for k in keys} == {"train"}


def test_a_run_yields_sft_preferences_best_of_n_and_rejected(tmp_path):
    configs = configs_of(make_run(tmp_path / "run"))
    assert list(configs) == ["sft", "preferences", "best_of_n", "rejected"]
    assert sum(configs["sft"].rows.values()) == 9  # the judge kept 9 of 12
    assert configs["sft"].source == "judge/kept"
    for config in configs.values():
        for split, ds in config.splits.items():
            keys = ds["id"] if config.name != "rejected" else None
            if keys:
                assert {split_of(k, 0.25) for k in keys} == {split}


def test_sft_from_names_the_stages(tmp_path):
    configs = configs_of(make_run(tmp_path / "run"), sft_from=["dedup"])
    assert sum(configs["sft"].rows.values()) == 12 and configs["sft"].source == "dedup/kept"
    with pytest.raises(InputError, match="sft_from names self_instruct, which did not run"):
        configs_of(tmp_path / "run", sft_from=["self_instruct"])


def test_rejected_config_has_one_schema_and_every_dropped_record(tmp_path):
    rejected = configs_of(make_run(tmp_path / "run"))["rejected"]
    rows = [r for ds in rejected.splits.values() for r in ds]
    assert Counter(r["stage"] for r in rows) == {"templating": 1, "dedup": 1, "judge": 3,
                                                 "preferences": 1}
    dup = next(r for r in rows if r["stage"] == "dedup")
    original = json.loads(dup["record"])
    assert dup["reason"] == "dedup_exact" and dup["id"] == original["id"]
    assert original["duplicate_of"] == original["id"] and original["cluster_id"] == 0
    templated = next(r for r in rows if r["stage"] == "templating")
    assert templated["id"] is None and json.loads(templated["record"])["row"] == {"p": "x", "h": None}
    assert set(rejected.splits["train"].features) == {"stage", "reason", "detail", "id", "record"}


def test_configs_without_rows_are_left_out(tmp_path):
    configs = configs_of(make_run(tmp_path / "run", n=3), best_of_n=False, rejected=False)
    assert "best_of_n" not in configs and "rejected" not in configs
    assert all(len(ds) for c in configs.values() for ds in c.splits.values())


def test_shards_respect_the_size_limit_and_load_in_order(tmp_path):
    configs = configs_of(make_run(tmp_path / "run", n=40), test_fraction=0.0)
    written = write_configs(configs, tmp_path / "repo", max_bytes=2048)
    files = written["sft"]["train"]
    assert len(files) > 1 and files[0].endswith(f"-00000-of-{len(files):05d}.parquet")
    loaded = datasets.load_dataset("parquet", data_files=[str(tmp_path / "repo" / f) for f in files],
                                   split="train", cache_dir=str(tmp_path / "cache"))
    assert loaded.to_list() == configs["sft"].splits["train"].to_list()


def test_diff_counts_added_and_removed_by_content_id():
    assert diff({"sft": Counter(["a", "b"])}, {"sft": Counter(["b", "c", "d"])}) == \
        {"sft": {"added": 2, "removed": 1}}


def test_version_names_count_up_and_never_repeat():
    assert next_version([], set(), None) == "v1"
    assert next_version([{"version": "v1"}], {"v1", "v7"}, None) == "v8"
    with pytest.raises(InputError, match="already exists"):
        next_version([{"version": "v1"}], set(), "v1")


def test_config_requires_a_known_license():
    with pytest.raises(ValueError, match="license\n.*Field required"):
        PublishConfig()
    with pytest.raises(ValueError, match="not a license id the Hub knows"):
        PublishConfig(license="apache")
    with pytest.raises(ValueError, match="needs license_name and license_link"):
        PublishConfig(license="other")


def test_targets_and_sizes_parse():
    assert parse_target("hf://datasets/org/name").repo_id == "org/name"
    assert parse_target("runs/x").kind == "local"
    with pytest.raises(ValueError, match="expected hf://datasets/ORG/NAME"):
        parse_target("hf://models/org/name")
    assert shard_bytes("1MB") == 1_000_000
    with pytest.raises(ValueError, match="expected a size"):
        shard_bytes("lots")
