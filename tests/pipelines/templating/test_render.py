import pytest

from pipelines.errors import InputError, TemplateError
from pipelines.templating import TemplatingConfig

from .helpers import NLI_ROWS, nli_spec, render, write_jsonl


@pytest.fixture
def nli_file(tmp_path):
    return write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS)


def _config(tasks, **kw):
    return TemplatingConfig(tasks=tasks, **kw)


def test_one_example_per_row_with_lineage(nli_file):
    result = render(_config([nli_spec(nli_file)]))
    assert len(result.kept) == len(NLI_ROWS) and len(result.rejected) == 0
    first = result.kept[0]
    assert first["messages"][-1]["role"] == "assistant"
    assert first["instruction"] == first["messages"][-2]["content"]
    assert first["output"] == first["messages"][-1]["content"] and first["input"] == ""
    meta = first["meta"]["template"]
    assert meta["task"] == "nli" and meta["template_id"].startswith(("nli-", "cot-"))
    assert sorted(r["meta"]["template"]["source_row"] for r in result.kept) == list(range(6))


def test_same_seed_same_output_other_seed_differs(nli_file):
    a = render(_config([nli_spec(nli_file)], seed=1)).kept
    b = render(_config([nli_spec(nli_file)], seed=1)).kept
    c = render(_config([nli_spec(nli_file)], seed=2)).kept
    assert a.to_list() == b.to_list()
    assert a["id"] != c["id"]


def test_flan2021_options_and_labels(nli_file):
    result = render(_config([nli_spec(nli_file, include_inverted=False)],
                                      options_style="flan2021", templates_per_row="all",
                                      formats={"zero_shot_options": 1}))
    for rec in result.kept:
        row = NLI_ROWS[rec["meta"]["template"]["source_row"]]
        assert rec["instruction"].endswith("\n\nOPTIONS:\n- yes\n- no")
        assert rec["output"] == ("yes" if row["y"] == "entailment" else "no")
        assert rec["meta"]["template"]["options_style"] == "flan2021"


def test_no_options_format_renders_no_options(nli_file):
    result = render(_config([nli_spec(nli_file)], formats={"zero_shot_no_options": 1},
                                      templates_per_row="all"))
    assert all(r["meta"]["template"]["options_style"] == "none" for r in result.kept)
    assert not any("OPTIONS:" in r["instruction"] for r in result.kept)


def test_label_minus_one_is_rejected_with_reason(tmp_path):
    rows = NLI_ROWS[:2] + [{"p": "A.", "h": "B.", "y": -1}]
    path = write_jsonl(tmp_path / "n.jsonl", [{**r, "y": str(r["y"])} for r in rows])
    result = render(_config([nli_spec(path)]))
    assert len(result.kept) == 2
    rej = result.rejected[0]
    assert (rej["reason"], rej["stage"], rej["source_row"]) == ("template_no_label", "template", 2)
    assert rej["row"]["p"] == "A."
    assert result.stats["rows_in"] == len(result.kept) + len(result.rejected)


def test_task_cap_and_mixing_reject_with_reasons(tmp_path, nli_file):
    qa = write_jsonl(tmp_path / "qa.jsonl",
                     [{"question": f"Q{i}?", "answer": f"A{i}"} for i in range(10)])
    tasks = [nli_spec(nli_file, cap=4), {"name": "qa", "type": "closed_book_qa", "source": str(qa)}]
    result = render(_config(tasks, mixing={"max_rate": 3}))
    reasons = result.stats["rejected"]
    assert reasons == {"template_task_cap": 2, "template_mixing_rate": 1 + 7}
    assert len(result.kept) == 6
    assert result.stats["rows_in"] == len(result.kept) + len(result.rejected)


