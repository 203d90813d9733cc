import json

import datasets
import pytest

from pipelines.io import atomic_path, load_run, read_manifest, verify_run, write_parquet, write_run


def _ds(n):
    return datasets.Dataset.from_dict({"x": list(range(n))})


def test_run_folder_has_manifest_with_checksums(tmp_path):
    rejected = datasets.Dataset.from_dict({"x": [9], "stage": ["s"], "reason": ["s_bad"],
                                           "detail": [""]})
    manifest = write_run(tmp_path / "run", stage="s", kept=_ds(3), rejected=rejected,
                         stats={"n": 3}, config={"k": 1}, inputs={"in.jsonl": "abc"}, jsonl=True)
    assert manifest["rows"] == {"kept": 3, "rejected": 1}
    assert set(manifest["files"]) == {"kept/part-00000.parquet", "rejected/part-00000.parquet",
                                      "kept/part-00000.jsonl", "rejected/part-00000.jsonl",
                                      "stats.json"}
    assert manifest["config"] == {"k": 1} and "datasets" in manifest["versions"]
    assert read_manifest(tmp_path / "run") == manifest
    assert verify_run(tmp_path / "run")
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "run/kept/*.parquet"),
                                   split="train")
    assert loaded["x"] == [0, 1, 2]
    assert load_run(tmp_path / "run", "rejected")[0]["reason"] == "s_bad"
    lines = (tmp_path / "run/kept/part-00000.jsonl").read_text().splitlines()
    assert [json.loads(line)["x"] for line in lines] == [0, 1, 2]


def test_tampered_or_incomplete_run_is_not_verified(tmp_path):
    write_run(tmp_path / "run", stage="s", kept=_ds(2), rejected=_ds(0), stats={})
    assert verify_run(tmp_path / "run")
    (tmp_path / "run/stats.json").write_text("{}")
    assert not verify_run(tmp_path / "run")
    assert not verify_run(tmp_path / "nothing-here")


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "data.parquet"
    write_parquet(_ds(2), target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash mid-write")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["data.parquet"]


def test_parquet_keeps_features(tmp_path):
    ds = datasets.Dataset.from_dict({"m": [{"a": 1}]}, features=datasets.Features({"m": datasets.Json()}))
    write_parquet(ds, tmp_path / "j.parquet")
    back = datasets.load_dataset("parquet", data_files=str(tmp_path / "j.parquet"), split="train")
    assert back[0]["m"] == {"a": 1}
