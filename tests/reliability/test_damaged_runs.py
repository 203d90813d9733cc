"""A damaged run folder (manifest or output file) means "recompute", never a crash or a hit."""

from __future__ import annotations

import json

import pytest

from flows.dedup import dedup_flow
from pipelines.dedup import DedupConfig
from pipelines.io import load_run, read_manifest, verify_run

pytestmark = pytest.mark.usefixtures("prefect_harness")
ROWS = [{"id": "a", "instruction": "Name a colour.", "input": ""},
        {"id": "b", "instruction": "name a COLOUR", "input": ""},
        {"id": "c", "instruction": "Name a planet.", "input": ""}]


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return DedupConfig(inputs=[path])


def _truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


@pytest.mark.parametrize("damage", [
    lambda out: _truncate(out / "manifest.json"),
    lambda out: (out / "manifest.json").write_text("[]"),
    lambda out: (out / "manifest.json").write_bytes(b"\xff\xfe\x00garbage"),
    lambda out: (out / "manifest.json").write_text('{"files": {"kept/part-00000.parquet": 1}}'),
    lambda out: _truncate(out / "kept" / "part-00000.parquet"),
    lambda out: (out / "rejected" / "part-00000.parquet").unlink(),
], ids=["truncated manifest", "manifest not an object", "manifest not utf-8",
        "manifest entry not an object", "truncated kept file", "missing rejected file"])
def test_damage_means_recompute(tmp_path, config, damage):
    out = tmp_path / "run"
    dedup_flow(config, str(out))
    assert verify_run(out)
    damage(out)
    assert not verify_run(out)
    again = dedup_flow(config, str(out))
    assert again["cached"] is False and again["rows"] == {"kept": 2, "rejected": 1}
    assert verify_run(out) and read_manifest(out)["rows"]["kept"] == 2
    assert load_run(out)["id"] == ["a", "c"]
