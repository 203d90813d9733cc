import pytest

from alignment.data import load_any, load_instructions, load_preferences, split
from pipelines.errors import InputError

from .helpers import write_instruction_run, write_jsonl, write_preference_run

U = {"role": "user", "content": "Name a colour."}
A = {"role": "assistant", "content": "Blue."}


def test_run_folder_becomes_prompt_completion_pairs(tmp_path):
    data = load_instructions(write_instruction_run(tmp_path / "run", n=3))
    assert data.kind == "instruction" and len(data) == 3
    row = data.dataset[1]
    assert [m["role"] for m in row["prompt"]] == ["system", "user"]
    assert row["completion"] == [{"role": "assistant", "content": "2."}]
    assert list(data.files.values())[0]  # sha256 of kept/part-00000.parquet
    assert all(data.ids)


def test_alpaca_columns_are_accepted(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"instruction": "Add.", "input": "1 1", "output": "2"}])
    row = load_instructions(path).dataset[0]
    assert row["prompt"] == [{"role": "user", "content": "Add.\n\n1 1"}]
    assert row["completion"] == [{"role": "assistant", "content": "2"}]


def test_wrong_columns_name_the_file_and_field(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"text": "hello"}])
    with pytest.raises(InputError) as err:
        load_instructions(path)
    assert err.value.field == "messages" and "bad.jsonl" in str(err.value)
    assert "missing column 'messages'" in str(err.value)


def test_empty_content_names_line_and_message(tmp_path):
    rows = [{"messages": [U, A]}, {"messages": [U, {"role": "assistant", "content": "  "}]}]
    with pytest.raises(InputError) as err:
        load_instructions(write_jsonl(tmp_path / "d.jsonl", rows))
    assert (err.value.line, err.value.field) == (2, "messages[1].content")
    assert "non-empty string" in str(err.value)


def test_missing_assistant_turn_names_the_row(tmp_path):
    rows = [{"messages": [U, A]}, {"messages": [U, A]}, {"messages": [U]}]
    with pytest.raises(InputError) as err:
        load_instructions(write_jsonl(tmp_path / "d.jsonl", rows))
    assert (err.value.line, err.value.field) == (3, "messages")
    assert "no assistant turn" in str(err.value)


def test_conversation_ending_with_a_user_turn_is_refused(tmp_path):
    with pytest.raises(InputError) as err:
        load_instructions(write_jsonl(tmp_path / "d.jsonl", [{"messages": [U, A, U]}]))
    assert err.value.field == "messages[2].role"


def test_unknown_role_is_refused(tmp_path):
    rows = [{"messages": [{"role": "bot", "content": "hi"}, A]}]
    with pytest.raises(InputError) as err:
        load_instructions(write_jsonl(tmp_path / "d.jsonl", rows))
    assert err.value.field == "messages[0].role" and "'bot'" in str(err.value)


def test_preference_pairs_load_in_trl_shape(tmp_path):
    data = load_preferences(write_preference_run(tmp_path / "run", n=4))
    assert data.kind == "preference" and data.dataset.column_names == ["prompt", "chosen", "rejected"]
    assert data.dataset[0]["chosen"] == [{"role": "assistant", "content": "yes"}]


def test_chosen_that_is_not_an_assistant_message_is_refused(tmp_path):
    rows = [{"prompt": [U], "chosen": [A], "rejected": [A]},
            {"prompt": [U], "chosen": [U], "rejected": [A]}]
    with pytest.raises(InputError) as err:
        load_preferences(write_jsonl(tmp_path / "p.jsonl", rows))
    assert (err.value.line, err.value.field) == (2, "chosen[0].role")
    assert "expected 'assistant'" in str(err.value)


def test_empty_rejected_reply_is_refused(tmp_path):
    rows = [{"prompt": [U], "chosen": [A], "rejected": [{"role": "assistant", "content": ""}]}]
    with pytest.raises(InputError) as err:
        load_preferences(write_jsonl(tmp_path / "p.jsonl", rows))
    assert err.value.field == "rejected[0].content"


def test_preference_file_with_wrong_columns(tmp_path):
    rows = [{"prompt": [U], "chosen": [A], "loser": [A]}]
    with pytest.raises(InputError) as err:
        load_preferences(write_jsonl(tmp_path / "p.jsonl", rows))
    assert err.value.field == "rejected" and "missing column(s) ['rejected']" in str(err.value)


def test_parquet_errors_name_the_row(tmp_path):
    from pipelines.io import write_parquet
    from pipelines.records import PreferenceRecord, to_dataset

    from .helpers import preference_records

    recs = preference_records(3)
    recs[2] = recs[2].model_copy(update={"chosen": []})
    write_parquet(to_dataset(recs, PreferenceRecord), tmp_path / "run/kept/part-00000.parquet")
    with pytest.raises(InputError) as err:
        load_preferences(tmp_path / "run")
    assert (err.value.row, err.value.field) == (2, "chosen")
    assert "part-00000.parquet" in str(err.value)


def test_load_any_picks_the_kind_from_the_columns(tmp_path):
    assert load_any(write_preference_run(tmp_path / "p", n=2)).kind == "preference"
    assert load_any(write_instruction_run(tmp_path / "i", n=2)).kind == "instruction"


@pytest.mark.parametrize(("n", "fraction", "held"), [(8, 0.1, 1), (10, 0.2, 2), (8, 0.0, 0), (1, 0.5, 0)])
def test_split_holds_out_a_rounded_share(tmp_path, n, fraction, held):
    data = load_instructions(write_instruction_run(tmp_path / "run", n=n))
    train, evals = split(data.dataset, fraction, seed=0)
    assert (len(evals) if evals is not None else 0) == held and len(train) == n - held


def test_a_run_folder_and_its_kept_folder_load_the_same_records(tmp_path):
    run = write_preference_run(tmp_path / "preferences", n=3)
    kept = load_preferences(run / "kept")
    assert kept.dataset.to_list() == load_preferences(run).dataset.to_list()
    assert list(kept.files) == [str(run / "kept/part-00000.parquet")]
