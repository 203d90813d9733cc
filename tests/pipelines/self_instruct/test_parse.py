from pipelines.self_instruct.parse import (
    Instance,
    parse_alpaca,
    parse_instances,
    parse_numbered,
    parse_yes_no,
)


def test_numbered_list_with_preamble_and_varied_markers():
    text = "Sure! Here are more tasks:\n\n9. Name a bird.\n10) Sort these words\n   by length.\n11: Say hi."
    assert parse_numbered(text) == ["Name a bird.", "Sort these words by length.", "Say hi."]


def test_blank_line_closes_an_item_and_trailing_chatter_is_dropped():
    text = "1. First task here.\n\nI hope these are useful!\n2. Second task here."
    assert parse_numbered(text) == ["First task here.", "Second task here."]


def test_bold_numbers_and_restarted_numbering():
    assert parse_numbered("**9.** Plan a picnic menu.\n1. Write a limerick.") == \
        ["Plan a picnic menu.", "Write a limerick."]


def test_no_numbered_lines_gives_nothing():
    assert parse_numbered("I cannot help with that.") == []
    assert parse_numbered("") == []


def test_alpaca_blocks():
    text = ("###\n4. Instruction: Give a synonym for happy.\n4. Input:\n<noinput>\n4. Output:\nJoyful\n"
            "###\n5. Instruction: Reverse the word.\n5. Input:\nstar\n5. Output:\nrats\n###\n"
            "6. Instruction: An unfinished task\n6. Input:")
    tasks = parse_alpaca(text)
    assert [(t.instruction, t.input, t.output) for t in tasks] == [
        ("Give a synonym for happy.", "", "Joyful"), ("Reverse the word.", "star", "rats")]


def test_input_first_instances():
    text = ("Example 1\nInput: 3, 1, 2\nOutput: 1, 2, 3\nExample 2\nInput: <noinput>\n"
            "Output: nothing to sort\n\nTask: Something new the model made up")
    assert parse_instances(text, output_first=False) == [
        Instance("3, 1, 2", "1, 2, 3"), Instance("", "nothing to sort")]


def test_output_first_instances_and_multiline_fields():
    text = "Label: Positive\nInput: I loved it.\nIt was great.\nLabel: Negative\nInput: Awful."
    assert parse_instances(text, output_first=True) == [
        Instance("I loved it.\nIt was great.", "Positive"), Instance("Awful.", "Negative")]


def test_incomplete_instance_is_not_kept():
    assert parse_instances("Input: only an input", output_first=False) == []


def test_yes_no():
    assert parse_yes_no(" Yes.") is True and parse_yes_no("no, it is open-ended") is False
    assert parse_yes_no("Maybe") is None and parse_yes_no("") is None
