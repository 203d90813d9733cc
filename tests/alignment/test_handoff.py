import json
import shlex
from pathlib import Path

import pytest
import yaml

from alignment.data import load_instructions, load_preferences
from alignment.handoff import write_handoff

from .helpers import write_instruction_run, write_preference_run


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _flags(text: str) -> dict[str, dict[str, str]]:
    """openrlhf.txt -> {entry point: {flag: value or ''}}."""
    found, entry = {}, None
    for line in text.splitlines():
        if line.startswith("# python -m "):
            entry = line.split()[3]
            continue
        args, flags = shlex.split(line), {}
        for i, arg in enumerate(args):
            if arg.startswith("--"):
                value = args[i + 1] if i + 1 < len(args) and not args[i + 1].startswith("--") else ""
                flags[arg] = value
        found[entry] = flags
    return found


@pytest.fixture
def sft_handoff(tmp_path):
    data = load_instructions(write_instruction_run(tmp_path / "run", n=3))
    return tmp_path / "handoff", write_handoff(data, tmp_path / "handoff"), data


@pytest.fixture
def pair_handoff(tmp_path):
    data = load_preferences(write_preference_run(tmp_path / "run", n=3))
    return tmp_path / "handoff", write_handoff(data, tmp_path / "handoff"), data


def test_instruction_handoff_files_parse_and_point_at_the_records(sft_handoff):
    folder, manifest, data = sft_handoff
    info = json.loads((folder / "dataset_info.json").read_text())["tuneset_sft"]
    records = folder / info["file_name"]
    rows = _rows(records)
    assert len(rows) == 3 == manifest["files"]["sft.jsonl"]["rows"]
    assert info["formatting"] == "sharegpt" and info["columns"]["messages"] in rows[0]
    assert info["tags"]["role_tag"] in rows[0]["messages"][0]
    assert rows[0]["messages"] == data.dataset[0]["prompt"] + data.dataset[0]["completion"]
    assert rows[0]["id"] == data.ids[0]

    axolotl = yaml.safe_load((folder / "axolotl.yaml").read_text())["datasets"][0]
    assert axolotl["type"] == "chat_template" and Path(axolotl["path"]) == records.resolve()
    assert axolotl["field_messages"] in rows[0]

    flags = _flags((folder / "openrlhf.txt").read_text())
    sft = flags["openrlhf.cli.train_sft"]
    assert Path(sft["--dataset"]).exists() and sft["--input_key"] in rows[0]
    assert "--apply_chat_template" in sft
    assert flags["openrlhf.cli.train_ppo"]["--input_key"] == "prompt" and "prompt" in rows[0]


def test_pair_handoff_files_parse_and_point_at_the_records(pair_handoff):
    folder, manifest, data = pair_handoff
    info = json.loads((folder / "dataset_info.json").read_text())["tuneset_pairs"]
    assert info["ranking"] is True and info["formatting"] == "sharegpt"
    rows = _rows(folder / info["file_name"])
    assert all(column in rows[0] for column in info["columns"].values())
    assert rows[0]["chosen_message"] == {"role": "assistant", "content": "yes"}
    assert rows[0]["chosen"] == [rows[0]["chosen_message"]]

    axolotl = yaml.safe_load((folder / "axolotl.yaml").read_text())
    assert axolotl["rl"] == "dpo"
    spec = axolotl["datasets"][0]
    assert spec["type"] == "chat_template.default" and Path(spec["path"]).exists()
    assert {spec["field_messages"], spec["field_chosen"], spec["field_rejected"]} <= set(rows[0])

    flags = _flags((folder / "openrlhf.txt").read_text())
    for entry in ("openrlhf.cli.train_rm", "openrlhf.cli.train_dpo"):
        args = flags[entry]
        assert Path(args["--dataset"]).exists() and "--apply_chat_template" in args
        assert {args["--prompt_key"], args["--chosen_key"], args["--rejected_key"]} <= set(rows[0])
    assert manifest["files"]["pairs.jsonl"]["columns"] == list(rows[0])


def test_handoff_manifest_checksums_the_export(pair_handoff):
    from pipelines.io import sha256_file

    folder, manifest, _ = pair_handoff
    assert manifest["files"]["pairs.jsonl"]["sha256"] == sha256_file(folder / "pairs.jsonl")
    assert json.loads((folder / "handoff.json").read_text()) == manifest


def test_published_handoffs_follow_the_train_split_and_rewrite_only_changes(tmp_path):
    import shutil

    from alignment.handoff import write_published_handoffs

    root = tmp_path / "dataset/data"
    for config, run in (("sft", write_instruction_run(tmp_path / "i", n=4)),
                        ("preferences", write_preference_run(tmp_path / "p", n=3))):
        (root / config).mkdir(parents=True)
        shutil.copy(run / "kept/part-00000.parquet", root / config / "train-00000-of-00001.parquet")
    shutil.copy(tmp_path / "i/kept/part-00000.parquet", root / "sft/test-00000-of-00001.parquet")
    first = write_published_handoffs(tmp_path / "dataset", tmp_path / "handoff")
    assert set(first) == {"sft", "preferences"}
    assert first["sft"]["files"]["sft.jsonl"]["rows"] == 4   # the train split only
    assert first["preferences"]["files"]["pairs.jsonl"]["rows"] == 3
    jsonl = tmp_path / "handoff/sft/sft.jsonl"
    stamp = jsonl.stat().st_mtime_ns
    assert write_published_handoffs(tmp_path / "dataset", tmp_path / "handoff") == first
    assert jsonl.stat().st_mtime_ns == stamp                  # unchanged: nothing rewritten
    shutil.copy(write_instruction_run(tmp_path / "j", n=5) / "kept/part-00000.parquet",
                root / "sft/train-00000-of-00001.parquet")
    again = write_published_handoffs(tmp_path / "dataset", tmp_path / "handoff")
    assert again["sft"]["files"]["sft.jsonl"]["rows"] == 5
