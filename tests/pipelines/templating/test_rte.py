"""Built-in NLI templates and promptsource templates on the real GLUE RTE files."""

import csv

import pytest

from pipelines.io import read_records
from pipelines.templating import TemplatingConfig
from pipelines.templating.promptsource import load_promptsource
from pipelines.templating.templates import builtin_templates

from .helpers import render


def _rte_spec(path, **extra):
    return {"name": "rte", "type": "nli", "source": str(path),
            "fields": {"premise": "sentence1", "hypothesis": "sentence2"}, "label_field": "label",
            "labels": {"entailment": "yes", "not_entailment": "no"},
            "positive_label": "entailment", **extra}


def _rows(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def test_every_nli_template_renders_every_rte_row(shared_data):
    train = shared_data / "glue_rte/train.tsv"
    rows = _rows(train)
    result = render(TemplatingConfig(
        tasks=[_rte_spec(train)], templates_per_row="all", formats={"zero_shot_no_options": 1},
        mixing={"max_rate": None}, budget={"max_prompt": 100_000}))
    by_template = {}
    for rec in result.kept:
        meta = rec["meta"]["template"]
        row = rows[meta["source_row"]]
        by_template.setdefault(meta["template_id"], 0)
        by_template[meta["template_id"]] += 1
        if meta["inverted"]:
            assert rec["output"] == row["sentence2"].strip()
        else:
            assert rec["output"] == ("yes" if row["label"] == "entailment" else "no")
            assert row["sentence1"].strip() in rec["instruction"]
    forward = [t.id for t in builtin_templates("nli") if not t.inverted]
    assert all(by_template[t] == len(rows) for t in forward)
    positives = sum(r["label"] == "entailment" for r in rows)
    inverted = [t for t in builtin_templates("nli") if t.inverted]
    assert sum(by_template[t.id] for t in inverted) == sum(
        positives if t.when == "is_positive" else len(rows) - positives for t in inverted)


def test_flan2022_options_match_the_label(shared_data):
    dev = shared_data / "glue_rte/dev.tsv"
    rows = _rows(dev)
    result = render(TemplatingConfig(
        tasks=[_rte_spec(dev, include_inverted=False)], formats={"zero_shot_options": 1},
        options_style="flan2022", templates_per_row=3))
    for rec in result.kept:
        row = rows[rec["meta"]["template"]["source_row"]]
        want = 0 if row["label"] == "entailment" else 1
        lines = rec["instruction"].splitlines()
        options = lines[-2:]
        assert [o.split(" ", 1)[1].rstrip(";.") for o in options] == ["yes", "no"]
        assert options[want].startswith(rec["output"]) or rec["output"] == ["yes", "no"][want]


def test_k_shot_prompts_hold_k_exemplars_never_the_target(shared_data):
    dev = shared_data / "glue_rte/dev.tsv"
    rows = _rows(dev)
    result = render(TemplatingConfig(
        tasks=[_rte_spec(dev)], formats={"few_shot_no_options": 1}, shots=[3],
        delimiters=["\n"], separators=["\n\n\n"], budget={"max_prompt": 100_000}))
    assert len(result.kept) == len(rows)
    for rec in result.kept:
        meta = rec["meta"]["template"]
        row = rows[meta["source_row"]]
        blocks = rec["instruction"].split("\n\n\n")
        assert meta["shots"] == 3 and len(blocks) == 4
        for block in blocks[:-1]:
            assert not (row["sentence1"].strip() in block and row["sentence2"].strip() in block)


def test_promptsource_renders_every_template_in_both_files(shared_data):
    train = shared_data / "glue_rte/train.tsv"
    for name, fields in (("glue_rte.yaml", {}),
                         ("super_glue_rte.yaml", {"premise": "sentence1", "hypothesis": "sentence2"})):
        templates = load_promptsource(shared_data / "promptsource" / name)
        spec = {"name": "ps", "source": str(train), "promptsource": str(shared_data / "promptsource" / name),
                "fields": fields, "label_field": "label", "labels": ["entailment", "not_entailment"]}
        result = render(TemplatingConfig(
            tasks=[spec], templates_per_row="all", formats={"zero_shot_options": 1},
            mixing={"max_rate": None}, budget={"max_prompt": 100_000}))
        n_rows = len(read_records(train))
        assert len(result.kept) == n_rows * len(templates)
        assert all(r["output"] and r["instruction"] for r in result.kept)
        assert {r["meta"]["template"]["options_style"] for r in result.kept} == {"template"}


def _one(result, template_id, row):
    return next(r for r in result.kept if r["meta"]["template"]["template_id"] == template_id
                and r["meta"]["template"]["source_row"] == row)


def test_promptsource_matches_hand_checked_strings(shared_data):
    train = shared_data / "glue_rte/train.tsv"
    ps = shared_data / "promptsource"
    base = {"source": str(train), "label_field": "label", "labels": ["entailment", "not_entailment"]}
    config = TemplatingConfig(tasks=[
        {"name": "glue", "promptsource": str(ps / "glue_rte.yaml"), **base},
        {"name": "sglue", "promptsource": str(ps / "super_glue_rte.yaml"),
         "fields": {"premise": "sentence1", "hypothesis": "sentence2"}, **base},
    ], templates_per_row="all", formats={"zero_shot_options": 1}, mixing={"max_rate": None},
        budget={"max_prompt": 100_000})
    result = render(config)
    mean = _one(result, "03a7ae07-5ddd-46c4-92f3-2152223d44ec", 0)
    assert mean["instruction"] == (
        "A place of sorrow, after Pope John Paul II died, became a place of celebration, as Roman "
        "Catholic faithful gathered in downtown Chicago to mark the installation of new Pope "
        "Benedict XVI.\nDoes this mean that \"Pope Benedict XVI is the new leader of the Roman "
        "Catholic Church.\" is true? A) yes or B) no.")
    assert mean["output"] == "yes"
    gpt3 = _one(result, "8fb1c6aa-20e9-438c-bece-c6af1c746449", 1)
    assert gpt3["instruction"] == (
        "A man is due in court later charged with the murder 26 years ago of a teenager whose case "
        "was the first to be featured on BBC One's Crimewatch. Colette Aram, 16, was walking to her "
        "boyfriend's house in Keyworth, Nottinghamshire, on 30 October 1983 when she disappeared. "
        "Her body was later found in a field close to her home. Paul Stewart Hutchinson, 50, has "
        "been charged with murder and is due before Nottingham magistrates later.\nQuestion: Paul "
        "Stewart Hutchinson is accused of having stabbed a girl. True or False?")
    assert gpt3["output"] == "False"


def test_promptsource_label_minus_one_is_rejected(tmp_path, shared_data):
    path = tmp_path / "rte.tsv"
    path.write_text("index\tsentence1\tsentence2\tlabel\n0\tA cat sat.\tA cat.\t-1\n"
                    "1\tA dog ran.\tA dog.\t0\n", encoding="utf-8")
    spec = {"name": "ps", "source": str(path),
            "promptsource": str(shared_data / "promptsource/glue_rte.yaml"),
            "label_field": "label", "labels": ["entailment", "not_entailment"]}
    result = render(TemplatingConfig(tasks=[spec]))
    assert len(result.kept) == 1
    assert result.rejected[0]["reason"] == "template_no_label"


@pytest.mark.parametrize("shots", [1, 2, 5])
def test_shot_counts_follow_config(shared_data, shots):
    dev = shared_data / "glue_rte/dev.tsv"
    result = render(TemplatingConfig(
        tasks=[_rte_spec(dev, cap=40)], formats={"few_shot_options": 1}, shots=[shots],
        budget={"max_prompt": 100_000}))
    assert {r["meta"]["template"]["shots"] for r in result.kept} == {shots}