def test_budget_drops_exemplars_then_rejects(nli_file):
    tight = _config([nli_spec(nli_file)], formats={"few_shot_no_options": 1}, shots=[5],
                    budget={"unit": "words", "max_prompt": 40})
    result = render(tight)
    assert all(r["meta"]["template"]["shots"] < 5 for r in result.kept)
    assert all(len(r["instruction"].split()) <= 40 for r in result.kept)
    tiny = _config([nli_spec(nli_file)], budget={"unit": "words", "max_prompt": 3})
    rejected = render(tiny)
    assert len(rejected.kept) == 0 and rejected.stats["rejected"] == {"template_over_budget": 6}


def test_token_budget_uses_the_given_counter(nli_file):
    config = _config([nli_spec(nli_file)], budget={"unit": "tokens", "max_prompt": 10})
    with pytest.raises(ValueError, match="the tokenizer that counts"):
        render(config)
    one_token = type("OneToken", (), {"encode": staticmethod(lambda text: [0])})
    result = render(config, model=one_token)
    assert len(result.kept) == 6


def test_chat_fewshot_format_alternates_turns(nli_file):
    result = render(_config([nli_spec(nli_file, include_inverted=False)],
                                      formats={"few_shot_options": 1}, shots=[2],
                                      fewshot_format="chat"))
    for rec in result.kept:
        roles = [m["role"] for m in rec["messages"]]
        assert roles == ["user", "assistant"] * 3


def test_chain_of_thought_when_rationale_given(tmp_path):
    rows = [{"question": f"What is {i} + {i}?", "answer": str(2 * i), "why": f"{i} and {i} make {2 * i}."}
            for i in range(1, 6)]
    path = write_jsonl(tmp_path / "math.jsonl", rows)
    spec = {"name": "math", "type": "closed_book_qa", "source": str(path), "rationale_field": "why",
            "include_inverted": False}
    result = render(_config([spec], formats={"zero_shot_no_options": 1}))
    for rec in result.kept:
        row = rows[rec["meta"]["template"]["source_row"]]
        assert rec["meta"]["template"]["cot"]
        assert rec["output"].startswith((row["why"], f"Reasoning: {row['why']}"))
        assert row["answer"] in rec["output"].splitlines()[-1]


def test_inverted_chain_of_thought_targets_the_question(tmp_path):
    rows = [{"question": "What is 2 + 2?", "answer": "4", "why": "Two and two make four."}]
    path = write_jsonl(tmp_path / "m.jsonl", rows)
    spec = {"name": "m", "type": "closed_book_qa", "source": str(path), "rationale_field": "why"}
    result = render(_config([spec], templates_per_row="all",
                                      formats={"zero_shot_no_options": 1}))
    inverted = [r for r in result.kept if r["meta"]["template"]["template_id"].startswith("cot-inv")]
    assert inverted and all("What is 2 + 2?" in r["output"] for r in inverted)
    assert all("Two and two make four." in r["instruction"] for r in inverted)


def test_unknown_label_names_file_line_and_field(tmp_path):
    rows = NLI_ROWS[:2] + [{"p": "A.", "h": "B.", "y": "maybe"}]
    path = write_jsonl(tmp_path / "n.jsonl", rows)
    with pytest.raises(InputError) as err:
        render(_config([nli_spec(path)]))
    assert (err.value.line, err.value.field) == (3, "y")
    assert "unknown label 'maybe'" in str(err.value) and "n.jsonl" in str(err.value)


def test_missing_field_is_an_error(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [{"p": "A.", "y": "entailment"}])
    with pytest.raises(InputError, match=r"missing column\(s\) \['h'\]"):
        render(_config([nli_spec(path)]))


def test_broken_promptsource_template_is_a_template_error(tmp_path, nli_file):
    bad = tmp_path / "templates.yaml"
    bad.write_text("templates:\n  x: !Template\n    id: x\n    name: broken\n"
                   "    jinja: '{{ p ||| {{ y }}'\n", encoding="utf-8")
    spec = {"name": "ps", "source": str(nli_file), "promptsource": str(bad)}
    with pytest.raises(TemplateError, match="template 'x': Jinja syntax error"):
        render(_config([spec]))


