import pytest
from pydantic import ValidationError

from pipelines.config import check_config
from pipelines.dedup import DedupConfig, KeepConfig


@pytest.mark.parametrize(("field", "value", "message"), [
    ("threshold", 1.0, "threshold: input should be less than 1"),
    ("threshold", 0, "threshold: input should be greater than 0"),
    ("num_perm", 1, "num_perm: input should be greater than or equal to 2"),
    ("text", "response", "text: input should be 'instruction', 'instruction_input' or 'conversation'"),
    ("verify", "maybe", "verify: input should be 'none', 'signature' or 'exact'"),
    ("keep", "score", "keep policy 'score' needs a `column`"),
    ("keep", "newest", "keep.policy: input should be 'first', 'longest' or 'score'"),
    ("weights", [0, 0], "weights are [false_positive, false_negative]"),
])
def test_bad_values_name_field_value_and_what_is_allowed(write_lines, field, value, message):
    path = write_lines("c.yaml", f"dedup:\n  inputs: [c.yaml]\n  {field}: {value!r}\n")
    config, problems = check_config(path)
    assert config is None
    assert any(message in p and p.startswith("dedup.") for p in problems), problems


def test_keep_shorthands():
    assert DedupConfig(keep="score:judge_score").keep == KeepConfig(policy="score", column="judge_score")
    assert DedupConfig(keep="longest").keep == KeepConfig(policy="longest")
    with pytest.raises(ValidationError, match="only the 'score' policy takes a column"):
        DedupConfig(keep="longest:x")


def test_dedup_without_inputs_needs_an_earlier_stage(write_lines):
    _, problems = check_config(write_lines("c.yaml", "dedup: {threshold: 0.8}\n"))
    assert problems == ["dedup.inputs: no stage runs before dedup, so name the record files "
                        "or run folders to read"]


def test_inputs_are_refused_when_an_earlier_stage_feeds_the_stage(write_lines):
    write_lines("t.jsonl", ['{"question": "q", "answer": "a"}'])
    write_lines("r.jsonl", ['{"instruction": "x", "input": "", "output": "y"}'])
    _, problems = check_config(write_lines("c.yaml", (
        "templating:\n  tasks:\n    - {name: q, type: closed_book_qa, source: t.jsonl}\n"
        "dedup: {inputs: [r.jsonl]}\n")))
    assert problems == ["dedup.inputs: in a pipeline run dedup reads the kept records of "
                        "templating; remove `inputs` (they are for running the stage on its own)"]


def test_missing_input_file_is_reported(write_lines):
    _, problems = check_config(write_lines("c.yaml", "dedup: {inputs: [nope.jsonl]}\n"))
    assert problems and problems[0].startswith("dedup.inputs[0]: no such file or folder")
