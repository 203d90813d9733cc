import sys

import datasets
import numpy as np
import pytest

from pipelines.dedup import DedupConfig, dedup_records
from pipelines.errors import InputError, MissingExtraError
from pipelines.records import Message, PreferenceMeta, make_preference

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]
LONG = " ".join(f"word{i}" for i in range(100))  # 96 distinct 5-gram shingles
EXACT = dict(verify="exact", ngram=1, weights=(0.01, 0.99))  # word sets, every overlap a candidate


def rows(*texts, **columns):
    return datasets.Dataset.from_list([
        {"id": f"r{i}", "instruction": t, "input": "", **{k: v[i] for k, v in columns.items()}}
        for i, t in enumerate(texts)])


def run(ds, **config):
    return dedup_records(ds, DedupConfig(text="instruction", **config))


def test_exact_duplicates_after_normalization_are_dropped():
    result = run(rows("Name a colour.", "name a   COLOUR", "Name a planet."))
    assert result.kept["id"] == ["r0", "r2"]
    assert result.rejected["reason"] == ["dedup_exact"]
    assert result.rejected["duplicate_of"] == ["r0"]


def test_case_sensitive_exact_dedup_when_lowercase_is_off():
    result = run(rows("Name a colour.", "name a colour."), normalize={"lowercase": False})
    assert len(result.kept) == 2


def test_near_duplicate_is_dropped_and_distinct_text_kept():
    edited = LONG.replace("word50", "zulu")  # 91 of 101 shingles shared: Jaccard 0.90
    result = run(rows(LONG, edited, "something else entirely, with other words in it"), verify="exact")
    assert result.kept["id"] == ["r0", "r2"]
    assert result.rejected["reason"] == ["dedup_near"]


def test_pair_just_above_the_threshold_is_a_duplicate():
    above = " ".join(WORDS[:9] + ["zulu"])  # 9 shared of 11 words: Jaccard 0.818
    result = run(rows(" ".join(WORDS[:10]), above), threshold=0.8, **EXACT)
    assert result.rejected["reason"] == ["dedup_near"]


def test_pair_just_below_the_threshold_is_kept():
    below = " ".join(WORDS[:11] + ["yankee", "zulu"])  # 11 shared of 14 words: Jaccard 0.786
    result = run(rows(" ".join(WORDS[:12]), below), threshold=0.8, **EXACT)
    assert len(result.kept) == 2 and len(result.rejected) == 0


def test_signature_verification_estimates_jaccard():
    result = run(rows(LONG, LONG + " zulu"), verify="signature")
    assert result.rejected["reason"] == ["dedup_near"]


@pytest.mark.parametrize(("keep", "kept"), [
    ("first", ["r0"]), ("longest", ["r1"]), ("score:judge_score", ["r2"]),
    ({"policy": "score", "column": "judge_score"}, ["r2"])])
def test_keep_policies(keep, kept):
    ds = rows("one two", "One, two!!!", "one two", judge_score=[1.0, None, 3.0])
    result = run(ds, keep=keep)
    assert result.kept["id"] == kept
    assert set(result.rejected["duplicate_of"]) == set(kept)


def test_score_ties_go_to_the_earliest_record():
    result = run(rows("a b", "a b", "a b", judge_score=[2, 5, 5]), keep="score:judge_score")
    assert result.kept["id"] == ["r1"]


def test_score_column_missing_is_an_input_error():
    with pytest.raises(InputError, match="keep: score:judge_score names no column"):
        run(rows("a", "a"), keep="score:judge_score")


def test_score_column_must_be_numeric():
    with pytest.raises(InputError, match="must be a numeric column"):
        run(rows("a", "a", judge_score=["x", "y"]), keep="score:judge_score")


def test_rejected_rows_carry_cluster_and_kept_id():
    result = run(rows("a b c", "x y z", "A b c.", "x y z!"))
    rejected = result.rejected.to_list()
    assert [(r["id"], r["cluster_id"], r["duplicate_of"], r["stage"]) for r in rejected] == \
        [("r2", 0, "r0", "dedup"), ("r3", 1, "r1", "dedup")]
    assert result.rejected.column_names[:3] == ["id", "instruction", "input"]


def test_conservation_and_stats():
    ds = rows(*(["same text here"] * 3 + [f"text number {i}" for i in range(5)]))
    result = run(ds)
    assert len(result.kept) + len(result.rejected) == len(ds)
    assert result.stats["rejected"] == {"dedup_exact": 2}
    assert result.stats["clusters"] == 1 and result.stats["cluster_sizes"] == {"3": 1}


def test_reference_match_is_dropped_and_reference_never_appears():
    reference = datasets.Dataset.from_list([{"text": "What is the capital of France?"}])
    ds = rows("what is the capital of france", "Name a colour.")
    result = dedup_records(ds, DedupConfig(text="instruction", reference_field="text"),
                           reference=[("evals.jsonl", reference)])
    assert result.kept["id"] == ["r1"]
    assert result.rejected["reason"] == ["dedup_contaminated"]
    assert result.rejected["duplicate_of"] == ["evals.jsonl#0"]