def test_sandbox_blocks_python_internals(tmp_path, nli_file):
    evil = tmp_path / "templates.yaml"
    evil.write_text("templates:\n  e: !Template\n    id: e\n    name: evil\n"
                    "    jinja: \"{{ p.__class__.__mro__[1].__subclasses__() }} ||| x\"\n",
                    encoding="utf-8")
    spec = {"name": "ps", "source": str(nli_file), "promptsource": str(evil)}
    with pytest.raises(TemplateError, match="blocked by the sandbox"):
        render(_config([spec]))


REVIEWS = [{"t": "A warm, funny film.", "y": 1}, {"t": "Dull and far too long.", "y": 0},
           {"t": "Loved every minute.", "y": 1}]


@pytest.mark.parametrize("labels, values, warned", [
    (None, [1, 0, 1], True),                          # numeric ids, no names: warn
    (["negative", "positive"], [1, 0, 1], False),     # names given
    (None, ["pos", "neg", "pos"], False),             # the raw values are words already
], ids=["ids", "named", "words"])
def test_numeric_label_ids_without_names_warn(tmp_path, labels, values, warned):
    rows = [{**r, "y": v} for r, v in zip(REVIEWS, values)]
    spec = {"name": "sst", "type": "sentiment", "source": str(write_jsonl(tmp_path / "s.jsonl", rows)),
            "fields": {"text": "t"}, "label_field": "y",
            **({"labels": labels} if labels else {})}
    result = render(TemplatingConfig(tasks=[spec]))
    if warned:
        (warning,) = result.stats["warnings"]
        assert "task 'sst': label values look like numeric ids (0, 1)" in warning
        assert "labels" in warning
        assert any(r["output"] in ("0", "1") for r in result.kept)  # what the warning is about
    else:
        assert result.stats["warnings"] == []


LONG = " ".join(["word"] * 30)
QA_ROWS = [{"q": "What colour is the sky?", "a": "Blue."},
           {"q": "Describe the city at length.", "a": LONG}]


def _qa(tmp_path, **budget):
    spec = {"name": "qa", "type": "closed_book_qa",
            "source": str(write_jsonl(tmp_path / "qa.jsonl", QA_ROWS)),
            "fields": {"question": "q", "answer": "a"}}
    return TemplatingConfig(tasks=[spec], templates_per_row="all",
                            budget={"max_prompt": 1024, **budget})


def test_targets_over_max_target_are_rejected_one_per_example(tmp_path):
    unbounded = render(_qa(tmp_path))
    result = render(_qa(tmp_path, max_target=10))
    assert max(len(r["output"].split()) for r in unbounded.kept) >= 30
    assert max(len(r["output"].split()) for r in result.kept) <= 10
    dropped = result.stats["rejected"]["template_target_over_budget"]
    assert len(result.kept) + dropped == len(unbounded.kept)
    assert set(result.rejected["reason"]) == {"template_target_over_budget"}
    assert all(r["row"]["a"] == LONG for r in map(_raw, result.rejected))
    assert "target of 30 words over max_target 10" in result.rejected[0]["detail"]
    assert result.rejected[0]["detail"].startswith("template ")
    # inverted templates target the question, which fits: both rows still give examples
    assert result.stats["rows_rendered"] == 2


def test_a_row_whose_every_target_is_too_long_is_counted_apart(tmp_path):
    from pipelines.counts import describe_counts

    result = render(_qa(tmp_path, max_target=2))
    counts = describe_counts("templating", result.stats["rows_in"], result)
    rendered = result.stats["rows_rendered"]
    assert rendered < 2
    assert counts["balance"][0] == (f"rows: 2 in = {rendered} rendered + 0 rejected + "
                                    f"{2 - rendered} whose every example was over the target budget")
    assert counts["rejected_units"] == f"0 rows + {len(result.rejected)} examples"


def _raw(rejected_row):
    import json

    row = rejected_row["row"]
    return {**rejected_row, "row": json.loads(row) if isinstance(row, str) else row}
