"""FLAN-style templating: raw task rows -> instruction examples (see `render`).

The stage renders records; reading the task files is `inputs`:

    records = read_task_rows(config)
    result = render_templates(records, config, templates=read_task_templates(config))
"""

from pipelines.templating.config import BudgetConfig, MixingConfig, TaskSpec, TemplatingConfig
from pipelines.templating.inputs import TASK_ROW_FEATURES, read_task_rows, read_task_templates
from pipelines.templating.render import render_templates

__all__ = ["TASK_ROW_FEATURES", "BudgetConfig", "MixingConfig", "TaskSpec", "TemplatingConfig",
           "read_task_rows", "read_task_templates", "render_templates"]