def test_references_are_never_dropped_even_when_they_duplicate_each_other():
    reference = rows("a b c d e f g h", "a b c d e f g h")  # two equal references
    ds = rows("a b c d e f g h", "unrelated words only")
    result = dedup_records(ds, DedupConfig(text="instruction"), reference=reference)
    assert result.kept["id"] == ["r1"]
    assert result.rejected["duplicate_of"] == ["r0"]  # the reference record's id
    assert len(result.kept) + len(result.rejected) == len(ds)


def test_near_contamination():
    ds = rows(LONG.replace("word50", "zulu"), "unrelated words only")
    result = dedup_records(ds, DedupConfig(text="instruction", verify="exact"),
                           reference=datasets.Dataset.from_list([{"id": "eval-1", "instruction": LONG}]))
    assert result.rejected["reason"] == ["dedup_contaminated"]
    assert "near duplicate" in result.rejected["detail"][0]


def test_instruction_input_and_conversation_texts():
    ds = datasets.Dataset.from_list([
        {"id": "a", "instruction": "Add.", "input": "2 + 2", "messages": [{"role": "user", "content": "x"}]},
        {"id": "b", "instruction": "Add.", "input": "3 + 3", "messages": [{"role": "user", "content": "x"}]},
    ])
    assert len(dedup_records(ds, DedupConfig(text="instruction")).kept) == 1
    assert len(dedup_records(ds, DedupConfig(text="instruction_input")).kept) == 2
    assert len(dedup_records(ds, DedupConfig(text="conversation")).kept) == 1


def test_preference_records_compare_prompt_and_chosen():
    def pair(prompt, chosen):
        return make_preference([Message(role="user", content=prompt)],
                               [Message(role="assistant", content=chosen)],
                               [Message(role="assistant", content="no")],
                               meta=PreferenceMeta(source="t")).model_dump()
    ds = datasets.Dataset.from_list([pair("Say hi.", "Hi!"), pair("Say hi.", "Hello!")])
    assert len(dedup_records(ds, DedupConfig(text="instruction")).kept) == 1
    assert len(dedup_records(ds, DedupConfig(text="conversation")).kept) == 2


def test_missing_compared_column_names_the_field():
    ds = datasets.Dataset.from_list([{"id": "a", "instruction": "x"}])
    with pytest.raises(InputError, match="missing column 'input'"):
        dedup_records(ds, DedupConfig(text="instruction_input"))


def test_null_text_names_the_row():
    ds = datasets.Dataset.from_list([{"instruction": "x"}, {"instruction": None}])
    with pytest.raises(InputError, match="row 1, field 'instruction'"):
        run(ds)


def test_empty_input():
    ds = rows("x").select([])
    result = run(ds)
    assert len(result.kept) == len(result.rejected) == 0


def test_empty_texts_are_exact_duplicates_of_each_other():
    result = run(rows("", "  ", "..."))
    assert result.kept["id"] == ["r0"] and result.rejected["reason"] == ["dedup_exact"] * 2




def test_ray_backend_without_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'tuneset\[ray\]'"):
        run(rows("a b", "c d"), backend="ray")


def test_share_removed_per_source_task_and_template():
    passage = " ".join(f"p{i}" for i in range(200))
    texts = [f"question {q} about it: {passage}" for q in range(4)] + ["Name a colour.", "Name a planet."]
    meta = [{"source": "flan", "template": {"task": task, "template_id": template}}
            for task, template in [("qa", "qa:0"), ("qa", "qa:1"), ("qa", "qa:0"), ("qa", "qa:1"),
                                   ("colours", "c:0"), ("planets", "p:0")]]
    result = run(rows(*texts, meta=meta))
    by = result.stats["removed_by"]
    assert by["meta.template.task"] == {
        "qa": {"rows": 4, "removed": 3, "share": 0.75},
        "colours": {"rows": 1, "removed": 0, "share": 0.0},
        "planets": {"rows": 1, "removed": 0, "share": 0.0}}
    assert by["meta.template.template_id"]["qa:1"] == {"rows": 2, "removed": 2, "share": 1.0}
    assert by["meta.source"] == {"flan": {"rows": 6, "removed": 3, "share": 0.5}}


def test_without_grouping_columns_nothing_is_reported():
    assert run(rows("Name a colour.", "name a colour")).stats["removed_by"] == {}


def test_the_stage_takes_no_model():
    with pytest.raises(ValueError, match="uses no model"):
        dedup_records(rows("a"), DedupConfig(text="instruction"), model=object())


def test_rejected_rows_get_a_fingerprint_from_the_inputs():
    ds = rows("Name a colour.", "name a colour", "Name a planet.")
    first, second = run(ds), run(ds)
    assert first.rejected._fingerprint == second.rejected._fingerprint
    assert run(ds, threshold=0.9).rejected._fingerprint != first.rejected._fingerprint


def test_rows_without_a_task_are_counted_under_null():
    from pipelines.dedup.shares import removed_by

    records = datasets.Dataset.from_dict({"task": ["qa", None, None]})
    assert removed_by(records, np.array([True, False, True])) == {"task": {
        "qa": {"rows": 1, "removed": 1, "share": 1.0},
        "null": {"rows": 2, "removed": 1, "share": 0.5}}}
