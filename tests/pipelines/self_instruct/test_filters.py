import pytest

from pipelines.self_instruct.config import ALPACA_EXTRA_BLACKLIST, SELF_INSTRUCT_BLACKLIST
from pipelines.self_instruct.filters import check_instruction, filter_instances
from pipelines.self_instruct.parse import Instance

RULES = {"blacklist": SELF_INSTRUCT_BLACKLIST + ALPACA_EXTRA_BLACKLIST, "min_words": 3,
         "max_words": 150, "bad_starts": ["Write a program"]}


@pytest.mark.parametrize("text,reason", [
    ("Name three birds.", "self_instruct_too_short"),
    ("word " * 151, "self_instruct_too_long"),
    ("Describe the picture on the wall.", "self_instruct_blacklisted_word"),
    ("Explain how to go to the station by bus.", "self_instruct_blacklisted_word"),
    ("Suggest some music for a rainy day.", "self_instruct_blacklisted_word"),
    ("Write a program that sorts a list of numbers.", "self_instruct_write_a_program"),
    ('"Quoted" tasks are not allowed here at all.', "self_instruct_starts_with_punctuation"),
    ("Écris une phrase sur la mer, s'il te plaît.", "self_instruct_non_ascii_start"),
])
def test_each_filter_has_its_reason(text, reason):
    assert check_instruction(text.strip(), **RULES)[0] == reason


def test_a_good_instruction_passes_and_blacklist_matches_whole_words():
    assert check_instruction("Summarise the following news story in two sentences.", **RULES) is None
    assert check_instruction("Explain what a mapping between two sets is.", **RULES) is None


def test_instance_rules():
    insts = [Instance("a", "a"), Instance("x", ""), Instance("Q:", "b"), Instance("k", "v"),
             Instance("k", "v"), Instance("m", "n"), Instance("cut", "off")]
    kept, dropped = filter_instances(insts, truncated=True, max_instances=1)
    assert kept == [Instance("k", "v")]
    assert [r for _, r, _ in dropped] == [
        "self_instruct_instance_truncated", "self_instruct_instance_input_equals_output",
        "self_instruct_instance_empty_output", "self_instruct_instance_ends_with_colon",
        "self_instruct_instance_duplicate", "self_instruct_instance_over_limit"]


def test_conflicting_outputs_drop_the_whole_task():
    kept, dropped = filter_instances([Instance("same", "yes"), Instance("same", "no"), Instance("o", "p")],
                                     truncated=False, max_instances=5)
    assert kept == [] and {r for _, r, _ in dropped} == {"self_instruct_instance_conflicting_outputs"}
