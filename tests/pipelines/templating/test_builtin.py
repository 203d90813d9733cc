import pytest

from pipelines.templating.config import LABELLED_TYPES, TASK_FIELDS
from pipelines.templating.templates import builtin_templates, cot_phrases

TYPES = sorted(TASK_FIELDS)


def _variables(task_type, positive=True):
    v = {f: f"<{f}>" for f in TASK_FIELDS[task_type]}
    if task_type in LABELLED_TYPES:
        v.update(answer="yes" if positive else "no", options=["yes", "no"], label="l")
        if task_type in ("nli", "paraphrase"):
            v["is_positive"] = positive
    else:
        v["answer"] = v.get("answer", v.get("summary"))
    return v


@pytest.mark.parametrize("task_type", TYPES)
def test_each_type_has_enough_templates_and_inversions(task_type):
    templates = builtin_templates(task_type)
    assert len([t for t in templates if not t.inverted]) >= 8
    assert len([t for t in templates if t.inverted]) >= 2
    assert len({t.id for t in templates}) == len(templates)


@pytest.mark.parametrize("task_type", TYPES)
def test_every_template_renders_and_inversions_target_input_fields(task_type):
    for positive in (True, False):
        variables = _variables(task_type, positive)
        for t in builtin_templates(task_type):
            if not t.applies(variables):
                continue
            prompt, target = t.render_pair(variables)
            assert prompt and target, t.id
            if t.inverted:
                assert target in {variables[f] for f in TASK_FIELDS[task_type]}, t.id
                assert target not in prompt, t.id
            else:
                assert target == variables["answer"], t.id
            assert t.options == (task_type in LABELLED_TYPES and not t.inverted)


def test_conditional_inversions_cover_both_label_sides():
    nli = builtin_templates("nli")
    pos, neg = _variables("nli", True), _variables("nli", False)
    assert any(t.inverted and t.applies(pos) for t in nli)
    assert any(t.inverted and t.applies(neg) for t in nli)


def test_chain_of_thought_phrases():
    phrases = cot_phrases()
    assert len(phrases.cues) >= 8 and len(phrases.answers) >= 6 and len(phrases.inverted) >= 3
    for fmt in phrases.answers:
        text = fmt.render_pair({"rationale": "Because R.", "answer": "X"})[1]
        assert text.startswith(("Because R.", "Reasoning: Because R.")) and "X" in text
