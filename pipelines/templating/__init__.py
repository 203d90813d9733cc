"""FLAN-style templating: raw task rows -> instruction examples (see `render`)."""

from pipelines.templating.config import BudgetConfig, MixingConfig, TaskSpec, TemplatingConfig
from pipelines.templating.render import render_templates

__all__ = ["BudgetConfig", "MixingConfig", "TaskSpec", "TemplatingConfig", "render_templates"]
