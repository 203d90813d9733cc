import pytest
from pydantic import ValidationError

from pipelines.config import check_config
from pipelines.judge import JudgeConfig


def test_defaults_follow_alpagasus():
    config = JudgeConfig()
    assert (config.aspect, config.mode, config.threshold) == ("accuracy", "parse", 4.5)


@pytest.mark.parametrize("field, value", [("threshold", 5.5), ("mode", "vibes"),
                                          ("aspect", "style"), ("colour", "red")])
def test_bad_fields_are_rejected(field, value):
    with pytest.raises(ValidationError, match=field):
        JudgeConfig(**{field: value})


def test_judge_without_an_earlier_stage_needs_inputs(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("judge: {threshold: 4}\n")
    _, problems = check_config(path)
    assert problems == ["judge.inputs: no stage runs before judge, so name the record files "
                        "or run folders to read"]


def test_judge_inputs_must_exist(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("judge: {inputs: [missing.jsonl]}\n")
    _, problems = check_config(path)
    assert len(problems) == 1 and problems[0].startswith("judge.inputs[0]: no such file")
