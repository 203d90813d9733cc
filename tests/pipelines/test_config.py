from pathlib import Path

import pytest

from pipelines.config import check_config, load_config, load_section
from pipelines.errors import ConfigError
from pipelines.templating import TemplatingConfig

REPO = Path(__file__).resolve().parents[2]


def test_demo_config_is_valid():
    config = load_config(REPO / "configs/demo.yaml")
    assert config.stages()[0] == "templating"
    assert all(t.source.is_absolute() and t.source.exists() for t in config.templating.tasks)


def test_every_problem_is_reported_at_once(tmp_path, write_lines):
    write_lines("t.jsonl", ['{"text": "a", "label": "x"}'])
    path = write_lines("c.yaml", """
run: {name: demo, colour: red}
templating:
  options_style: flan2030
  tasks:
    - name: one
      type: nlii
      source: t.jsonl
    - name: two
      type: sentiment
      source: missing.jsonl
      label_field: label
""")
    config, problems = check_config(path)
    assert config is None
    text = "\n".join(problems)
    assert ("run.colour: unknown field; allowed: name, seed, jsonl, threads, response_cache, "
            "executor, ray (got 'red')") in text
    assert "templating.options_style: input should be 'flan2021' or 'flan2022' (got 'flan2030')" in text
    assert "templating.tasks[0].type" in text and "'nlii'" in text
    assert "templating.tasks[1].source: no such file or folder" in text
    assert len(problems) == 4


def test_malformed_yaml_names_line(write_lines):
    path = write_lines("bad.yaml", "run:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "line 3" in str(err.value) and "malformed YAML" in str(err.value)


def test_classification_type_needs_label_field(write_lines):
    write_lines("t.jsonl", ['{"text": "a"}'])
    path = write_lines("c.yaml", "tasks:\n  - {name: s, type: sentiment, source: t.jsonl}\n")
    with pytest.raises(ConfigError, match="set `label_field`"):
        load_section(path, "templating", TemplatingConfig)


def test_unknown_template_id_is_a_config_problem(write_lines):
    write_lines("t.jsonl", ['{"question": "q", "answer": "a"}'])
    path = write_lines("c.yaml", "templating:\n  tasks:\n    - {name: q, type: closed_book_qa, "
                                 "source: t.jsonl, template_ids: [nope]}\n")
    _, problems = check_config(path)
    assert problems and "template_ids ['nope'] not found" in problems[0]


def test_section_file_and_full_file_both_load(write_lines):
    write_lines("t.jsonl", ['{"question": "q", "answer": "a"}'])
    bare = write_lines("bare.yaml", "tasks:\n  - {name: q, type: closed_book_qa, source: t.jsonl}\n")
    full = write_lines("full.yaml", "templating:\n  tasks:\n    - {name: q, type: closed_book_qa, "
                                    "source: t.jsonl}\n")
    assert load_section(bare, "templating", TemplatingConfig) == \
        load_section(full, "templating", TemplatingConfig)
