"""The counts table at 80 columns, recorded with rich's Console."""

import re

from rich.console import Console

from flows.counts_table import counts_table

# the longest names the stages produce: every reason is shown without its stage prefix
ROWS = [
    {"stage": "templating", "in": 80, "kept": 412, "rejected": 8,
     "rejected_by_reason": "template_no_label: 3, template_target_over_budget: 5",
     "in_unit": "rows", "kept_unit": "examples", "rejected_units": "3 rows + 5 examples",
     "balance": ["rows: 80 in = 77 rendered + 3 rejected",
                 "examples: 412 out from 77 rendered rows (5 more rejected: target over budget)"],
     "warnings": ["task sst2: label values look like numeric ids (0, 1) and no `labels` names "
                  "were given; the answers are the raw ids"],
     "out": "runs/demo/templating"},
    {"stage": "self_instruct", "in": 30, "kept": 14, "rejected": 57,
     "rejected_by_reason": "self_instruct_instance_conflicting_outputs: 10, "
                           "self_instruct_rouge_too_similar: 40, self_instruct_too_few_words: 7",
     "in_unit": "seed tasks", "kept_unit": "records", "rejected_units": "47 tasks + 10 instances",
     "balance": ["tasks: 52 candidates = 5 accepted + 47 rejected",
                 "instances: 24 written = 14 kept + 10 rejected (one record per kept instance)"],
     "warnings": [], "out": "runs/demo/self_instruct"},
    {"stage": "dedup", "in": 1030, "kept": 1014, "rejected": 16,
     "rejected_by_reason": "dedup_exact: 10, dedup_near: 6", "in_unit": "records",
     "kept_unit": "records", "rejected_units": "16 records",
     "balance": ["records: 1030 in = 1014 kept + 16 rejected"], "warnings": [],
     "out": "runs/demo/dedup"},
    {"stage": "preferences", "in": 30, "kept": 20, "rejected": 12,
     "rejected_by_reason": "preferences_below_margin: 10, preferences_too_few_responses: 2",
     "in_unit": "prompts", "kept_unit": "pairs", "rejected_units": "2 prompts + 10 pairs",
     "balance": ["prompts: 30 in = 20 with pairs + 2 too few answers + 8 whose every pair was "
                 "rejected", "pairs: 30 selected = 20 kept + 10 rejected"],
     "warnings": [], "out": "runs/demo/preferences"},
]
REASONS = ["no_label", "target_over_budget", "instance_conflicting_outputs", "rouge_too_similar",
           "too_few_words", "exact", "near", "below_margin", "too_few_responses"]


def render(rows, root, width=80) -> list[str]:
    console = Console(record=True, width=width, color_system=None)
    console.print(counts_table(rows, root))
    return console.export_text().splitlines()


def whole_word_lines(lines: list[str], word: str) -> list[str]:
    return [line for line in lines if re.search(rf"(^|\s){re.escape(word)}(\s|$)", line)]


def test_the_demo_table_fits_80_columns_without_breaking_a_name():
    lines = render(ROWS, "runs/demo")
    assert max(len(line) for line in lines) <= 80
    assert not any("…" in line for line in lines)
    for name in [r["stage"] for r in ROWS] + REASONS:
        assert whole_word_lines(lines, name), name


def test_reasons_stand_on_their_own_lines_with_their_counts():
    lines = render(ROWS, "runs/demo")
    (line,) = whole_word_lines(lines, "rouge_too_similar")
    assert line.split() == ["rouge_too_similar", "40"]
    (line,) = whole_word_lines(lines, "self_instruct")[:1]
    assert "30 seed tasks" in line and "14 records" in line


def test_folders_under_out_named_once_in_the_title():
    lines = render(ROWS, "runs/demo")
    assert "records per stage (folders runs/demo/<stage>/)" in lines[0]
    assert not any("folder" in line.split() for line in lines[1:4])


def test_a_folder_elsewhere_shows_the_folder_column_relative_to_out():
    rows = [ROWS[0], {**ROWS[3], "out": "runs/other/prefs"}]
    lines = render(rows, "runs/demo")
    assert max(len(line) for line in lines) <= 80
    assert whole_word_lines(lines, "templating/") and whole_word_lines(lines, "../other/prefs/")


def test_one_stage_names_its_folder_in_the_title():
    lines = render([{**ROWS[2], "out": "runs/x"}], "runs/x")
    assert "(folder runs/x/)" in lines[0]


def test_balance_per_unit_and_warnings_follow_the_table():
    text = "\n".join(render(ROWS, "runs/demo"))
    assert "templating  rows: 80 in = 77 rendered + 3 rejected" in text
    assert "self_instruct  tasks: 52 candidates = 5 accepted + 47 rejected" in text
    assert "warning: templating: task sst2: label values look like numeric ids" in text


def test_rows_without_units_still_render():
    """Summaries cached before units were recorded show bare counts."""
    old = {"stage": "judge", "in": 6, "kept": 4, "rejected": 2,
           "rejected_by_reason": "judge_below_threshold: 2", "out": "runs/demo/judge"}
    lines = render([old], "runs/demo/judge")
    assert whole_word_lines(lines, "below_threshold")
    assert any(line.split()[:4] == ["judge", "6", "4", "2"] for line in lines)
