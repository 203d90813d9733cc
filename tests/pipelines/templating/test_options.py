import random

from pipelines.templating.options import FLAN2021, OptionsFormat, sample_options_format


def test_flan2021_layout_is_fixed():
    assert FLAN2021.render("Is it?", ["yes", "no"]) == "Is it?\n\nOPTIONS:\n- yes\n- no"
    assert FLAN2021.target(1, "no") == "no"
    assert sample_options_format(random.Random(0), "flan2021") is FLAN2021


def test_enumerated_markers_turn_the_target_into_the_label():
    fmt = OptionsFormat(header="Choose from:", marker="(A)", ending=".", lead="\n")
    assert fmt.render("Q?", ["red", "green", "blue"]) == "Q?\nChoose from:\n(A) red.\n(B) green.\n(C) blue."
    assert fmt.target(2, "blue") == "(C)"


def test_roman_and_number_markers():
    roman = OptionsFormat(header="", marker="(i)", ending=";", lead="\n\n")
    assert roman.render("Q?", ["a", "b", "c", "d"]) == "Q?\n\n(i) a;\n(ii) b;\n(iii) c;\n(iv) d;"
    assert roman.target(3, "d") == "(iv)"
    assert OptionsFormat(header="", marker="1.", ending="", lead="\n").target(0, "a") == "1."


def test_symbol_markers_keep_the_answer_text():
    fmt = OptionsFormat(header="", marker="*", ending="", lead="\n")
    assert fmt.render("Q?", ["x", "y"]) == "Q?\n* x\n* y"
    assert fmt.target(1, "y") == "y"


def test_flan2022_is_seeded_and_varied():
    draw = lambda seed: sample_options_format(random.Random(seed), "flan2022")  # noqa: E731
    assert draw(3) == draw(3)
    assert len({draw(s) for s in range(50)}) > 20
    assert {draw(s).header for s in range(200)} >= {"", "OPTIONS:"}
