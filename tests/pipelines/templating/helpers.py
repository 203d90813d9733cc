"""Small literal task files for templating tests."""

import json

from pipelines.templating import read_task_rows, read_task_templates, render_templates

NLI_ROWS = [
    {"p": "The shop opens at nine.", "h": "The shop opens in the morning.", "y": "entailment"},
    {"p": "Tom has two cats.", "h": "Tom has no pets.", "y": "not_entailment"},
    {"p": "It rained all day in Leeds.", "h": "Leeds was wet.", "y": "entailment"},
    {"p": "The train left late.", "h": "The train was early.", "y": "not_entailment"},
    {"p": "Ana speaks four languages.", "h": "Ana speaks more than one language.", "y": "entailment"},
    {"p": "The lake froze in January.", "h": "The lake was warm in January.", "y": "not_entailment"},
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def nli_spec(path, **extra):
    return {"name": "nli", "type": "nli", "source": str(path), "fields": {"premise": "p", "hypothesis": "h"},
            "label_field": "y", "labels": {"entailment": "yes", "not_entailment": "no"},
            "positive_label": "entailment", **extra}


def render(config, **kw):
    """Read the configured task files as the flow does, then run the stage."""
    return render_templates(read_task_rows(config), config, templates=read_task_templates(config),
                            **kw)
