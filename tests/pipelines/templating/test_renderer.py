"""Rows render the same wherever they render: in this process, or from pickled tasks (what a
Ray worker receives)."""

import pickle

from pipelines.templating.config import TemplatingConfig
from pipelines.templating.render import render_rows

from .helpers import NLI_ROWS, nli_spec, render, write_jsonl


def unpickled(selected, config, measure, progress=None):
    """A renderer that renders a pickled copy of the selected tasks, like a remote worker."""
    return render_rows(pickle.loads(pickle.dumps(selected)), config, measure, progress)


def test_pickled_tasks_render_the_same_records(tmp_path):
    config = TemplatingConfig(tasks=[nli_spec(write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS))],
                              shots=[1, 2], templates_per_row=2)
    local = render(config)
    remote = render(config, renderer=unpickled)
    assert len(local.kept) > len(NLI_ROWS)  # several templates per row, few-shot ones too
    assert local.kept.to_list() == remote.kept.to_list()
    assert local.rejected.to_list() == remote.rejected.to_list()
