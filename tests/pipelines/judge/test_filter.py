import logging

import datasets
import pytest

from pipelines.errors import InputError
from pipelines.judge import JudgeConfig, judge_filter
from pipelines.records import InstructionMeta, InstructionRecord, make_instruction, to_dataset
from tests.fakes import ScriptedGenerator

from .helpers import instruction_rows, score_logprobs


def run(outputs, judge_texts, **config):
    fake = ScriptedGenerator(list(judge_texts))
    records = datasets.Dataset.from_list(instruction_rows(*outputs))
    return judge_filter(records, JudgeConfig(**config), model=fake), fake


def test_score_at_the_threshold_is_kept_and_just_below_is_rejected():
    result, _ = run(["Blue.", "Red."], ["Score: 4.5", "Score: 4.49"])
    assert result.kept["output"] == ["Blue."] and result.kept["judge_score"] == [4.5]
    [rejected] = result.rejected.to_list()
    assert rejected["reason"] == "judge_below_threshold"
    assert rejected["detail"] == "score 4.49 < threshold 4.5" and rejected["judge_score"] == 4.49


@pytest.mark.parametrize("judge_text", ["", "Great answer.", "Score: 9", "Correct.\nScore: 5"])
def test_parse_failure_is_a_counted_rejection_with_the_raw_output(judge_text):
    result, _ = run(["Blue."], [judge_text])
    [rejected] = result.rejected.to_list()
    assert len(result.kept) == 0 and rejected["reason"] == "judge_parse_error"
    assert repr(judge_text) in rejected["detail"] and rejected["judge_score"] is None
    assert rejected["meta"]["judge"]["raw"] == judge_text
    assert result.stats["rejected"] == {"judge_parse_error": 1}


def test_kept_and_rejected_add_up_to_the_input():
    result, _ = run(["a", "b", "c", "d"], ["5", "1", "oops", "4.5"])
    assert len(result.kept) + len(result.rejected) == 4
    assert result.stats["rejected"] == {"judge_below_threshold": 1, "judge_parse_error": 1}


def test_lineage_is_typed_in_meta_judge():
    record = make_instruction("Name a colour.", "", "Blue.", meta=InstructionMeta(source="demo"))
    records = to_dataset([record], InstructionRecord)
    fake = ScriptedGenerator([], scores=score_logprobs([0, 0, 0, 0, 0.5, 0.5]))
    result = judge_filter(records, JudgeConfig(mode="logprob", aspect="honesty"), model=fake)
    row = result.kept[0]
    meta = InstructionMeta.model_validate(row["meta"])
    assert meta.source == "demo" and meta.judge.model == "fake:scripted"
    assert (meta.judge.aspect, meta.judge.mode) == ("honesty", "logprob")
    assert meta.judge.distribution == pytest.approx([0, 0, 0, 0, 0.5, 0.5])
    assert row["judge_score"] == pytest.approx(4.5)
    assert result.kept.features["meta"]["template"] == records.features["meta"]["template"]


def test_records_with_only_messages_are_rated_on_the_last_assistant_turn():
    records = datasets.Dataset.from_list([{"messages": [
        {"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}]}])
    fake = ScriptedGenerator(["Score: 5"])
    result = judge_filter(records, JudgeConfig(), model=fake)
    prompt = fake.calls[0]["conversations"][0][0]["content"]
    assert len(result.kept) == 1 and "Name a colour." in prompt and "Blue." in prompt


def test_bad_record_fails_before_any_model_call():
    records = datasets.Dataset.from_list([{"instruction": "x", "output": "y"}, {"prompt": "z"}])
    fake = ScriptedGenerator([])
    with pytest.raises(InputError, match="row 1"):
        judge_filter(records, JudgeConfig(), model=fake)
    assert fake.calls == []


def test_judge_that_generated_the_records_is_warned_about(caplog):
    records = datasets.Dataset.from_list([
        {"instruction": "x", "input": "", "output": "y",
         "meta": {"generate": {"model": "transformers:fake:scripted"}}}])
    fake = ScriptedGenerator(["Score: 5"], name="openai:fake:scripted")
    with caplog.at_level(logging.WARNING):
        result = judge_filter(records, JudgeConfig(), model=fake)
    assert "self-preference" in result.stats["self_preference"]
    assert "self-preference" in caplog.text


def test_stats_hold_the_alpagasus_score_table():
    result, _ = run(list("abcde"), ["2", "3.5", "4", "4.5", "5"])
    assert result.stats["scores"]["table"] == {"<3": 1, "3": 0, "3.5": 1, "4": 1, "4.5": 1, "5": 1}
    assert result.stats["self_preference"] is None
